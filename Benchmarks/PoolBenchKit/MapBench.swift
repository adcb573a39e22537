import Dispatch
import Foundation
import WorkerPool

/// `pool-bench map`: map throughput per codec next to the other ways to spread a loop over cores,
/// and parallel efficiency on items that cost about 10 µs.
struct MapBench {
    let items: Int
    let efficiencyItems: Int
    let workers: Int
    let repeats: Int
    let codecs: [TaskCodec]
    let python: PythonPeer?

    func run(into report: Report) async throws {
        try await throughput(into: report)
        try await streamed(into: report)
        try await efficiency(into: report)
    }

    private func throughput(into report: Report) async throws {
        let items = self.items, workers = self.workers
        let input = Array(0..<items)
        let body: @Sendable (Int) -> Int = opaque({ $0 &* 2 })
        let chunksize = ChunkingStrategy.cpythonChunkSize(count: items, workers: workers)
        let chunks = stride(from: 0, to: items, by: chunksize).map { $0..<min($0 + chunksize, items) }
        let section = "map x*2 over \(items) Ints, CPython's heuristic chunksize (\(chunksize)); \(workers) workers"

        report.status("map: serial")
        report.add(Measurement(section: section, peer: "serial loop (same closure, called indirectly)", items: items, timing: measure(repeats: repeats) {
            blackHole(input.map(body))
        }, isSerial: true))
        report.add(Measurement(section: section, peer: "serial loop, inlined (input.map { $0 * 2 })", items: items, timing: measure(repeats: repeats) {
            blackHole(input.map { $0 &* 2 })
        }, note: "the compiler sees the body"))

        for codec in codecs {
            report.status("map: WorkerPool \(codec)")
            let pool = try Pool(workers: workers, codec: codec)
            report.add(Measurement(section: section, peer: "WorkerPool map (\(codec))", items: items, timing: try measure(repeats: repeats) {
                blackHole(try pool.map(input, body))
            }))
            pool.close()
            try await pool.joined()
        }

        report.status("map: concurrentPerform")
        report.add(Measurement(section: section, peer: "DispatchQueue.concurrentPerform over the chunks", items: items, timing: measure(repeats: repeats) {
            let out = SharedBuffer(count: items, repeating: 0)
            input.withUnsafeBufferPointer { source in
                let source = UnsafeSendableBuffer(buffer: source)
                DispatchQueue.concurrentPerform(iterations: chunks.count) { c in
                    for i in chunks[c] { out.pointer[i] = body(source.buffer[i]) }
                }
            }
            blackHole(out)
        }))

        report.status("map: TaskGroup")
        report.add(Measurement(section: section, peer: "TaskGroup over the chunks", items: items, timing: await measureAsync(repeats: repeats) {
            let parts = await withTaskGroup(of: (Int, [Int]).self) { group in
                for (c, range) in chunks.enumerated() {
                    group.addTask { (c, input[range].map(body)) }
                }
                var parts = [[Int]](repeating: [], count: chunks.count)
                for await (c, part) in group { parts[c] = part }
                return parts
            }
            blackHole(Array(parts.joined()))
        }))

        report.addPython(python, section: section, ["map", "--items", "\(items)", "--workers", "\(workers)", "--repeat", "\(repeats)"])
    }

