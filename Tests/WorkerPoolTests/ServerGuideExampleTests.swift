import Foundation
import XCTest
import WorkerPool

// The example of docs/server.md, compiled and run so the guide cannot drift from the API.
// `ReportService` below is copied into the guide verbatim.

/// The one pool of a server process: created at startup, shared by every request handler.
final class ReportService: Sendable {
    private let pool: Pool

    init(cores: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        pool = try Pool(
            workers: max(1, cores - 1),   // CPU-bound bodies: leave a core to the event loops
            maxQueuedChunks: 64 * cores   // a burst of requests waits instead of queueing without bound
        )
    }

    /// Called from a request handler: suspends, never blocks a thread. Cancelling the request's
    /// task skips the chunks that have not started and throws `CancellationError`.
    func checksums(of documents: [String]) async throws -> [UInt64] {
        try await pool.map(documents) { document in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a
            for byte in document.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return hash
        }
    }

    /// One long job. The body polls for cancellation so that a cancelled request frees its worker.
    func stretch(_ seed: UInt64, rounds: Int) async throws -> UInt64 {
        try await pool.apply(seed) { seed in
            var hash = seed
            for round in 0..<rounds {
                if round % 4096 == 0, Pool.isCurrentTaskCancelled { break }   // the result is discarded anyway
                hash = (hash ^ UInt64(truncatingIfNeeded: round)) &* 0x100_0000_01b3
            }
            return hash
        }
    }

    /// For a metrics endpoint: a snapshot that takes no pool-wide lock.
    var statistics: PoolStatistics { pool.statistics }

    /// Called once at shutdown, after the server stopped accepting requests.
    func shutdown() async throws {
        pool.close()              // queued work still finishes
        try await pool.joined()   // waits on a thread of its own, not on a cooperative one
    }
}

final class ServerGuideExampleTests: PoolTestCase {
    /// The guide's last Swift block is this file's `ReportService`, character for character.
    func testTheGuideShowsThisCode() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let guide = try String(contentsOf: root.appendingPathComponent("docs/server.md"), encoding: .utf8)
        let source = try String(contentsOf: here, encoding: .utf8)
        let blocks = guide.components(separatedBy: "```swift\n").dropFirst()
        let shown = try XCTUnwrap(blocks.last?.components(separatedBy: "```").first, "docs/server.md has no swift block")
        let start = try XCTUnwrap(source.range(of: "/// The one pool of a server process"))
        let end = try XCTUnwrap(source.range(of: "final class ServerGuideExampleTests"))
        let compiled = String(source[start.lowerBound..<end.lowerBound])
        XCTAssertEqual(shown.trimmingCharacters(in: .whitespacesAndNewlines), compiled.trimmingCharacters(in: .whitespacesAndNewlines),
                       "docs/server.md's example differs from ReportService in this file")
    }

    private func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    func testTheServiceAnswersAndShutsDown() async throws {
        let service = try ReportService(cores: 3)
        let documents = (0..<500).map { "document \($0)" }
        let sums = try await service.checksums(of: documents)
        XCTAssertEqual(sums, documents.map(fnv1a))
        let statistics = service.statistics
        XCTAssertEqual(statistics.workersAlive, 2, "cores - 1 workers")
        XCTAssertEqual(statistics.itemsCompleted, 500)
        XCTAssertEqual(statistics.itemsSubmitted, 500)
        try await service.shutdown()
        XCTAssertEqual(service.statistics.workersAlive, 0)
    }

    func testACancelledRequestFreesItsWorker() async throws {
        let service = try ReportService(cores: 2)   // one worker
        let request = Task { try await service.stretch(1, rounds: .max) }   // never ends by itself
        // Wait (with a deadline, not a sleep) until the body runs on the worker.
        let deadline = ContinuousClock.now + generous
        while service.statistics.workersBusy == 0 && ContinuousClock.now < deadline { await Task.yield() }
        XCTAssertEqual(service.statistics.workersBusy, 1, "the body started")
        request.cancel()
        let outcome = await request.result
        XCTAssertThrowsError(try outcome.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        // The body saw the cancellation and returned, so the worker takes the next request.
        let sums = try await service.checksums(of: ["after"])
        XCTAssertEqual(sums, [fnv1a("after")])
        try await service.shutdown()
    }
}
