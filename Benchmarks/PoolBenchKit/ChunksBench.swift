import Foundation
import WorkerPool

/// `pool-bench chunks`: the chunking lab. For one workload shape (or all), sweeps fixed chunk sizes
/// over powers of two and runs every strategy, on the same pool, in the same process run.
///
/// The warm-up run of every size and strategy is traced (`ChunkTraceRecorder`): its breakdown
/// (bodies, codec, dispatch, idle, imbalance) goes into the table, the strategies' runs into the
/// timeline chart, and every traced run into the trace file. The timed runs are not traced. Every
/// run is timed in a quiet moment (`QuietMeasure`): a sample during which another process used a
/// core is taken again.
struct ChunksBench {
    let shapes: [Shape]
    let items: Int
    let workers: Int
    let repeats: Int
    let codecs: [TaskCodec]
    let python: PythonPeer?
    /// Whether to keep every traced run for `--trace` (otherwise only those the timeline draws).
    var keepTraces = false

    /// The strategies every sweep runs, by name.
    static let strategies: [ChunkingStrategy] = [
        .cpython, .guided(minimum: 1), .guided(minimum: 8), .adaptive(target: .milliseconds(1)), .adaptive(target: .microseconds(200)),
        .factoring(minimum: 1), .trapezoid(), .measuredFixed(probes: 8),
    ]

    /// Powers of two from 1 to `items / workers`.
    static func sweep(items: Int, workers: Int) -> [Int] {
        let top = max(1, items / max(workers, 1))
        return Array(sequence(first: 1) { $0 * 2 <= top ? $0 * 2 : nil })
    }

    /// What one section traced: the runs to draw (strategies and the best fixed size) and, for
    /// `--trace`, all of them.
    struct Traces {
        var section: String
        var timeline: [(name: String, job: ChunkTrace.Job)]
        var all: ChunkTrace
        /// The traced calls' times in seconds, one per job of `all`.
        var walls: [Double] = []
    }

    func run(into report: Report) throws -> [Traces] {
        let spinner = Spinner.calibrated
        let sweep = Self.sweep(items: items, workers: workers)
        report.expectSteps(shapes.count * codecs.count * (1 + sweep.count + Self.strategies.count))
        var traces: [Traces] = []
        for shape in shapes {
            let costs = shape.costs(items: items)
            let input = Array(0..<items)
            let body: @Sendable (Int) -> Int = shape == .cheap
                ? opaque({ $0 &* 2 })
                : opaque({ spinner.spin(nanoseconds: costs[$0], seed: $0) })
            for codec in codecs {
                let series = codecs.count > 1 ? "\(shape.rawValue) (\(codec))" : shape.rawValue
                let section = "chunks: \(shape.rawValue), \(items) items, \(codec) codec, \(workers) workers"
                report.step("chunks \(series): serial")
                report.add(Measurement(section: section, peer: "serial loop", items: items,
                                       timing: QuietMeasure.measure(repeats: repeats) { blackHole(input.map(body)) }, isSerial: true))
                let pool = try Pool(workers: workers, codec: codec)
                let heuristic = ChunkingStrategy.cpythonChunkSize(count: items, workers: workers)
                var traced = Traces(section: "\(shape.rawValue) (\(codec))", timeline: [], all: ChunkTrace(jobs: []))
                var fixedJobs: [(peer: String, job: ChunkTrace.Job, median: Double)] = []

                /// The traced warm-up, then the timed runs.
                func run(_ strategy: ChunkingStrategy) throws -> (Timing, ChunkTrace.Job) {
                    let (job, wall) = try QuietMeasure.once { () -> (ChunkTrace.Job, Double) in
                        let recorder = ChunkTraceRecorder()
                        let start = now()
                        blackHole(try pool.map(input, chunking: strategy.traced(by: recorder), body))
                        return (recorder.trace.jobs[0], now() - start)
                    }
                    let timing = try QuietMeasure.measure(repeats: repeats, warmup: false) {
                        blackHole(try pool.map(input, chunking: strategy, body))
                    }
                    if keepTraces {
                        traced.all.jobs.append(job)
                        traced.walls.append(wall)
                    }
                    return (timing, job)
                }

                for size in sweep {
                    report.step("chunks \(series): chunksize \(size)")
                    let (timing, job) = try run(.fixed(size))
                    report.add(Measurement(section: section, peer: "fixed(\(size))", items: items, timing: timing,
                                           x: Double(size), series: series, breakdown: Breakdown(job.breakdown)))
                    fixedJobs.append(("fixed(\(size))", job, timing.median))
                }
                if let best = fixedJobs.min(by: { $0.median < $1.median }) {
                    traced.timeline.append(("best fixed: \(best.peer)", best.job))
                }
                for strategy in Self.strategies {
                    report.step("chunks \(series): \(strategy)")
                    let (timing, job) = try run(strategy)
                    let breakdown = job.breakdown
                    let isCPython = strategy.description == ChunkingStrategy.cpython.description
                    report.add(Measurement(section: section, peer: "\(strategy)", items: items, timing: timing,
                                           note: isCPython ? "chunksize \(heuristic)"
                                               : String(format: "%d chunks, %.1f items each on average", breakdown.chunks, breakdown.meanChunk),
                                           x: breakdown.meanChunk, series: series, marker: isCPython ? "cpython" : "strategy",
                                           breakdown: Breakdown(breakdown)))
                    traced.timeline.append(("\(strategy)", job))
                }
                pool.close()
                try pool.join()
                traces.append(traced)
                report.addPython(python, section: section, ["chunks"] + shape.pythonArguments
                                 + ["--items", "\(items)", "--workers", "\(workers)", "--repeat", "\(repeats)"])
            }
        }
        return traces
    }
}
