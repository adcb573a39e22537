import Foundation
import XCTest
@testable import WorkerPool

/// Continuations resumed from the pool's own threads, as ThreadSanitizer sees them. Under
/// `swift test --sanitize=thread`, `testJoinedResumesBeforeAndAfterSuspending` reported a data race
/// in the first run of it without `ThreadSanitizer.resumeHidingAccesses` (the resume's write into
/// the task's frame, against the task's next use of that frame); in ordinary builds it checks that
/// `joined()` returns, again and again, with the task's state intact.
final class ResumeFromThreadTests: PoolTestCase {
    func testAnnotationsAreFoundExactlyUnderThreadSanitizer() {
        let underThreadSanitizer = dlsym(nil, "__tsan_init") != nil
        XCTAssertEqual(ThreadSanitizer.isActive, underThreadSanitizer,
                       "the annotation symbols must be found whenever the process runs under ThreadSanitizer")
    }

    func testJoinedResumesBeforeAndAfterSuspending() async throws {
        // A closed pool of one worker joins at once or almost at once: the resume races the task's
        // suspension, which is the path the runtime leaves unannotated.
        for round in 0..<2_000 {
            let pool = try Pool(workers: 1)
            pool.close()
            var frame = [Int](repeating: round, count: 4)
            try await pool.joined()
            frame[0] += 1
            try await pool.joined()
            frame[1] += frame[0]
            XCTAssertEqual(frame[1], 2 * round + 1)
        }
    }

    func testAwaitedResultsResumeFromWorkers() async throws {
        let pool = try Pool(workers: 2)
        var total = 0
        for round in 0..<2_000 {
            let result = try await pool.applyAsync(round) { $0 &* 2 }
            total += try await result.value
        }
        XCTAssertEqual(total, 2_000 * 1_999)
        pool.close()
        try await pool.joined()
    }
}
