import Foundation
import XCTest
@testable import WorkerPool

/// Review of `IMapIterator.progress` when reading stops before the input's end.
final class ImapProgressTests: PoolTestCase {
    /// `close()` stops an imap with `buffersize` from reading on: the items read still run, then
    /// the iterator throws `.notRunning`. Its input was never read to its end, so `JobProgress.total`
    /// must stay nil ("nil while it is not known (an imap whose input has not been read to its
    /// end)"); it reports the items read instead, and `fraction` says 1.0 (100 %) for a job that
    /// stopped after a few of its 1,000 items.
    func testAnImapCutShortByCloseDoesNotReportItselfComplete() throws {
        let pool = try Pool(workers: 1)
        let iterator = try pool.imap((0..<1000).lazy.map { $0 }, buffersize: 1) { $0 }
        XCTAssertEqual(try iterator.next(timeout: generous), 0)
        pool.close()
        var outcome: (any Error)?
        do {
            while try iterator.next(timeout: generous) != nil {}
        } catch {
            outcome = error
        }
        XCTAssertEqual(outcome as? PoolError, .notRunning, "the stream says it was cut short")
        let progress = iterator.progress
        XCTAssertLessThan(progress.done, 1000)
        XCTAssertNil(progress.total, "the input was not read to its end, yet progress is \(progress)")
        XCTAssertNotEqual(progress.fraction, 1, "a progress bar shows 100 % for a job that stopped early")
        try pool.join()
    }
}

/// Review of `ChunkTraceRecorder`: a job enters the trace when its call is planned, before the
/// pool accepts it.
final class TraceRefusedCallTests: PoolTestCase {
    /// A call that the pool refuses (closed) never ran, so its trace must not list a job for it.
    func testARefusedCallLeavesNoJobInTheTrace() throws {
        let recorder = ChunkTraceRecorder()
        let pool = try Pool(workers: 1, chunking: .guided().traced(by: recorder))
        pool.close()
        XCTAssertThrowsPoolError(.notRunning, try pool.map(Array(0..<10)) { $0 })
        XCTAssertThrowsPoolError(.notRunning, try pool.mapAsync(Array(0..<10), chunksize: 2) { $0 })
        XCTAssertThrowsPoolError(.notRunning, try pool.imap(Array(0..<10), chunking: .factoring().traced(by: recorder)) { $0 })
        try pool.join()
        XCTAssertEqual(recorder.trace.jobs.count, 0,
                       "refused calls were traced as jobs: \(recorder.trace.jobs.map { "\($0.strategy) count \($0.count ?? -1), \($0.chunks.count) chunks" })")
    }
}
