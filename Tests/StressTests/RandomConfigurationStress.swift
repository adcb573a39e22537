import Dispatch
import Foundation
@testable import WorkerPool

// The randomized-configuration stress: each seed draws a pool's configuration and a mix of calls
// from threads and async tasks, ends the pool at a random moment (close, terminate, or releasing its
// last handle), and checks invariants with a watchdog. Single-feature tests all passed while ten
// combinations hung, trapped or lost results; this is how the next ones are found.

/// What one seed draws for the pool.
struct StressConfiguration: CustomStringConvertible {
    enum Chunking: CustomStringConvertible {
        case cpython, fixed(Int), guided(Int), adaptive(Duration), odd, hugeChunks

        var strategy: ChunkingStrategy {
            switch self {
            case .cpython: return .cpython
            case .fixed(let size): return .fixed(size)
            case .guided(let minimum): return .guided(minimum: minimum)
            case .adaptive(let target): return .adaptive(target: target)
            case .odd: return .custom(name: "odd") { _ in OddChunkSizer() }
            case .hugeChunks: return .fixed(Int.max)
            }
        }

        var description: String { strategy.description }
    }

    enum Initializer: CustomStringConvertible {
        case none, slow
        /// Throws on its `n`th call (a replacement worker's, when `n` > workers).
        case throwsOnCall(Int)

        var description: String {
            switch self {
            case .none: return "none"
            case .slow: return "slow"
            case .throwsOnCall(let n): return "throws on call \(n)"
            }
        }
    }

    enum Ending: CustomStringConvertible {
        case close, terminate, release
        var description: String {
            switch self {
            case .close: return "close"
            case .terminate: return "terminate"
            case .release: return "release"
            }
        }
    }

    var workers = 2
    var codec = TaskCodec.binary
    var chunking = Chunking.cpython
    var maxQueuedChunks: Int?
    var maxTasksPerWorker: Int?
    var callbackQueue = false
    var initializer = Initializer.none
    var ending = Ending.close
    /// The pool ends after this many operations in all.
    var endAfter = 0
    var threads = 3
    var tasks = 2
    var operationsPerCaller = 25

    init(random: inout StressRandom) {
        workers = Int.random(in: 1...4, using: &random)
        codec = [TaskCodec.binary, .json, .passthrough].randomElement(using: &random)!
        chunking = [.cpython, .fixed(Int.random(in: 1...9, using: &random)), .guided(Int.random(in: 1...20, using: &random)),
                    .adaptive(.microseconds(Int64.random(in: 20...2000, using: &random))), .odd, .hugeChunks].randomElement(using: &random)!
        maxQueuedChunks = [nil, 1, 2, 8].randomElement(using: &random)!
        maxTasksPerWorker = [nil, nil, 1, 3].randomElement(using: &random)!
        callbackQueue = Bool.random(using: &random)
        switch Int.random(in: 0..<10, using: &random) {
        case 0: initializer = .slow
        case 1: initializer = .throwsOnCall(Int.random(in: 1...6, using: &random))
        default: initializer = .none
        }
        ending = [.close, .terminate, .release].randomElement(using: &random)!
        threads = Int.random(in: 1...4, using: &random)
        tasks = Int.random(in: 0...3, using: &random)
        endAfter = Int.random(in: 1...((threads + tasks) * operationsPerCaller), using: &random)
    }

    var description: String {
        "workers \(workers), codec \(codec), chunking \(chunking), maxQueuedChunks \(maxQueuedChunks.map(String.init) ?? "-"), "
            + "maxTasksPerWorker \(maxTasksPerWorker.map(String.init) ?? "-"), callbackQueue \(callbackQueue ? "caller's" : "pool's"), "
            + "initializer \(initializer), \(threads) threads + \(tasks) tasks, \(ending) after \(endAfter) operations"
    }
}

/// A sizer of odd sizes: 1, 3, 5, ... 19, then again.
struct OddChunkSizer: ChunkSizer {
    private var next = 1
    mutating func nextChunkSize(remaining: Int?) -> Int {
        defer { next = next >= 19 ? 1 : next + 2 }
        return next
    }
}