    /// `imap` and `imapUnordered` read one result at a time, beside CPython's `imap` with the same
    /// chunksize: what a consumer pays per item for streaming instead of one `map`.
    private func streamed(into report: Report) async throws {
        let items = self.items, workers = self.workers
        let input = Array(0..<items)
        let body: @Sendable (Int) -> Int = opaque({ $0 &* 2 })
        let chunksize = 1_000
        let expected = input.reduce(0) { $0 &+ $1 &* 2 }
        let section = "imap x*2 over \(items) Ints, chunksize \(chunksize), each result read as it comes; \(workers) workers"

        report.status("imap: serial")
        report.add(Measurement(section: section, peer: "serial loop (same closure, called indirectly)", items: items, timing: measure(repeats: repeats) {
            var sum = 0
            for x in input { sum &+= body(x) }
            blackHole(sum)
        }, isSerial: true))

        /// Reads every result with the blocking `next()` and checks their sum.
        func drain(_ results: IMapIterator<Int>, _ call: String) throws {
            var sum = 0
            while let x = try results.next() { sum &+= x }
            precondition(sum == expected, "\(call) lost or changed a result")
            blackHole(sum)
        }

        // The binary codec and `.passthrough` only (unless asked for another): the slow codecs'
        // cost per item is the map section's, and here it would only hide the streaming's.
        let fast = codecs.filter { ["binary", "passthrough"].contains($0.description) }
        for codec in fast.isEmpty ? codecs : fast {
            report.status("imap: WorkerPool \(codec)")
            let pool = try Pool(workers: workers, codec: codec)
            report.add(Measurement(section: section, peer: "WorkerPool imap, next() (\(codec))", items: items, timing: try measure(repeats: repeats) {
                try drain(try pool.imap(input, chunksize: chunksize, body), "imap")
            }))
            report.add(Measurement(section: section, peer: "WorkerPool imap, for try await (\(codec))", items: items, timing: try await measureAsync(repeats: repeats) {
                var sum = 0
                for try await x in try pool.imap(input, chunksize: chunksize, body) { sum &+= x }
                precondition(sum == expected, "imap lost or changed a result")
                blackHole(sum)
            }))
            report.add(Measurement(section: section, peer: "WorkerPool imapUnordered, next() (\(codec))", items: items, timing: try measure(repeats: repeats) {
                try drain(try pool.imapUnordered(input, chunksize: chunksize, body), "imapUnordered")
            }))
            pool.close()
            try await pool.joined()
        }

        report.addPython(python, section: section, ["imap", "--items", "\(items)", "--chunksize", "\(chunksize)", "--workers", "\(workers)", "--repeat", "\(repeats)"])
    }

    private func efficiency(into report: Report) async throws {
        let items = efficiencyItems, workers = self.workers
        let spinner = Spinner.calibrated
        let input = Array(0..<items)
        let body: @Sendable (Int) -> Int = opaque({ spinner.spin(nanoseconds: 10_000, seed: $0) })
        let section = "parallel efficiency: \(items) items of about 10µs; \(workers) workers (efficiency = serial / (workers x time))"

        report.status("efficiency: serial")
        let serial = measure(repeats: repeats) { blackHole(input.map(body)) }
        report.add(Measurement(section: section, peer: "serial loop", items: items, timing: serial, isSerial: true))
        func efficiencyNote(_ timing: Timing) -> String {
            String(format: "efficiency %.1f %%", serial.median / (Double(workers) * timing.median) * 100)
        }
        for codec in [TaskCodec.binary, .passthrough] {
            report.status("efficiency: WorkerPool \(codec)")
            let pool = try Pool(workers: workers, codec: codec)
            let timing = try measure(repeats: repeats) { blackHole(try pool.map(input, body)) }
            report.add(Measurement(section: section, peer: "WorkerPool map (\(codec))", items: items, timing: timing, note: efficiencyNote(timing)))
            pool.close()
            try await pool.joined()
        }
        report.status("efficiency: concurrentPerform")
        let chunksize = ChunkingStrategy.cpythonChunkSize(count: items, workers: workers)
        let chunks = stride(from: 0, to: items, by: chunksize).map { $0..<min($0 + chunksize, items) }
        let dispatch = measure(repeats: repeats) {
            let out = SharedBuffer(count: items, repeating: 0)
            DispatchQueue.concurrentPerform(iterations: chunks.count) { c in
                for i in chunks[c] { out.pointer[i] = body(i) }
            }
            blackHole(out)
        }
        report.add(Measurement(section: section, peer: "DispatchQueue.concurrentPerform over the chunks", items: items, timing: dispatch, note: efficiencyNote(dispatch)))
        report.addPython(python, section: section, ["efficiency", "--items", "\(items)", "--workers", "\(workers)", "--repeat", "\(repeats)"])
    }
}

/// A read-only buffer handed to `concurrentPerform`'s iterations.
struct UnsafeSendableBuffer<Element>: @unchecked Sendable {  // read-only while shared
    let buffer: UnsafeBufferPointer<Element>
}
