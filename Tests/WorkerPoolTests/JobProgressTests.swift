import Foundation
import XCTest
@testable import WorkerPool

final class JobProgressTests: PoolTestCase {
    func testMapProgressCountsFinishedItems() throws {
        try withPool(workers: 2) { pool in
            let release = Event()
            let started = Counter()
            let bothBlocked = Event()
            let result = try pool.mapAsync(Array(0..<10), chunksize: 1) { x -> Int in
                if x >= 5 {
                    if started.increment() == 2 { bothBlocked.set() }
                    release.wait(timeout: generous)
                }
                return x
            }
            XCTAssertTrue(bothBlocked.wait(timeout: generous))
            // Both workers hold items 5 and 6; each finished its earlier items before cutting these.
            XCTAssertEqual(result.progress, JobProgress(done: 5, total: 10))
            XCTAssertEqual(result.progress.fraction, 0.5)
            XCTAssertEqual(result.progress.description, "5/10")
            release.set()
            XCTAssertEqual(try result.get(timeout: generous), Array(0..<10))
            XCTAssertEqual(result.progress, JobProgress(done: 10, total: 10))
        }
    }

    func testApplyAndEmptyMapProgress() throws {
        try withPool(workers: 1) { pool in
            let release = Event()
            let pending = try pool.applyAsync(1) { (x: Int) -> Int in release.wait(timeout: generous); return x }
            XCTAssertEqual(pending.progress, JobProgress(done: 0, total: 1))
            release.set()
            XCTAssertEqual(try pending.get(timeout: generous), 1)
            XCTAssertEqual(pending.progress, JobProgress(done: 1, total: 1))
            let empty = try pool.mapAsync([Int]()) { $0 }
            XCTAssertEqual(empty.progress, JobProgress(done: 0, total: 0))
            XCTAssertEqual(empty.progress.fraction, 1)
        }
    }

    func testImapProgressLearnsItsTotalAtTheEnd() throws {
        try withPool(workers: 2) { pool in
            let release = Event()
            let iterator = try pool.imap(Array(0..<20), chunksize: 2) { x -> Int in
                if x == 19 { release.wait(timeout: generous) }
                return x
            }
            XCTAssertNil(iterator.progress.total, "the input has not ended yet")
            XCTAssertNil(iterator.progress.fraction)
            XCTAssertEqual(iterator.progress.description.suffix(2), "/?")
            for expected in 0..<18 { XCTAssertEqual(try iterator.next(timeout: generous), expected) }
            XCTAssertGreaterThanOrEqual(iterator.progress.done, 18)
            release.set()
            while try iterator.next(timeout: generous) != nil {}
            XCTAssertEqual(iterator.progress, JobProgress(done: 20, total: 20))
        }
    }
}