/// A collection whose iteration ends before its `count` (a user's buggy type).
struct ShortCollection: Collection, Sendable {
    let base: [Int]
    let count: Int

    var startIndex: Int { 0 }
    var endIndex: Int { count }
    func index(after i: Int) -> Int { i + 1 }
    subscript(position: Int) -> Int { base[position % Swift.max(base.count, 1)] }
    func makeIterator() -> IndexingIterator<[Int]> { base.makeIterator() }
}

/// What happened to the pool during a run, for deciding which errors are documented outcomes.
struct StressEvents {
    var stopped = false
    var terminated = false
    var released = false
    var closed = false
}

/// One seed's run.
final class RandomStressRun: @unchecked Sendable {  // mutable state lives in LockedBoxes and thread-safe tallies; the rest is immutable
    let seed: UInt64
    let configuration: StressConfiguration
    private let holder: LockedBox<Pool?>
    private let core: PoolCore
    private let events = LockedBox.make(StressEvents())
    private let problems = Collected<String>()
    private let operations = Tally()
    private let items = Tally()
    private let callbackChecks = Collected<(String, CallbackCount)>()
    private let initializerCalls = Tally()
    private let callbackQueue: DispatchQueue?
    let resultTimeout: Duration

    init(seed: UInt64, resultTimeout: Duration = .seconds(60), adjust: (inout StressConfiguration) -> Void = { _ in }) throws {
        self.seed = seed
        self.resultTimeout = resultTimeout
        var random = StressRandom(seed: seed)
        var configuration = StressConfiguration(random: &random)
        adjust(&configuration)
        self.configuration = configuration
        let queue = configuration.callbackQueue ? DispatchQueue(label: "stress.callbacks") : nil
        queue?.setSpecific(key: stressCallbackQueueKey, value: 1)
        callbackQueue = queue
        let calls = initializerCalls
        let initializer: (@Sendable () throws -> Void)?
        switch configuration.initializer {
        case .none: initializer = nil
        case .slow: initializer = { usleep(2000) }  // models a slow start-up
        case .throwsOnCall(let n): initializer = { if calls.add() == n { throw PlantedError(operation: -1, item: n) } }
        }
        let pool = try Pool(workers: configuration.workers, maxTasksPerWorker: configuration.maxTasksPerWorker, codec: configuration.codec,
                            chunking: configuration.chunking.strategy, maxQueuedChunks: configuration.maxQueuedChunks,
                            callbackQueue: queue, initializer: initializer)
        core = pool.core
        holder = LockedBox.make(pool)
    }

    func problem(_ text: String) { problems.append(text) }

    private var happened: StressEvents { events.withLockedValue { $0 } }

    private var initializerThrows: Bool {
        if case .throwsOnCall = configuration.initializer { return true }
        return false
    }

