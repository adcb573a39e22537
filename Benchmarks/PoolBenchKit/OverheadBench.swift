import Dispatch
import Foundation
import WorkerPool

/// `pool-bench overhead`: what one task costs the pool, next to the other ways to run it.
struct OverheadBench {
    let tasks: Int
    let latencySamples: Int
    let workers: Int
    let repeats: Int
    let python: PythonPeer?

    func run(into report: Report) async throws {
        let tasks = self.tasks
        let body: @Sendable (Int) -> Int = opaque({ $0 &* 2 })
        let section = "per-task overhead: \(tasks) trivial tasks (x*2), all submitted, then every result collected; \(workers) workers"

        report.status("overhead: serial loop")
        report.add(Measurement(section: section, peer: "serial loop (no threads)", items: tasks, timing: measure(repeats: repeats) {
            var sum = 0
            for i in 0..<tasks { sum &+= body(i) }
            blackHole(sum)
        }, isSerial: true))

        for codec in [TaskCodec.passthrough, .binary] {
            report.status("overhead: WorkerPool \(codec)")
            let pool = try Pool(workers: workers, codec: codec)
            report.add(Measurement(section: section, peer: "WorkerPool applyAsync+get (\(codec))", items: tasks, timing: try measure(repeats: repeats) {
                var results: [AsyncResult<Int>] = []
                results.reserveCapacity(tasks)
                for i in 0..<tasks { results.append(try pool.applyAsync(i, body)) }
                var sum = 0
                for result in results { sum &+= try result.get() }
                blackHole(sum)
            }))
            pool.close()
            try await pool.joined()
        }

        report.status("overhead: plain thread pool")
        let plain = PlainThreadPool(workers: workers)
        report.add(Measurement(section: section, peer: "plain mutex+condition thread pool", items: tasks, timing: measure(repeats: repeats) {
            var futures: [PlainThreadPool.Future<Int>] = []
            futures.reserveCapacity(tasks)
            for i in 0..<tasks { futures.append(plain.submit { body(i) }) }
            var sum = 0
            for future in futures { sum &+= future.get() }
            blackHole(sum)
        }, note: "one future (mutex+condition) per task"))
        plain.shutdown()

        report.status("overhead: DispatchQueue")
        report.add(Measurement(section: section, peer: "DispatchQueue.global().async + group", items: tasks, timing: measure(repeats: repeats) {
            let out = SharedBuffer(count: tasks, repeating: 0)
            let group = DispatchGroup()
            let queue = DispatchQueue.global()
            for i in 0..<tasks { queue.async(group: group) { out.pointer[i] = body(i) } }
            group.wait()
            blackHole(out)
        }))

        report.status("overhead: OperationQueue")
        report.add(Measurement(section: section, peer: "OperationQueue (maxConcurrent = workers)", items: tasks, timing: measure(repeats: repeats) {
            let out = SharedBuffer(count: tasks, repeating: 0)
            let queue = OperationQueue()
            queue.maxConcurrentOperationCount = workers
            for i in 0..<tasks { queue.addOperation { out.pointer[i] = body(i) } }
            queue.waitUntilAllOperationsAreFinished()
            blackHole(out)
        }))

        report.status("overhead: TaskGroup")
        report.add(Measurement(section: section, peer: "TaskGroup addTask", items: tasks, timing: await measureAsync(repeats: repeats) {
            let sum = await withTaskGroup(of: Int.self) { group in
                for i in 0..<tasks { group.addTask { body(i) } }
                return await group.reduce(0, &+)
            }
            blackHole(sum)
        }))

        report.addPython(python, section: section, ["overhead", "--tasks", "\(tasks)", "--workers", "\(workers)", "--repeat", "\(repeats)"])

        try breakdown(into: report, body: body)
        try lifetime(into: report)
        try await latencies(into: report, body: body)
    }

