import Foundation
@testable import WorkerPool

// The stress harness: submitter threads throw a random mix of work at one pool and a verifier
// checks every result against the serial answer and every item's call count. It returns the
// problems it found instead of failing by itself, so the suite can also prove that it catches
// planted bugs.

/// SplitMix64, seeded, so that a failing run can be replayed with `STRESS_SEED`.
struct StressRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seed of a run: `STRESS_SEED` from the environment, or the default.
func stressSeed(_ fallback: UInt64) -> UInt64 {
    ProcessInfo.processInfo.environment["STRESS_SEED"].flatMap { UInt64($0) } ?? fallback
}

/// How many seeds each mixed run goes through: `STRESS_ROUNDS` from the environment, or 1.
func stressRounds() -> Int {
    max(1, ProcessInfo.processInfo.environment["STRESS_ROUNDS"].flatMap { Int($0) } ?? 1)
}

/// The error a stress body throws on purpose: which operation, which item.
struct PlantedError: Error, Equatable {
    let operation: Int
    let item: Int
}

/// What every stress body computes (the serial answer).
@inline(__always)
func stressValue(_ x: Int) -> Int { x &* 31 &+ 7 }

/// Per-item call counts of one operation.
final class CallCounts: @unchecked Sendable {  // `counts` is guarded by `box`
    private let box: LockedBox<[Int]>
    init(_ count: Int) { box = LockedBox.make(Array(repeating: 0, count: count)) }
    func hit(_ index: Int) { box.withLockedValue { $0[index] += 1 } }
    var values: [Int] { box.withLockedValue { $0 } }
}

/// A thread-safe list.
final class Collected<Value: Sendable>: @unchecked Sendable {  // `values` is guarded by `box`
    private let box = LockedBox.make([Value]())
    func append(_ value: Value) { box.withLockedValue { $0.append(value) } }
    var values: [Value] { box.withLockedValue { $0 } }
    var count: Int { box.withLockedValue { $0.count } }
}

/// A thread-safe counter.
final class Tally: @unchecked Sendable {  // `value` is guarded by `box`
    private let box = LockedBox.make(0)
    @discardableResult
    func add(_ amount: Int = 1) -> Int { box.withLockedValue { $0 += amount; return $0 } }
    var value: Int { box.withLockedValue { $0 } }
}

struct StressOptions {
    var seed: UInt64
    var submitters = 8
    var operationsPerSubmitter = 150
    var maxItems = 300
    var workers = 3
    var maxTasksPerWorker: Int?
    var codec: TaskCodec = .binary
    /// Fire `terminate()` once this many operations have been submitted in all.
    var terminateAfterOperations: Int?
    /// Apply callbacks submit one more apply each to the same pool.
    var callbacksSubmit = false
    /// Which operations to draw from.
    var kinds: [StressKind] = StressKind.allCases
    /// How long any one result may take before it counts as lost.
    var resultTimeout: Duration = .seconds(120)
}

enum StressKind: CaseIterable {
    case apply, map, starmap, imap, imapUnordered
}

struct StressReport {
    var operations = 0
    var refused = 0
    var items = 0
    var terminated = false
    var problems: [String] = []
    var statistics = PoolStatistics()
    var seconds = 0.0

    var summary: String {
        "\(operations) operations (\(refused) refused), \(items) items, \(problems.count) problems, "
            + (terminated ? "terminated, " : "") + String(format: "%.1fs", seconds)
    }
}

/// One stress run against one pool.
final class StressRun: @unchecked Sendable {  // counters are thread-safe; `options` is immutable
    let options: StressOptions
    let pool: Pool
    private let problems = Collected<String>()
    private let operations = Tally()
    private let refused = Tally()
    private let items = Tally()
    private let nestedResults = Collected<(Int, AsyncResult<Int>)>()
    private let terminated = LockedBox.make(false)

    init(_ options: StressOptions) throws {
        self.options = options
        pool = try Pool(workers: options.workers, maxTasksPerWorker: options.maxTasksPerWorker, codec: options.codec)
    }

    func problem(_ text: String) { problems.append(text) }

