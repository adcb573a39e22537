import Dispatch
import Foundation
import WorkerPool

/// `pool-bench server`: a pool embedded in a server, under load. Many concurrent Swift tasks make
/// requests for a set time while a 1 ms ticker task measures how late the cooperative pool runs it
/// (a blocked cooperative thread shows as lag), and the process's resident memory and thread count
/// are sampled. Every mode ends with the pool's statistics balance checked, and a watchdog fails
/// the run (exit code 1) if it freezes.
///
/// Modes: `mixed` (await apply, map and imap), `cancel` (every request cancelled after 0-200 µs),
/// `bigmap` (tiny requests behind one big map, default and small chunks, unbounded and bounded),
/// `overload` (a bounded pool with 1,000 to 40,000 suspended submitters), `statistics` (the cost
/// of a `statistics` read with 1,000 and 100,000 jobs in the cache), or `all`.
struct ServerBench {
    enum Mode: String, CaseIterable {
        case mixed, cancel, bigmap, overload, statistics, all
    }

    let mode: Mode
    let tasks: Int
    let seconds: Double
    let workers: Int
    let tiny: Bool

    func run(into report: Report) async throws {
        let modes: [Mode] = mode == .all ? [.mixed, .cancel, .bigmap, .overload, .statistics] : [mode]
        let watchdog = Watchdog(limit: seconds * Double(modes.count) * 6 + 120, what: "pool-bench server \(mode.rawValue)")
        defer { watchdog.finish() }
        for mode in modes {
            switch mode {
            case .mixed: try await load(report, name: "mixed", cancel: false)
            case .cancel: try await load(report, name: "cancel", cancel: true)
            case .bigmap: try await bigMap(report)
            case .overload: try await overload(report)
            case .statistics: try statisticsCost(report)
            case .all: break
            }
        }
    }

    // MARK: Concurrent requests

