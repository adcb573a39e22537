import Foundation
import WorkerPool

/// `pool-bench chunks`: the chunking lab. For one workload shape (or all), sweeps fixed chunk sizes
/// over powers of two and runs every strategy, on the same pool, in the same process run.
struct ChunksBench {
    let shapes: [Shape]
    let items: Int
    let workers: Int
    let repeats: Int
    let codecs: [TaskCodec]
    let python: PythonPeer?

    /// The strategies every sweep runs, by name.
    static let strategies: [ChunkingStrategy] = [
        .cpython, .guided(minimum: 1), .guided(minimum: 8), .adaptive(target: .milliseconds(1)), .adaptive(target: .microseconds(200)),
    ]

    /// Powers of two from 1 to `items / workers`.
    static func sweep(items: Int, workers: Int) -> [Int] {
        let top = max(1, items / max(workers, 1))
        return Array(sequence(first: 1) { $0 * 2 <= top ? $0 * 2 : nil })
    }

    func run(into report: Report) throws {
        let spinner = Spinner.calibrated
        for shape in shapes {
            let costs = shape.costs(items: items)
            let input = Array(0..<items)
            let body: @Sendable (Int) -> Int = shape == .cheap
                ? opaque({ $0 &* 2 })
                : opaque({ spinner.spin(nanoseconds: costs[$0], seed: $0) })
            for codec in codecs {
                let series = codecs.count > 1 ? "\(shape.rawValue) (\(codec))" : shape.rawValue
                let section = "chunks: \(shape.rawValue), \(items) items, \(codec) codec, \(workers) workers"
                report.status("chunks \(series): serial")
                report.add(Measurement(section: section, peer: "serial loop", items: items,
                                       timing: measure(repeats: repeats) { blackHole(input.map(body)) }, isSerial: true))
                let pool = try Pool(workers: workers, codec: codec)
                let heuristic = ChunkingStrategy.cpythonChunkSize(count: items, workers: workers)
                for size in Self.sweep(items: items, workers: workers) {
                    report.status("chunks \(series): chunksize \(size)")
                    let timing = try measure(repeats: repeats) { blackHole(try pool.map(input, chunksize: size, body)) }
                    report.add(Measurement(section: section, peer: "fixed(\(size))", items: items, timing: timing,
                                           x: Double(size), series: series))
                }
                for strategy in Self.strategies {
                    report.status("chunks \(series): \(strategy)")
                    let before = pool.statistics.chunksCompleted
                    let timing = try measure(repeats: repeats) { blackHole(try pool.map(input, chunking: strategy, body)) }
                    let chunks = Double(pool.statistics.chunksCompleted - before) / Double(repeats + 1)
                    let meanChunk = Double(items) / max(chunks, 1)
                    let isCPython = strategy.description == ChunkingStrategy.cpython.description
                    report.add(Measurement(section: section, peer: "\(strategy)", items: items, timing: timing,
                                           note: isCPython ? "chunksize \(heuristic)" : String(format: "%.0f chunks, %.1f items each on average", chunks, meanChunk),
                                           x: meanChunk, series: series, marker: isCPython ? "cpython" : "strategy"))
                }
                pool.close()
                try pool.join()
                report.addPython(python, section: section, ["chunks"] + shape.pythonArguments
                                 + ["--items", "\(items)", "--workers", "\(workers)", "--repeat", "\(repeats)"])
            }
        }
    }
}