    /// Runs the submitters to the end, shuts the pool down, verifies what is left.
    func run() -> StressReport {
        let start = Date()
        let finished = Tally()
        let allFinished = Event()
        for submitter in 0..<options.submitters {
            let thread = Thread { [self] in
                var random = StressRandom(seed: options.seed &+ UInt64(submitter) &* 0x1000_0001)
                for step in 0..<options.operationsPerSubmitter {
                    runOperation(id: submitter * 100_000 + step, random: &random)
                }
                if finished.add() == options.submitters { allFinished.set() }
            }
            thread.start()
        }
        if !allFinished.wait(timeout: options.resultTimeout * 4) {
            problem("the submitters did not finish: a hang")
        }
        for (x, result) in nestedResults.values {
            switch waitFor(result) {
            case .success(let value) where value == stressValue(x): break
            case .failure(let error as PoolError) where error == .terminated || error == .notRunning: break
            case let other: problem("nested apply of \(x) gave \(other)")
            }
        }
        pool.close()
        if !joinWithin(options.resultTimeout) { problem("join() did not return") }
        let statistics = pool.statistics
        if statistics.jobsInCache != 0 { problem("\(statistics.jobsInCache) jobs left in the cache") }
        if statistics.workersAlive != 0 { problem("\(statistics.workersAlive) workers alive after join") }
        if statistics.itemsCompleted + statistics.itemsFailed + statistics.itemsCancelled != statistics.itemsSubmitted {
            problem("statistics do not add up: \(statistics)")
        }
        return StressReport(operations: operations.value, refused: refused.value, items: items.value,
                            terminated: terminated.withLockedValue { $0 }, problems: problems.values,
                            statistics: statistics, seconds: Date().timeIntervalSince(start))
    }

    private func joinWithin(_ timeout: Duration) -> Bool {
        let joined = Event()
        let pool = self.pool
        Thread.detachNewThread {
            try? pool.join()
            joined.set()
        }
        return joined.wait(timeout: timeout)
    }

    private func waitFor<V>(_ result: AsyncResult<V>) -> Result<V, any Error> {
        do {
            return .success(try result.get(timeout: options.resultTimeout))
        } catch PoolError.timeout {
            problem("a result did not arrive within \(options.resultTimeout): lost")
            return .failure(PoolError.timeout)
        } catch {
            return .failure(error)
        }
    }

    private var wasTerminated: Bool { terminated.withLockedValue { $0 } }

    /// Counts the operation, and fires `terminate()` when its turn has come.
    private func countOperation() {
        let count = operations.add()
        if let limit = options.terminateAfterOperations, count == limit {
            terminated.withLockedValue { $0 = true }
            pool.terminate()
        }
    }

    // MARK: Operations

    private func runOperation(id: Int, random: inout StressRandom) {
        let kind = options.kinds.randomElement(using: &random)!
        let count = kind == .apply ? 1 : Int.random(in: 0...options.maxItems, using: &random)
        let chunksize: Int? = Bool.random(using: &random) ? nil : Int.random(in: 1...40, using: &random)
        // Most operations succeed; some have one planted failure (imap: a few).
        var throwing: Set<Int> = []
        if count > 0 && Int.random(in: 0..<4, using: &random) == 0 {
            let failures = kind == .imap || kind == .imapUnordered ? Int.random(in: 1...3, using: &random) : 1
            for _ in 0..<failures { throwing.insert(Int.random(in: 0..<count, using: &random)) }
        }
        let base = Int.random(in: -1_000_000...1_000_000, using: &random)
        items.add(count)
        countOperation()
        let calls = CallCounts(count)
        let planted = throwing
        let body: @Sendable (Int) throws -> Int = { x in
            let index = x - base
            calls.hit(index)
            if planted.contains(index) { throw PlantedError(operation: id, item: index) }
            return stressValue(x)
        }
        let input = (0..<count).map { base + $0 }
        do {
            switch kind {
            case .apply:
                var callback: (@Sendable (Int) -> Void)?
                if options.callbacksSubmit {
                    let pool = self.pool, nestedResults = self.nestedResults
                    callback = { _ in
                        // A callback that submits more work to the same pool must not deadlock it.
                        if let nested = try? pool.applyAsync(base + 1, { stressValue($0) }) {
                            nestedResults.append((base + 1, nested))
                        }
                    }
                }
                let result = try pool.applyAsync(base, body, callback: callback)
                verifyApply(id, result, calls: calls, planted: planted, x: base)
            case .map:
                let result = try pool.mapAsync(input, chunksize: chunksize, body)
                verifyMap(id, kind, result, calls: calls, planted: planted, count: count, input: input)
            case .starmap:
                let pairs = input.map { ($0, 1) }
                let result = try pool.starmapAsync(pairs, chunksize: chunksize) { x, one in try body(x * one) }
                verifyMap(id, kind, result, calls: calls, planted: planted, count: count, input: input)
            case .imap, .imapUnordered:
                let ordered = kind == .imap
                let iterator = ordered
                    ? try pool.imap(input, chunksize: chunksize, buffersize: Int.random(in: 1...4, using: &random), body)
                    : try pool.imapUnordered(input, chunksize: chunksize, body)
                verifyIMap(id, ordered: ordered, iterator, calls: calls, planted: planted, count: count, input: input)
            }
        } catch {
            if error as? PoolError == .notRunning && wasTerminated {
                refused.add()
                verifyNeverRan(id, calls)
            } else {
                problem("operation \(id) (\(kind)) could not be submitted: \(error)")
            }
        }
    }