    /// `tasks` concurrent tasks making requests for `seconds`; with `cancel`, each request is a task
    /// cancelled after a random 0-200 µs, as clients that go away.
    private func load(_ report: Report, name: String, cancel: Bool) async throws {
        let section = "server \(name): \(tasks) concurrent tasks for \(formatSeconds(seconds))"
            + (cancel ? ", each request cancelled after 0-200 µs" : ", await apply / map of 100 / imap of 50") + ", \(workers) workers"
        report.status("server: \(name)")
        let pool = try Pool(workers: workers)
        let monitor = Monitor(pool: pool)
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let started = now()
        let latencies = Samples(windowEnd: started + seconds)
        let outcomes = Tally()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await monitor.tickUntil(deadline) }
            for client in 0..<tasks {
                group.addTask {
                    var random = SystemRandomNumberGenerator()
                    var request = client
                    while ContinuousClock.now < deadline {
                        request &+= 1
                        let begin = now()
                        var counted = true
                        if cancel {
                            let id = request
                            let call = Task { _ = try? await pool.apply(id) { $0 &+ 1 } }
                            try? await Task.sleep(nanoseconds: UInt64.random(in: 0...200_000, using: &random))
                            call.cancel()
                            _ = await call.value
                            outcomes.add(1)
                        } else {
                            do {
                                switch Int.random(in: 0..<10, using: &random) {
                                case 0..<7: _ = try await pool.apply(request) { $0 &+ 1 }
                                case 7..<9: _ = try await pool.map(Array(0..<100), chunksize: 25) { $0 &+ 1 }
                                default:
                                    let stream = try pool.imap(Array(0..<50), chunksize: 10) { $0 &+ 1 }
                                    for try await _ in stream {}
                                }
                                outcomes.add(1)
                            } catch {
                                outcomes.failed(error)
                                counted = false
                            }
                        }
                        latencies.add(begin: begin, end: now(), counted: counted)
                    }
                }
            }
        }
        let elapsed = now() - started
        pool.close()
        try await pool.joined()
        try record(report, section: section, peer: cancel ? "cancelled request (start to end)" : "request", latencies: latencies,
                   count: outcomes.value, elapsed: elapsed, started: started, monitor: monitor, pool: pool, failures: outcomes.failures)
    }

    // MARK: Tiny requests behind a big map

    private func bigMap(_ report: Report) async throws {
        let items = tiny ? 400 : 8_000
        let itemCost = 0.0005  // 0.5 ms of work per item
        let spinner = Spinner.calibrated
        let section = "server bigmap: one map of \(items) items x 0.5 ms, a tiny await apply started every 20 ms, \(workers) workers"
        let configurations: [(String, Int?, Int?)] = [
            ("default chunking (cpython)", nil, nil), ("chunksize 4", 4, nil),
            ("chunksize 4, maxQueuedChunks \(64 * workers)", 4, 64 * workers),
        ]
        for (name, chunksize, bound) in configurations {
            report.status("server: bigmap, \(name)")
            let pool = try Pool(workers: workers, maxQueuedChunks: bound)
            let latencies = Samples()
            let monitor = Monitor(pool: pool)
            let begin = now()
            let big = Task {
                try await pool.map(Array(0..<items), chunksize: chunksize) { x in spinner.spin(nanoseconds: itemCost * 1e9, seed: x) }
            }
            let done = Event()
            let ticker = Task { await monitor.tickUntil(done) }
            let mapped = Task {
                let values = try await big.value
                done.set()
                return values.count
            }
            // One tiny request every 20 ms, each in its own task (clients do not wait for each other).
            var requests = 0
            await withTaskGroup(of: Void.self) { group in
                while !done.isSet {
                    let id = requests
                    group.addTask {
                        let start = now()
                        _ = try? await pool.apply(id) { $0 &+ 1 }
                        latencies.add(now() - start)
                    }
                    requests += 1
                    try? await Task.sleep(nanoseconds: 20_000_000)
                }
            }
            guard try await mapped.value == items else { throw BenchError.failed("\(section): the big map lost items") }
            await ticker.value
            let elapsed = now() - begin
            pool.close()
            try await pool.joined()
            try record(report, section: section, peer: "tiny request, \(name)", latencies: latencies, count: requests, elapsed: elapsed,
                       monitor: monitor, pool: pool, failures: [])
        }
    }

    // MARK: A bounded pool, overloaded

    private func overload(_ report: Report) async throws {
        let counts = tiny ? [100, 1_000] : [1_000, 5_000, 20_000, 40_000]
        let bound = 64 * workers
        let section = "server overload: maxQueuedChunks \(bound), N tasks awaiting apply in a loop for \(formatSeconds(seconds)), \(workers) workers"
        // The same load on an unbounded pool, for the cost of the tasks themselves.
        for (submitters, bounded) in counts.map({ ($0, true) }) + [(counts.last!, false)] {
            report.status("server: overload, \(submitters) submitters")
            let pool = try Pool(workers: workers, maxQueuedChunks: bounded ? bound : nil)
            let completed = Tally()
            let monitor = Monitor(pool: pool)
            let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
            let started = now()
            let latencies = Samples(windowEnd: started + seconds)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await monitor.tickUntil(deadline) }
                for client in 0..<submitters {
                    group.addTask {
                        var request = client
                        while ContinuousClock.now < deadline {
                            request &+= 1
                            let begin = now()
                            let succeeded = (try? await pool.apply(request, { $0 &+ 1 })) != nil
                            if succeeded { completed.add(1) }
                            latencies.add(begin: begin, end: now(), counted: succeeded)
                        }
                    }
                }
            }
            let elapsed = now() - started
            pool.close()
            try await pool.joined()
            try record(report, section: section, peer: "\(submitters) submitters" + (bounded ? "" : ", unbounded pool"), latencies: latencies,
                       count: completed.value,
                       elapsed: elapsed, started: started, monitor: monitor, pool: pool, failures: [])
        }
    }

    // MARK: What a statistics read costs

    private func statisticsCost(_ report: Report) throws {
        let section = "server statistics: one pool.statistics read, by jobs in the cache"
        for jobs in tiny ? [1_000] : [1_000, 100_000] {
            report.status("server: statistics with \(jobs) jobs")
            let pool = try Pool(workers: workers)
            let release = Event()
            let started = Tally()
            let blockers = try (0..<workers).map { _ in
                try pool.applyAsync(0) { (x: Int) -> Int in
                    started.add(1)
                    release.wait(timeout: .seconds(600))
                    return x
                }
            }
            while started.value < workers { Thread.sleep(forTimeInterval: 0.001) }
            let pending = try (0..<jobs).map { try pool.applyAsync($0) { $0 } }
            let reads = tiny ? 1_000 : 20_000
            var seconds: [Double] = []
            seconds.reserveCapacity(reads)
            // One field summed into a local: `blackHole` of the whole struct would box it (an
            // allocation) inside every timed read.
            var sum = 0
            for _ in 0..<reads {
                let begin = now()
                sum &+= pool.statistics.jobsInCache
                seconds.append(now() - begin)
            }
            blackHole(sum)
            let inCache = pool.statistics.jobsInCache
            release.set()
            for result in blockers + pending { _ = try result.get() }
            pool.close()
            try pool.join()
            report.add(Measurement(section: section, peer: "\(jobs) jobs in the cache", items: 1, timing: Timing(seconds: seconds),
                                   note: "p99 \(formatNanoseconds(percentile(seconds, 99) * 1e9)); \(inCache) jobs counted"))
        }
    }

    // MARK: Reporting

    /// Adds one row: latencies, throughput, ticker lag. With a window (`latencies` made with
    /// `windowEnd`, `started` its start), the throughput counts the requests that finished within
    /// it, divided by its length, and the note also gives the whole run's rate: the run ends only
    /// when the task group that holds the clients has finished, and with tens of thousands of
    /// children the Swift runtime spends seconds removing them (`TaskGroup::removeChildTask` walks
    /// a list of the live children), time in which no request runs.
    private func record(_ report: Report, section: String, peer: String, latencies: Samples, count: Int, elapsed: Double,
                        started: Double? = nil, monitor: Monitor, pool: Pool, failures: [String]) throws {
        let values = latencies.values
        guard !values.isEmpty else { throw BenchError.failed("\(section): no request completed") }
        let lag = monitor.lags
        let statistics = pool.statistics
        var rate = String(format: "%.0f req/s, ", Double(count) / elapsed)
        if let started, let window = latencies.window {
            rate = String(format: "%.0f req/s in the window", Double(window.finished) / (window.end - started))
                + String(format: " (%.0f req/s over the whole %.2f s run: last request done %.3f s,", Double(count) / elapsed, elapsed,
                         window.lastEnd - window.end)
                + String(format: " task group ended %.3f s after the window), ", started + elapsed - window.end)
        }
        report.add(Measurement(section: section, peer: peer, items: 1, timing: Timing(seconds: values),
                               note: rate
                                   + "p99 \(formatNanoseconds(percentile(values, 99) * 1e9)), max \(formatNanoseconds((values.max() ?? 0) * 1e9)); "
                                   + "ticker lag p99 \(formatNanoseconds(percentile(lag, 99) * 1e9)), max \(formatNanoseconds((lag.max() ?? 0) * 1e9))"))
        report.note("\(section) / \(peer): " + monitor.samplesDescription)
        let balanced = statistics.itemsSubmitted == statistics.itemsCompleted + statistics.itemsFailed + statistics.itemsCancelled
            && statistics.jobsInCache == 0 && statistics.chunksQueued == 0 && statistics.workersAlive == 0
        report.note("\(section) / \(peer): statistics after join: \(statistics)" + (balanced ? " (balanced)" : " (NOT BALANCED)"))
        if let failure = failures.first { report.note("\(section) / \(peer): \(failures.count) unexpected errors, first: \(failure)") }
        if !balanced { throw BenchError.failed("\(section) / \(peer): the statistics do not add up after join: \(statistics)") }
        if !failures.isEmpty { throw BenchError.failed("\(section) / \(peer): \(failures.count) requests failed: \(failures[0])") }
    }
}