    /// Runs the callers to the end, ends and joins the pool, and checks what is left.
    func run() -> StressReport {
        let start = Date()
        let finished = Tally()
        let allFinished = Event()
        let callers = configuration.threads + configuration.tasks
        let statisticsStop = Event()
        let scraperExited = Event()
        Thread.detachNewThread { [self] in
            // A metrics scraper: reads statistics at every moment of the run.
            while !statisticsStop.wait(timeout: .microseconds(200)) {
                let statistics = holder.withLockedValue { $0 }?.statistics ?? core.snapshot()
                if statistics.workersAlive < 0 || statistics.jobsInCache < 0 || statistics.chunksQueued < 0 {
                    problem("statistics out of range: \(statistics)")
                }
            }
            scraperExited.set()
        }
        for caller in 0..<configuration.threads {
            Thread.detachNewThread { [self] in
                var random = StressRandom(seed: seed &+ UInt64(caller + 1) &* 0x1000_0001)
                for step in 0..<configuration.operationsPerCaller {
                    runOperation(id: caller * 1000 + step, random: &random)
                }
                if finished.add() == callers { allFinished.set() }
            }
        }
        for task in 0..<configuration.tasks {
            Task.detached { [self] in
                var random = StressRandom(seed: seed &+ UInt64(task + 100) &* 0x1000_0001)
                for step in 0..<configuration.operationsPerCaller {
                    await runAsyncOperation(id: 100_000 + task * 1000 + step, random: &random)
                }
                if finished.add() == callers { allFinished.set() }
            }
        }
        if callers == 0 { allFinished.set() }
        if !allFinished.wait(timeout: resultTimeout * 3) {
            problem("the callers did not finish within \(resultTimeout * 3): a hang")
        }
        statisticsStop.set()
        // The scraper may hold a `Pool` handle for a moment while it reads: a pool "released" by
        // the run is released only when that handle goes too, so join() waits for the scraper to
        // stop (seed 18039 once joined while the scraper held the last handle: `.stillRunning`).
        if !scraperExited.wait(timeout: resultTimeout) { problem("the statistics scraper did not stop: a hang") }
        // The run ends the pool if no caller did (every caller may have finished first).
        endPool(configuration.ending == .terminate ? .terminate : .close)
        if !joinWithin(resultTimeout) { problem("join() did not return within \(resultTimeout)") }
        checkAfterJoin()
        return StressReport(operations: operations.value, refused: 0, items: items.value, terminated: happened.terminated,
                            problems: problems.values, statistics: core.snapshot(), seconds: Date().timeIntervalSince(start))
    }

    /// After a run that found problems (a planted defect): stops the pool for good and waits for its
    /// threads, so that the next run starts clean.
    func cleanUp() {
        core.terminate()
        _ = joinWithin(resultTimeout)
        _ = holder.withLockedValue { held -> Pool? in defer { held = nil }; return held }
        let deadline = ContinuousClock.now + .seconds(30)
        while WorkerThread.liveCount != 0 && ContinuousClock.now < deadline { Event().wait(timeout: .milliseconds(2)) }
    }

    private func joinWithin(_ timeout: Duration) -> Bool {
        let joined = Event()
        let core = self.core
        Thread.detachNewThread {
            do { try core.join() } catch { self.problem("join() threw \(error)") }
            joined.set()
        }
        return joined.wait(timeout: timeout)
    }