    /// Where one task's time goes, stage by stage, each measured alone over all the tasks: submitting
    /// while both workers are held (nothing runs yet), the workers taking, running and delivering
    /// them, collecting the ready results, and freeing them.
    private func breakdown(into report: Report, body: @escaping @Sendable (Int) -> Int) throws {
        let tasks = self.tasks
        for codec in [TaskCodec.passthrough, .binary] {
            let section = "per-task breakdown (\(codec)): \(tasks) tasks, each stage timed alone; \(workers) workers"
            report.status("overhead: breakdown \(codec)")
            let pool = try Pool(workers: workers, codec: codec)
            var stages: [String: [Double]] = [:]
            var runCPU: [Double] = []
            for _ in 0..<max(repeats, 1) {
                let gate = Event()
                let held = Tally()
                let blockers = try (0..<workers).map { _ in
                    try pool.applyAsync(0) { (x: Int) -> Int in
                        held.add(1)
                        gate.wait(timeout: .seconds(600))
                        return x
                    }
                }
                while held.value < workers { Thread.sleep(forTimeInterval: 0.0005) }
                var results: [AsyncResult<Int>] = []
                results.reserveCapacity(tasks)
                var start = now()
                for i in 0..<tasks { results.append(try pool.applyAsync(i, body)) }
                stages["1 submit (applyAsync, workers held)", default: []].append(now() - start)
                start = now()
                let cpuBefore = ProcessProbe.cpuTimes()
                gate.set()
                for result in blockers { _ = try result.get() }
                results.last?.wait()
                for result in results where !result.isReady { result.wait() }
                stages["2 run (take, decode, body, encode, deliver)", default: []].append(now() - start)
                // The submitting thread is parked meanwhile: the process's CPU time is the workers'.
                if let cpuBefore, let cpuAfter = ProcessProbe.cpuTimes() { runCPU.append(cpuAfter.process - cpuBefore.process) }
                start = now()
                var sum = 0
                for result in results { sum &+= try result.get() }
                blackHole(sum)
                stages["3 collect (get on ready results)", default: []].append(now() - start)
                start = now()
                results = []
                stages["4 free (the last reference goes)", default: []].append(now() - start)
            }
            pool.close()
            try pool.join()
            for name in stages.keys.sorted() {
                var note: String?
                if name.hasPrefix("2 "), !runCPU.isEmpty {
                    note = "wall time with \(workers) workers at once; CPU "
                        + formatNanoseconds(Timing(seconds: runCPU).median / Double(tasks) * 1e9) + " per task"
                }
                report.add(Measurement(section: section, peer: name, items: tasks, timing: Timing(seconds: stages[name]!), note: note))
            }
        }
        report.note("the breakdown's stages run one after another: stages 1, 3 and 4 on the submitting thread alone, stage 2 "
                    + "on every worker at once (its note gives the CPU time it took, the process's while the submitter is parked); "
                    + "the applyAsync+get row overlaps all of them")
    }

    /// A pool's whole life: start, one apply, close, join (p50 as the median, p90 in the note), next
    /// to CPython's ThreadPool and process Pool doing the same.
    private func lifetime(into report: Report) throws {
        let samples = max(20, min(200, tasks / 500))
        let section = "a pool's whole life: Pool(workers: \(workers)), one apply, close(), join(); \(samples) pools (median = p50)"
        report.status("overhead: pool lifetime")
        var seconds: [Double] = []
        for round in 0...samples {
            let start = now()
            let pool = try Pool(workers: workers)
            blackHole(try pool.apply(1) { $0 &+ 1 })
            pool.close()
            try pool.join()
            if round > 0 { seconds.append(now() - start) }  // the first is a warm-up
        }
        report.add(Measurement(section: section, peer: "WorkerPool (start, apply, close, join)", items: 1, timing: Timing(seconds: seconds),
                               note: "p90 \(formatNanoseconds(percentile(seconds, 90) * 1e9))"))
        try idleCost(into: report)
        guard let python else { return }
        report.status("CPython: lifetime")
        do {
            let (version, rows) = try python.run(["lifetime", "--samples", "\(max(20, samples / 2))", "--workers", "\(workers)"])
            for row in rows {
                report.add(Measurement(section: section, peer: row.peer, items: 1, timing: Timing(seconds: row.seconds),
                                       note: "p90 \(formatNanoseconds(percentile(row.seconds, 90) * 1e9)), CPython \(version)"))
            }
        } catch {
            report.note("CPython lifetime peer failed: \(error)")
        }
    }

    /// What an idle pool costs: the process's CPU time while a pool that has just run a burst of
    /// tasks sits idle (its workers should park after a short spin, and use nothing after).
    private func idleCost(into report: Report) throws {
        let idleSeconds = tasks >= 10_000 ? 2.0 : 0.2
        let pool = try Pool(workers: workers)
        let burst = try (0..<1_000).map { i in try pool.applyAsync(i) { $0 &+ 1 } }
        for result in burst { blackHole(try result.get()) }
        guard let before = ProcessProbe.cpuTimes() else {
            report.note("idle pool: this OS does not report the process's CPU time")
            pool.close()
            try pool.join()
            return
        }
        Thread.sleep(forTimeInterval: idleSeconds)
        let after = ProcessProbe.cpuTimes()!
        pool.close()
        try pool.join()
        let used = after.process - before.process
        report.note(String(format: "an idle pool (\(workers) workers, right after a burst of 1,000 tasks): %.1f ms of CPU in %.1f s, the whole process",
                           used * 1_000, idleSeconds))
    }

