import Foundation
import XCTest
@testable import WorkerPool

/// An error for bodies to throw.
enum TestError: Error, Equatable {
    case boom(Int)
}

/// A thread-safe counter for "computed exactly once" checks.
final class Counter: @unchecked Sendable {  // `value` is guarded by `box`
    private let box = LockedBox.make(0)
    @discardableResult
    func increment(by amount: Int = 1) -> Int { box.withLockedValue { $0 += amount; return $0 } }
    var value: Int { box.withLockedValue { $0 } }
}

/// Records values from many threads.
final class Recorder<Value: Sendable>: @unchecked Sendable {  // `values` is guarded by `box`
    private let box = LockedBox.make([Value]())
    func append(_ value: Value) { box.withLockedValue { $0.append(value) } }
    var values: [Value] { box.withLockedValue { $0 } }
}

/// Counts how many callers are inside at once and remembers the highest count.
final class ConcurrencyProbe: @unchecked Sendable {  // state guarded by `box`
    private let box = LockedBox.make((now: 0, peak: 0))
    func enter() { box.withLockedValue { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
    func leave() { box.withLockedValue { $0.now -= 1 } }
    var peak: Int { box.withLockedValue { $0.peak } }
}

/// A sequence that counts how many items were read from it; endless when `limit` is nil.
struct CountingSequence: Sequence, Sendable {
    let counter: Counter
    let limit: Int?

    struct Iterator: IteratorProtocol {
        let counter: Counter
        let limit: Int?
        var position = 0
        mutating func next() -> Int? {
            if let limit, position >= limit { return nil }
            defer { position += 1 }
            counter.increment()
            return position
        }
    }

    func makeIterator() -> Iterator { Iterator(counter: counter, limit: limit) }
}

/// The pools' worker threads that are running now, in the whole process (`WorkerThread.liveCount`:
/// not a count by name, which would include threads that a worker's code started).
func poolThreadCount() -> Int { WorkerThread.liveCount }

/// Every thread's name, for a failure message.
func threadNames() -> [String] { ProcessProbe.threadNames() }

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsPoolError<T>(_ expected: PoolError, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? PoolError, expected, "threw \(error)", file: file, line: line)
    }
}

/// Asserts that `body` throws `.invalidArgument` whose message names `argument`.
func XCTAssertInvalidArgument<T>(_ argument: String, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard case .invalidArgument(let message)? = error as? PoolError else {
            return XCTFail("expected invalidArgument naming \(argument), got \(error)", file: file, line: line)
        }
        XCTAssertTrue(message.contains(argument), "message \"\(message)\" does not name \(argument)", file: file, line: line)
    }
}

/// Whether `error` is `.encodingFailed`.
func isEncodingFailure(_ error: any Error) -> Bool {
    if case .encodingFailed? = error as? PoolError { return true }
    return false
}

/// Polls `condition` until it holds or `timeout` passes (for facts no event reports, such as a
/// thread leaving the process). Returns whether it held.
func pollUntil(timeout: Duration = generous, _ condition: () -> Bool) -> Bool {
    let pause = Event()
    let start = ContinuousClock.now
    while !condition() {
        if ContinuousClock.now - start > timeout { return false }
        pause.wait(timeout: .milliseconds(2))
    }
    return true
}

/// A generous bound for "this should be prompt" on a small shared machine.
let generous: Duration = .seconds(30)

/// Waits for `event` on a thread of its own, for async tests: `Event.wait` would block a thread of
/// Swift's cooperative pool.
func awaitEvent(_ event: Event, timeout: Duration = generous) async -> Bool {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            let fired = event.wait(timeout: timeout)
            ThreadSanitizer.resumeHidingAccesses { continuation.resume(returning: fired) }
        }
    }
}

/// The base of the pool tests: after every test, no pool of the process may hold a job in its cache
/// (a job left there is a result that was never delivered). Results are removed from the cache by
/// the result path, so the check waits on that, up to `generous`.
class PoolTestCase: XCTestCase {
    override func tearDown() {
        #if DEBUG  // the audit exists in debug builds only
        let left = JobCacheAudit.waitUntilEmpty(timeout: generous)
        XCTAssertEqual(left, 0, "\(left) jobs were left in a pool's job cache after the test")
        #endif
        super.tearDown()
    }
}