/// A failed benchmark run (exit code 1).
enum BenchError: Error, CustomStringConvertible {
    case failed(String)
    var description: String {
        switch self {
        case .failed(let text): return text
        }
    }
}

/// Request latencies from many tasks; with a window end, also how many counted requests finished
/// by then and when the last one finished.
final class Samples: @unchecked Sendable {  // `storage`, `finishedInWindow` and `lastEnd` are guarded by `lock`
    private let lock = NSLock()
    private var storage: [Double] = []
    private let windowEnd: Double?
    private var finishedInWindow = 0
    private var lastEnd = 0.0

    init(windowEnd: Double? = nil) { self.windowEnd = windowEnd }

    func add(_ value: Double) {
        lock.lock()
        storage.append(value)
        lock.unlock()
    }

    /// A request that ran from `begin` to `end`; `counted` says whether it counts toward throughput.
    func add(begin: Double, end: Double, counted: Bool) {
        lock.lock()
        storage.append(end - begin)
        if counted, let windowEnd, end <= windowEnd { finishedInWindow += 1 }
        lastEnd = max(lastEnd, end)
        lock.unlock()
    }

    var values: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    /// The window's end, the counted requests that finished within it, and the last request's end.
    var window: (end: Double, finished: Int, lastEnd: Double)? {
        lock.lock()
        defer { lock.unlock() }
        return windowEnd.map { ($0, finishedInWindow, lastEnd) }
    }
}