    /// Round trips one at a time: p50 as the median, p99 in the note.
    private func latencies(into report: Report, body: @escaping @Sendable (Int) -> Int) async throws {
        let samples = latencySamples
        let section = "round-trip latency: one task at a time, \(samples) samples (median = p50)"
        func add(_ peer: String, _ seconds: [Double], isSerial: Bool = false) {
            report.add(Measurement(section: section, peer: peer, items: 1, timing: Timing(seconds: seconds),
                                   note: "p99 \(formatNanoseconds(percentile(seconds, 99) * 1e9))", isSerial: isSerial))
        }
        func sample(_ body: () throws -> Void) rethrows -> [Double] {
            for _ in 0..<min(samples, 100) { try body() }  // warm-up
            return try (0..<samples).map { _ in
                let start = now()
                try body()
                return now() - start
            }
        }
        func sampleAsync(_ body: () async throws -> Void) async rethrows -> [Double] {
            for _ in 0..<min(samples, 100) { try await body() }
            var seconds: [Double] = []
            for _ in 0..<samples {
                let start = now()
                try await body()
                seconds.append(now() - start)
            }
            return seconds
        }

        report.status("latency: WorkerPool")
        let pool = try Pool(workers: workers, codec: .passthrough)
        add("WorkerPool apply (passthrough)", try sample { blackHole(try pool.apply(1, body)) })
        add("WorkerPool await apply (passthrough)", try await sampleAsync { blackHole(try await pool.apply(1, body)) })
        pool.close()
        try await pool.joined()

        let binaryPool = try Pool(workers: workers, codec: .binary)
        add("WorkerPool apply (binary)", try sample { blackHole(try binaryPool.apply(1, body)) })
        binaryPool.close()
        try await binaryPool.joined()

        report.status("latency: peers")
        let plain = PlainThreadPool(workers: workers)
        add("plain mutex+condition thread pool", sample { blackHole(plain.submit { body(1) }.get()) })
        plain.shutdown()
        add("DispatchQueue.global().async + semaphore", sample {
            let done = DispatchSemaphore(value: 0)
            let out = SharedBuffer(count: 1, repeating: 0)
            DispatchQueue.global().async { out.pointer[0] = body(1); done.signal() }
            done.wait()
            blackHole(out)
        })
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = workers
        add("OperationQueue + waitUntilFinished", sample {
            let operation = BlockOperation { blackHole(body(1)) }
            queue.addOperations([operation], waitUntilFinished: true)
        })
        add("await Task.detached { }.value (often runs on the awaiting thread: no wake-up)",
            await sampleAsync { blackHole(await Task.detached { body(1) }.value) })

        try await awaitedResults(into: report, body: body)
    }

    /// The async path in bulk: many results awaited, next to a TaskGroup doing the same work.
    private func awaitedResults(into report: Report, body: @escaping @Sendable (Int) -> Int) async throws {
        let tasks = self.tasks
        let section = "async path: \(tasks) tasks submitted, every result awaited"
        report.status("async: WorkerPool")
        let pool = try Pool(workers: workers, codec: .passthrough)
        report.add(Measurement(section: section, peer: "WorkerPool applyAsync + await value", items: tasks, timing: try await measureAsync(repeats: repeats) {
            var results: [AsyncResult<Int>] = []
            results.reserveCapacity(tasks)
            for i in 0..<tasks { results.append(try await pool.applyAsync(i, body)) }
            var sum = 0
            for result in results { sum &+= try await result.value }
            blackHole(sum)
        }))
        report.add(Measurement(section: section, peer: "WorkerPool await apply from a TaskGroup", items: tasks, timing: try await measureAsync(repeats: repeats) {
            let sum = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<tasks { group.addTask { try await pool.apply(i, body) } }
                return try await group.reduce(0, &+)
            }
            blackHole(sum)
        }))
        let window = min(1000, tasks)
        report.add(Measurement(section: section, peer: "WorkerPool await apply, TaskGroup of \(window) at a time", items: tasks, timing: try await measureAsync(repeats: repeats) {
            let sum = try await withThrowingTaskGroup(of: Int.self) { group in
                var next = 0
                func addChild() {
                    let i = next
                    group.addTask { try await pool.apply(i, body) }
                    next += 1
                }
                while next < window { addChild() }
                var sum = 0
                while let value = try await group.next() {
                    sum &+= value
                    if next < tasks { addChild() }
                }
                return sum
            }
            blackHole(sum)
        }))
        let input = Array(0..<tasks)
        report.add(Measurement(section: section, peer: "WorkerPool await map (one chunked job)", items: tasks, timing: try await measureAsync(repeats: repeats) {
            blackHole(try await pool.map(input, body).reduce(0, &+))
        }))
        report.add(Measurement(section: section, peer: "WorkerPool await map over a Range (read lazily)", items: tasks,
                               timing: try await measureAsync(repeats: repeats) {
            blackHole(try await pool.map(0..<tasks, body).reduce(0, &+))
        }))
        pool.close()
        try await pool.joined()
        report.status("async: TaskGroup")
        report.add(Measurement(section: section, peer: "TaskGroup addTask", items: tasks, timing: await measureAsync(repeats: repeats) {
            let sum = await withTaskGroup(of: Int.self) { group in
                for i in 0..<tasks { group.addTask { body(i) } }
                return await group.reduce(0, &+)
            }
            blackHole(sum)
        }))
    }
}
