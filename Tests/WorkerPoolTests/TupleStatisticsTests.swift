import Foundation
import XCTest
@testable import WorkerPool

/// Review of statistics with tuple jobs: every item submitted ends completed, failed or cancelled,
/// including items whose tuple element cannot cross (13 on encode, 66 on decode) and cancelled
/// or unordered tuple jobs.
final class TupleStatisticsTests: PoolTestCase {
    func testStatisticsBalanceAfterTupleJobsOfEveryKind() throws {
        for codec in [TaskCodec.binary, .json] {
            try withPool(workers: 2, codec: codec) { pool in
                for x in [12, 13, 66] {
                    _ = try? pool.apply(x) { ($0, Fragile(value: $0)) }
                    _ = try? pool.applyAsync(Fragile(value: x)) { ($0.value, $0) }.get(timeout: generous)
                }
                _ = try? pool.map(Array(0..<100), chunksize: 7) { ($0, Fragile(value: $0)) }
                _ = try? pool.starmap((0..<100).map { ($0, Fragile(value: $0)) }, chunksize: 6) { n, f in (f, n) }
                _ = drainOutcomes(try pool.imapUnordered((0..<100).lazy.map { ($0, Fragile(value: $0)) }, chunksize: 5) { n, f in (f, n) })
                _ = drainOutcomes(try pool.imap(Array(0..<100), chunking: .factoring()) { (Fragile(value: $0), $0) })
                let gate = Event()
                let slow = try pool.mapAsync(Array(0..<200), chunksize: 3) { x -> (Int, Int) in
                    if x < 3 { gate.wait(timeout: generous) }  // one chunk: the other worker stays free
                    return (x, x)
                }
                let iterator = try pool.imap((0..<300).lazy.map { ($0, $0) }, chunksize: 2, buffersize: 1) { a, b in (a, b) }
                XCTAssertEqual(try iterator.next(timeout: generous)?.0, 0)
                slow.cancel()
                iterator.cancel()
                gate.set()
                XCTAssertThrowsError(try slow.get(timeout: generous))
                while (try? iterator.next(timeout: generous)) != nil {}
                // Settle: statistics are exact once the pool is joined (every cancelled chunk has
                // been skipped or finished); withPool's own close and join then do nothing more.
                pool.close()
                try pool.join()
                let stats = pool.statistics
                XCTAssertEqual(stats.jobsInCache, 0, "\(codec): \(stats)")
                let accounted = stats.itemsCompleted + stats.itemsFailed + stats.itemsCancelled
                XCTAssertEqual(stats.itemsSubmitted, accounted, "\(codec): \(stats)")
            }
        }
    }
}