/// A counter of requests, and the errors no request should see.
final class Tally: @unchecked Sendable {  // state guarded by `lock`
    private let lock = NSLock()
    private var count = 0
    private var errors: [String] = []
    func add(_ amount: Int) {
        lock.lock()
        count += amount
        lock.unlock()
    }
    func failed(_ error: any Error) {
        lock.lock()
        if errors.count < 100 { errors.append("\(error)") }
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
    var failures: [String] {
        lock.lock()
        defer { lock.unlock() }
        return errors
    }
}

/// The 1 ms ticker (how late the cooperative pool runs a task), and resident memory and threads
/// over time.
final class Monitor: @unchecked Sendable {  // state guarded by `lock`
    private let lock = NSLock()
    private var lagSeconds: [Double] = []
    private var samples: [(seconds: Double, residentMiB: Double, threads: Int, inCache: Int)] = []
    private let start = now()
    private let pool: Pool

    init(pool: Pool) { self.pool = pool }

    /// Ticks every millisecond until `deadline`, sampling memory and threads every 0.5 s.
    func tickUntil(_ deadline: ContinuousClock.Instant) async {
        await tick { ContinuousClock.now >= deadline }
    }

    /// Ticks until `done` is set.
    func tickUntil(_ done: Event) async {
        await tick { done.isSet }
    }

    private func tick(until finished: () -> Bool) async {
        var nextSample = 0.0
        while !finished() {
            let begin = now()
            try? await Task.sleep(nanoseconds: 1_000_000)
            let late = max(0, now() - begin - 0.001)
            let elapsed = now() - start
            let sample = elapsed >= nextSample
            if sample { nextSample += 0.5 }
            let statistics = sample ? pool.statistics : nil
            record(late: late, sample: statistics.map { (elapsed, Double(ProcessProbe.residentBytes()) / 1_048_576, ProcessProbe.threadCount(), $0.jobsInCache) })
        }
    }

    private func record(late: Double, sample: (Double, Double, Int, Int)?) {
        lock.lock()
        lagSeconds.append(late)
        if let sample { samples.append(sample) }
        lock.unlock()
    }

    var lags: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return lagSeconds
    }

    var samplesDescription: String {
        lock.lock()
        defer { lock.unlock() }
        let shown = samples.count <= 8 ? samples : stride(from: 0, to: samples.count, by: max(1, samples.count / 8)).map { samples[$0] }
        return "over time (s: RSS MiB, threads, jobs in cache) "
            + shown.map { String(format: "%.1f: %.0f, %d, %d", $0.seconds, $0.residentMiB, $0.threads, $0.inCache) }.joined(separator: "; ")
    }
}

/// Aborts the process if a run does not finish in time: a frozen pool must fail CI, not hang it.
final class Watchdog: @unchecked Sendable {  // `done` is an Event
    private let done = Event()

    init(limit: Double, what: String) {
        let done = self.done
        Thread.detachNewThread {
            if !done.wait(timeout: .milliseconds(Int64(limit * 1000))) {
                FileHandle.standardError.write(Data("\npool-bench: watchdog: \(what) did not finish within \(Int(limit)) s: frozen\n".utf8))
                exit(3)
            }
        }
    }

    func finish() { done.set() }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
}