    private func verifyNeverRan(_ id: Int, _ calls: CallCounts) {
        if calls.values.contains(where: { $0 != 0 }) { problem("operation \(id) was refused, yet its bodies ran") }
    }

    private func verifyApply(_ id: Int, _ result: AsyncResult<Int>, calls: CallCounts, planted: Set<Int>, x: Int) {
        let outcome = waitFor(result)
        let hits = calls.values[0]
        if hits > 1 { problem("apply \(id) ran \(hits) times") }
        switch outcome {
        case .success(let value):
            if !planted.isEmpty { problem("apply \(id) succeeded despite a planted failure") }
            if value != stressValue(x) { problem("apply \(id) gave \(value), expected \(stressValue(x))") }
            if hits != 1 { problem("apply \(id) succeeded but ran \(hits) times") }
        case .failure(let error as PlantedError):
            if error != PlantedError(operation: id, item: 0) { problem("apply \(id) got another job's error \(error)") }
        case .failure(let error as PoolError) where (error == .terminated && wasTerminated) || error == .timeout:
            break
        case .failure(let error):
            problem("apply \(id) failed with \(error)")
        }
    }

    private func verifyMap(_ id: Int, _ kind: StressKind, _ result: AsyncResult<[Int]>, calls: CallCounts, planted: Set<Int>, count: Int, input: [Int]) {
        let outcome = waitFor(result)
        let hits = calls.values
        if hits.contains(where: { $0 > 1 }) {
            problem("operation \(id) (\(kind)): an item was computed \(hits.max()!) times")
        }
        switch outcome {
        case .success(let values):
            if !planted.isEmpty { problem("operation \(id) (\(kind)) succeeded despite a planted failure") }
            if values != input.map(stressValue) { problem("operation \(id) (\(kind)): results differ from the serial map") }
            if hits.contains(where: { $0 != 1 }) { problem("operation \(id) (\(kind)): an item was not computed exactly once") }
        case .failure(let error as PlantedError):
            if error.operation != id || !planted.contains(error.item) {
                problem("operation \(id) (\(kind)) got another job's error \(error)")
            } else if hits[error.item] != 1 {
                problem("operation \(id) (\(kind)): the failing item ran \(hits[error.item]) times")
            }
        case .failure(let error as PoolError) where error == .terminated && wasTerminated:
            break
        case .failure(let error as PoolError) where error == .timeout:
            break  // already reported as lost
        case .failure(let error):
            problem("operation \(id) (\(kind)) failed with \(error)")
        }
    }

    private func verifyIMap(_ id: Int, ordered: Bool, _ iterator: IMapIterator<Int>, calls: CallCounts, planted: Set<Int>, count: Int, input: [Int]) {
        var values: [Int] = []
        var failedItems: [Int] = []
        var position = 0
        loop: while true {
            do {
                guard let value = try iterator.next(timeout: options.resultTimeout) else { break }
                values.append(value)
                if ordered && value != stressValue(input[position]) {
                    problem("imap \(id): position \(position) holds \(value)")
                }
            } catch let error as PlantedError {
                if error.operation != id { problem("imap \(id) got another job's error \(error)") }
                if ordered && error.item != position { problem("imap \(id): error of item \(error.item) at position \(position)") }
                failedItems.append(error.item)
            } catch PoolError.timeout {
                problem("imap \(id): no result within \(options.resultTimeout) at position \(position) of \(count): lost")
                iterator.cancel()
                return
            } catch let error as PoolError where error == .terminated && wasTerminated {
                break loop
            } catch {
                problem("imap \(id) failed with \(error)")
                break loop
            }
            position += 1
        }
        let hits = calls.values
        if hits.contains(where: { $0 > 1 }) { problem("imap \(id): an item was computed \(hits.max()!) times") }
        if wasTerminated && position < count { return }  // cut short by terminate(): a checked prefix
        if Set(failedItems) != planted || failedItems.count != planted.count {
            problem("imap \(id): errors at \(failedItems.sorted()), planted at \(planted.sorted())")
        }
        let expected = input.enumerated().filter { !planted.contains($0.offset) }.map { stressValue($0.element) }
        if (ordered ? values : values.sorted()) != (ordered ? expected : expected.sorted()) {
            problem("imap \(id): \(values.count) values differ from the \(expected.count) expected")
        }
        if hits.contains(where: { $0 != 1 }) { problem("imap \(id): an item was not computed exactly once") }
    }
}