    private func checkAfterJoin() {
        let statistics = core.snapshot()
        if statistics.jobsInCache != 0 { problem("\(statistics.jobsInCache) jobs left in the cache after join") }
        if statistics.chunksQueued != 0 { problem("\(statistics.chunksQueued) chunks queued after join") }
        if statistics.workersAlive != 0 { problem("\(statistics.workersAlive) workers alive after join") }
        if statistics.itemsSubmitted != statistics.itemsCompleted + statistics.itemsFailed + statistics.itemsCancelled {
            problem("statistics do not add up after join: \(statistics)")
        }
        if core.channel.roomHeld != 0 { problem("\(core.channel.roomHeld) units of room held after join") }
        if core.channel.waitingForRoom != 0 { problem("\(core.channel.waitingForRoom) waiting for room after join") }
        for (what, count) in callbackChecks.values {
            let (successes, failures, offWorker, onQueue) = count.values
            if successes + failures != 1 { problem("\(what): \(successes) success and \(failures) error callbacks, expected exactly one") }
            if !offWorker { problem("\(what): a callback ran on a worker thread") }
            if callbackQueue != nil && !onQueue { problem("\(what): a callback ran off the caller's queue") }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while WorkerThread.liveCount != 0 && ContinuousClock.now < deadline { Event().wait(timeout: .milliseconds(2)) }
        if WorkerThread.liveCount != 0 { problem("\(WorkerThread.liveCount) pool threads left 30 s after join") }
    }

    // MARK: Ending the pool

    /// Counts an operation and ends the pool when its turn has come.
    private func countOperation() {
        if operations.add() == configuration.endAfter { endPool(configuration.ending) }
    }

    private func endPool(_ ending: StressConfiguration.Ending) {
        let first = events.withLockedValue { events -> Bool in
            defer { events.stopped = true }
            if ending == .terminate { events.terminated = true }
            if ending == .release { events.released = true }
            if ending == .close { events.closed = true }
            return !events.stopped || ending == .terminate
        }
        guard first || ending == .terminate else { return }
        switch ending {
        case .close: holder.withLockedValue { $0 }?.close()
        case .terminate: core.terminate()
        case .release: _ = holder.withLockedValue { held -> Pool? in defer { held = nil }; return held }
        }
    }

    // MARK: What an outcome may be

    /// Whether `error` is a documented outcome for an operation `id` (with planted failures at
    /// `planted`, `cancelled` by the caller, reading a short collection when `short`).
    private func isDocumented(_ error: any Error, id: Int, planted: Set<Int>, cancelled: Bool, short: Bool = false) -> Bool {
        let events = happened
        switch error {
        case let planted as PlantedError where planted.operation == -1:
            return false  // an initializer's error never reaches a result unwrapped
        case let error as PlantedError:
            return error.operation == id && planted.contains(error.item)
        case is CancellationError:
            return cancelled
        case let error as PoolError:
            switch error {
            case .notRunning: return events.stopped
            case .terminated: return events.terminated
            case .broken(let reason): return initializerThrows && reason.contains("PlantedError")
            case .invalidArgument(let message): return short && message.contains("iteration ended")
            case .timeout, .notReady, .stillRunning, .encodingFailed: return false
            }
        default:
            return false
        }
    }

    // MARK: Operations from threads

    /// What a submission left to check once the caller no longer holds the pool (so that a pool
    /// released meanwhile is released with this work in flight).
    private enum Pending {
        case none
        case apply(AsyncResult<Int>, cancelled: Bool)
        case map(MapResult<Int>, cancelled: Bool)
        case imap(IMapIterator<Int>, ordered: Bool, stopAt: Int, cancelAtStop: Bool, cutShortAllowed: Bool)
        case short(MapResult<Int>)
    }

    private func runOperation(id: Int, random: inout StressRandom) {
        let kind = Int.random(in: 0..<10, using: &random)
        let count = kind <= 1 || kind == 9 ? 1 : Int.random(in: 0...120, using: &random)
        let base = Int.random(in: -1_000_000...1_000_000, using: &random)
        var planted: Set<Int> = []
        if count > 0 && Int.random(in: 0..<5, using: &random) == 0 { planted.insert(Int.random(in: 0..<count, using: &random)) }
        let calls = CallCounts(max(count, 1))
        let plantedCopy = planted
        let body: @Sendable (Int) throws -> Int = { x in
            let index = x &- base
            calls.hit(index)
            if plantedCopy.contains(index) { throw PlantedError(operation: id, item: index) }
            return stressValue(x)
        }
        let input = (0..<count).map { base &+ $0 }
        let chunksize: Int? = Bool.random(using: &random) ? nil : Int.random(in: 1...12, using: &random)
        let withCallbacks = Bool.random(using: &random)
        let cancel = Int.random(in: 0..<4, using: &random) == 0
        let buffersize: Int? = Bool.random(using: &random) ? nil : Int.random(in: 1...4, using: &random)
        let consumer = Int.random(in: 0..<3, using: &random)
        let stopAt = consumer == 0 ? count : Int.random(in: 0...max(count, 0), using: &random)
        // Half the map and imap inputs are a collection that is not an array: read lazily, chunk
        // by chunk, by a loop compiled for its type (an honest count, unlike case 7's).
        let lazyInput = Bool.random(using: &random)
        let collection = ShortCollection(base: input, count: input.count)
        items.add(count)
        countOperation()
        // Submit while holding the pool; wait for results without it.
        let pending: Pending
        do {
            guard let pool = holder.withLockedValue({ $0 }) else { return }  // released: nobody holds the pool any more
            switch kind {
            case 0:  // applyAsync, maybe with callbacks, maybe cancelled
                let counter = CallbackCount(planted: planted, id: id, run: self)
                let result = withCallbacks
                    ? try pool.applyAsync(base, body, callback: counter.success, errorCallback: counter.failure)
                    : try pool.applyAsync(base, body)
                if withCallbacks { callbackChecks.append(("apply \(id)", counter)) }
                if cancel { result.cancel() }
                pending = .apply(result, cancelled: cancel)
            case 1:  // apply, blocking
                check(id, "apply", Result { [try pool.apply(base, body)] }, expected: [stressValue(base)], calls: calls, planted: planted, cancelled: false)
                pending = .none
            case 2:  // mapAsync, maybe with callbacks, maybe cancelled
                let counter = CallbackCount(planted: planted, id: id, run: self)
                let result = switch (withCallbacks, lazyInput) {
                case (true, false): try pool.mapAsync(input, chunksize: chunksize, body, callback: counter.successes, errorCallback: counter.failure)
                case (true, true): try pool.mapAsync(collection, chunksize: chunksize, body, callback: counter.successes, errorCallback: counter.failure)
                case (false, false): try pool.mapAsync(input, chunksize: chunksize, body)
                case (false, true): try pool.mapAsync(collection, chunksize: chunksize, body)
                }
                if withCallbacks { callbackChecks.append(("map \(id)", counter)) }
                if cancel { result.cancel() }
                pending = .map(result, cancelled: cancel)
            case 3:  // map, blocking
                check(id, "map", Result { lazyInput ? try pool.map(collection, chunksize: chunksize, body) : try pool.map(input, chunksize: chunksize, body) },
                      expected: input.map(stressValue),
                      calls: calls, planted: planted, cancelled: false)
                pending = .none
            case 4:  // starmap
                let pairs = input.map { ($0, 1) }
                pending = .map(try pool.starmapAsync(pairs, chunksize: chunksize) { x, one in try body(x * one) }, cancelled: false)
            case 5, 6:  // imap / imapUnordered with a consumer that reads all, stops early, or drops it
                let ordered = kind == 5
                let iterator = switch (ordered, lazyInput) {
                case (true, false): try pool.imap(input, chunksize: chunksize, buffersize: buffersize, body)
                case (true, true): try pool.imap(collection, chunksize: chunksize, buffersize: buffersize, body)
                case (false, false): try pool.imapUnordered(input, chunksize: chunksize, buffersize: buffersize, body)
                case (false, true): try pool.imapUnordered(collection, chunksize: chunksize, buffersize: buffersize, body)
                }
                pending = .imap(iterator, ordered: ordered, stopAt: stopAt, cancelAtStop: consumer == 1, cutShortAllowed: buffersize != nil)
            case 7:  // a collection that ends before its count
                pending = .short(try pool.mapAsync(ShortCollection(base: Array(input.prefix(count / 2)), count: count), chunksize: chunksize, body))
            case 8:  // statistics in the middle of everything
                let statistics = pool.statistics
                if statistics.itemsCompleted > statistics.itemsSubmitted { problem("statistics: more completed than submitted: \(statistics)") }
                pending = .none
            default:  // fire and forget: only the callback sees the outcome
                let counter = CallbackCount(planted: planted, id: id, run: self)
                _ = try pool.applyAsync(base, body, callback: counter.success, errorCallback: counter.failure)
                callbackChecks.append(("fire-and-forget apply \(id)", counter))
                pending = .none
            }
        } catch {
            if !isDocumented(error, id: id, planted: planted, cancelled: false) {
                problem("operation \(id) (kind \(kind)) could not be submitted: \(error)")
            }
            if calls.values.contains(where: { $0 != 0 }) && (error as? PoolError) != nil { problem("operation \(id) was refused, yet its bodies ran") }
            return
        }
        switch pending {
        case .none:
            break
        case .apply(let result, let cancelled):
            check(id, "apply", Result { try result.get(timeout: resultTimeout) }.map { [$0] }, expected: [stressValue(base)],
                  calls: calls, planted: planted, cancelled: cancelled)
        case .map(let result, let cancelled):
            check(id, "map", Result { try result.get(timeout: resultTimeout) }, expected: input.map(stressValue),
                  calls: calls, planted: planted, cancelled: cancelled)
        case .imap(let iterator, let ordered, let stopAt, let cancelAtStop, let cutShortAllowed):
            consume(id, iterator, ordered: ordered, input: input, calls: calls, planted: planted, stopAt: stopAt,
                    cancelAtStop: cancelAtStop, cutShortAllowed: cutShortAllowed)
        case .short(let result):
            switch Result(catching: { try result.get(timeout: resultTimeout) }) {
            case .success(let values):
                if count > 0 { problem("operation \(id): a short collection gave \(values.count) values") }
            case .failure(PoolError.timeout):
                problem("operation \(id) (short collection): no result within \(resultTimeout): lost or hung")
            case .failure(let error):
                if !isDocumented(error, id: id, planted: planted, cancelled: false, short: true) {
                    problem("operation \(id) (short collection) failed with \(error)")
                }
            }
            if calls.values.contains(where: { $0 > 1 }) { problem("operation \(id): an item was computed twice") }
        }
    }

    /// Whether an error a callback received is a documented outcome (callbacks report to the run).
    func callbackError(_ error: any Error, id: Int, planted: Set<Int>) {
        if !isDocumented(error, id: id, planted: planted, cancelled: true) { problem("operation \(id): an error callback got \(error)") }
    }

    /// Checks a map-like outcome against the serial answer and the items' call counts.
    private func check(_ id: Int, _ what: String, _ outcome: Result<[Int], any Error>, expected: [Int], calls: CallCounts,
                       planted: Set<Int>, cancelled: Bool) {
        let hits = calls.values.prefix(expected.count)
        if hits.contains(where: { $0 > 1 }) { problem("\(what) \(id): an item was computed \(hits.max()!) times") }
        switch outcome {
        case .success(let values):
            if !planted.isEmpty { problem("\(what) \(id) succeeded despite a planted failure") }
            if values != expected { problem("\(what) \(id): results differ from the serial answer") }
            if hits.contains(where: { $0 != 1 }) { problem("\(what) \(id) succeeded but an item did not run exactly once") }
        case .failure(let error):
            if (error as? PoolError) == .timeout { problem("\(what) \(id): no result within \(resultTimeout): lost or hung") }
            else if !isDocumented(error, id: id, planted: planted, cancelled: cancelled) { problem("\(what) \(id) failed with \(error)") }
        }
    }

    private func consume(_ id: Int, _ iterator: IMapIterator<Int>, ordered: Bool, input: [Int], calls: CallCounts, planted: Set<Int>,
                         stopAt: Int, cancelAtStop: Bool, cutShortAllowed: Bool) {
        var values: [Int] = []
        var failed: [Int] = []
        var position = 0
        var ended = false
        while position < stopAt {
            do {
                guard let value = try iterator.next(timeout: resultTimeout) else { ended = true; break }
                if ordered && value != stressValue(input[position]) { problem("imap \(id): position \(position) holds \(value)") }
                values.append(value)
            } catch let error as PlantedError {
                if error.operation != id || !planted.contains(error.item) { problem("imap \(id) got \(error)") }
                if ordered && error.item != position { problem("imap \(id): error of item \(error.item) at position \(position)") }
                failed.append(error.item)
            } catch PoolError.timeout {
                problem("imap \(id): nothing within \(resultTimeout) at position \(position) of \(input.count): lost or hung")
                iterator.cancel()
                return
            } catch let error as PoolError where error == .notRunning {
                if !(cutShortAllowed && happened.stopped) { problem("imap \(id): .notRunning without buffersize or close") }
                return
            } catch {
                if !isDocumented(error, id: id, planted: planted, cancelled: false) { problem("imap \(id) failed with \(error)") }
                return
            }
            position += 1
        }
        if calls.values.contains(where: { $0 > 1 }) { problem("imap \(id): an item was computed twice") }
        if stopAt < input.count {
            if cancelAtStop { iterator.cancel() }
            return  // a consumer that stopped early (or dropped the iterator, at the end of this scope)
        }
        if !ended {
            do {
                if let extra = try iterator.next(timeout: resultTimeout) { problem("imap \(id): an extra value \(extra) after the last item") }
            } catch let error as PoolError where error == .notRunning && cutShortAllowed && happened.stopped {
                return
            } catch {
                if !isDocumented(error, id: id, planted: planted, cancelled: false) { problem("imap \(id) ended with \(error)") }
                return
            }
        }
        let expected = input.enumerated().filter { !planted.contains($0.offset) }.map { stressValue($0.element) }
        if (ordered ? values : values.sorted()) != (ordered ? expected : expected.sorted()) {
            problem("imap \(id): \(values.count) values differ from the \(expected.count) expected")
        }
        if Set(failed) != planted { problem("imap \(id): errors at \(failed.sorted()), planted at \(planted.sorted())") }
    }

    // MARK: Operations from async tasks

    private func runAsyncOperation(id: Int, random: inout StressRandom) async {
        guard let pool = holder.withLockedValue({ $0 }) else {
            countOperation()
            return
        }
        let kind = Int.random(in: 0..<4, using: &random)
        let count = kind == 0 ? 1 : Int.random(in: 0...80, using: &random)
        let base = Int.random(in: -1_000_000...1_000_000, using: &random)
        let calls = CallCounts(max(count, 1))
        let body: @Sendable (Int) throws -> Int = { x in
            calls.hit(x &- base)
            return stressValue(x)
        }
        let input = (0..<count).map { base &+ $0 }
        let cancelAfter = Int.random(in: 0..<3, using: &random) == 0 ? Int.random(in: 0...30, using: &random) : nil
        items.add(count)
        countOperation()
        let request = Task { () -> [Int] in
            switch kind {
            case 0: return [try await pool.apply(base, body)]
            case 1: return try await pool.map(input, body)
            case 2: return try await pool.mapAsync(input, chunksize: 5, body).value
            default:
                var values: [Int] = []
                for try await value in try pool.imap(input, chunksize: 3, body) { values.append(value) }
                return values
            }
        }
        if let cancelAfter {
            for _ in 0..<cancelAfter { await Task.yield() }
            request.cancel()
        }
        let outcome = await request.result
        let expected = kind == 0 ? [stressValue(base)] : input.map(stressValue)
        check(id, "async \(kind)", outcome.mapError { $0 }, expected: expected, calls: calls, planted: [], cancelled: cancelAfter != nil)
    }
}

/// Marks a run's callback queue, so a callback can tell whether it runs there.
let stressCallbackQueueKey = DispatchSpecificKey<Int>()

/// Counts one result's callbacks, and where they ran; an error callback's error is checked by the run.
final class CallbackCount: @unchecked Sendable {  // state guarded by `box`; the rest is immutable
    private let box = LockedBox.make((successes: 0, failures: 0, offWorker: true, onQueue: true))
    private let planted: Set<Int>
    private let id: Int
    private weak var run: RandomStressRun?

    init(planted: Set<Int>, id: Int, run: RandomStressRun) {
        self.planted = planted
        self.id = id
        self.run = run
    }

    private func note(success: Bool) {
        let offWorker = Pool.currentWorkerID == nil
        let onQueue = DispatchQueue.getSpecific(key: stressCallbackQueueKey) == 1
        box.withLockedValue {
            if success { $0.successes += 1 } else { $0.failures += 1 }
            $0.offWorker = $0.offWorker && offWorker
            $0.onQueue = $0.onQueue && onQueue
        }
    }

    var success: @Sendable (Int) -> Void { { _ in self.note(success: true) } }
    var successes: @Sendable ([Int]) -> Void { { _ in self.note(success: true) } }
    var failure: @Sendable (any Error) -> Void {
        { error in
            self.run?.callbackError(error, id: self.id, planted: self.planted)
            self.note(success: false)
        }
    }
    var values: (Int, Int, Bool, Bool) { box.withLockedValue { ($0.successes, $0.failures, $0.offWorker, $0.onQueue) } }
}
