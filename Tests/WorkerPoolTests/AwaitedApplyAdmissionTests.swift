import Foundation
import XCTest
@testable import WorkerPool

/// `await pool.apply` in a full bounded pool: the calling task suspends in the admission line until
/// room frees, then submits and awaits its result. Tested with what can happen to it there: its
/// turn, cancellation, `close()`, `terminate()`, and `statistics` read meanwhile.
final class AwaitedApplyAdmissionTests: PoolTestCase {
    /// A pool of one worker and room for one entry, with the worker held busy and the room taken:
    /// every later submission waits in line until `release` is set.
    private func fullPool() async throws -> (Pool, release: Event) {
        let pool = try Pool(workers: 1, maxQueuedChunks: 1)
        let release = Event()
        let running = Event()
        _ = try await pool.applyAsync(-1) { (x: Int) -> Int in running.set(); release.wait(timeout: generous); return x }
        let started = await awaitEvent(running)
        XCTAssertTrue(started)
        _ = try await pool.applyAsync(-2) { $0 }
        return (pool, release)
    }

    /// Starts `count` awaited applies one after another, each in line before the next starts.
    private func lineUp(_ count: Int, on pool: Pool, order: Recorder<Int>) async -> [Task<Int, any Error>] {
        var requests: [Task<Int, any Error>] = []
        for i in 0..<count {
            requests.append(Task { try await pool.apply(i) { (x: Int) -> Int in order.append(x); return x * 10 } })
            XCTAssertTrue(pollUntil { pool.core.channel.waitingForRoom == i + 1 }, "request \(i) never reached the line")
        }
        return requests
    }

    func testAppliesInLineRunInArrivalOrderAndDeliver() async throws {
        let (pool, release) = try await fullPool()
        let order = Recorder<Int>()
        let requests = await lineUp(5, on: pool, order: order)
        let midFlight = pool.statistics
        XCTAssertEqual(midFlight.jobsInCache, 2, "a submitter waiting for room has submitted nothing yet")
        XCTAssertEqual(midFlight.chunksQueued, 1, "only the one holding the room is queued")
        XCTAssertEqual(midFlight.itemsSubmitted, 2)
        release.set()
        for (i, request) in requests.enumerated() {
            let value = try await request.value
            XCTAssertEqual(value, i * 10)
        }
        XCTAssertEqual(order.values, [0, 1, 2, 3, 4], "first in line, first run")
        pool.close()
        try await pool.joined()
        XCTAssertEqual(pool.core.channel.roomHeld, 0)
        let statistics = pool.statistics
        XCTAssertEqual(statistics.itemsSubmitted, 7)
        XCTAssertEqual(statistics.itemsCompleted, 7)
    }

    func testACancelledApplyLeavesTheLineAndNeverRuns() async throws {
        let (pool, release) = try await fullPool()
        let order = Recorder<Int>()
        let requests = await lineUp(3, on: pool, order: order)
        requests[1].cancel()
        let cancelled = await requests[1].result
        XCTAssertThrowsError(try cancelled.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        XCTAssertEqual(pool.core.channel.waitingForRoom, 2, "the cancelled submitter left the line at once")
        release.set()
        let first = try await requests[0].value
        let last = try await requests[2].value
        XCTAssertEqual([first, last], [0, 20])
        XCTAssertEqual(order.values, [0, 2], "the cancelled apply never ran")
        pool.close()
        try await pool.joined()
        XCTAssertEqual(pool.core.channel.roomHeld, 0, "the cancelled submitter took room")
        let statistics = pool.statistics
        XCTAssertEqual(statistics.itemsSubmitted, 4, "a submitter cancelled while it waited submitted nothing")
        XCTAssertEqual(statistics.itemsCancelled, 0)
        XCTAssertEqual(statistics.itemsSubmitted, statistics.itemsCompleted)
    }

    func testCloseRefusesAppliesInLineAndRunsWhatWasAdmitted() async throws {
        let (pool, release) = try await fullPool()
        let order = Recorder<Int>()
        let requests = await lineUp(3, on: pool, order: order)
        pool.close()
        for request in requests {
            let outcome = await request.result
            XCTAssertThrowsError(try outcome.get()) { XCTAssertEqual($0 as? PoolError, .notRunning) }
        }
        XCTAssertEqual(pool.core.channel.waitingForRoom, 0)
        release.set()
        try await pool.joined()
        XCTAssertEqual(order.values, [], "a refused apply never ran")
        let statistics = pool.statistics
        XCTAssertEqual(statistics.itemsCompleted, 2, "the two admitted before close() ran")
        XCTAssertEqual(statistics.itemsSubmitted, 2, "refused submitters submitted nothing")
        XCTAssertEqual(statistics.jobsInCache, 0)
    }

    func testTerminateRefusesAppliesInLine() async throws {
        let (pool, release) = try await fullPool()
        let order = Recorder<Int>()
        let requests = await lineUp(3, on: pool, order: order)
        pool.terminate()
        for request in requests {
            let outcome = await request.result
            XCTAssertThrowsError(try outcome.get()) {
                XCTAssertEqual($0 as? PoolError, .notRunning, "waiting for room, nothing was submitted: refused, not terminated")
            }
        }
        release.set()
        try await pool.joined()
        XCTAssertEqual(order.values, [])
        XCTAssertEqual(pool.statistics.jobsInCache, 0)
    }

    func testAnUnboundedPoolNeverMakesAnAwaitedApplyWait() async throws {
        let pool = try Pool(workers: 2)
        var total = 0
        for i in 0..<100 { total += try await pool.apply(i) { $0 * 2 } }
        XCTAssertEqual(total, 9_900)
        pool.close()
        try await pool.joined()
        XCTAssertEqual(pool.core.channel.waitingForRoom, 0)
    }
}
