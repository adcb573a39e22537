import Foundation
import XCTest
@testable import WorkerPool

/// Counts its live instances, to see every stored value destroyed exactly once.
final class Tracked: Codable, @unchecked Sendable {  // immutable after init
    static let live = Counter()
    let id: Int
    init(_ id: Int) {
        self.id = id
        Tracked.live.increment()
    }
    required init(from decoder: any Decoder) throws {
        id = try decoder.singleValueContainer().decode(Int.self)
        Tracked.live.increment()
    }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(id)
    }
    deinit { Tracked.live.increment(by: -1) }
}

/// Review of `ValueSlot` users with tuple values: results never read, cancelled, terminated,
/// a pool released with tuple jobs in flight. Every `Tracked` made must be gone afterwards (a
/// double destroy would crash; a missed one leaves `live` above zero).
final class ValueLifetimeTests: PoolTestCase {
    private func run(codec: TaskCodec, _ body: (Pool) throws -> Void) throws {
        let before = Tracked.live.value
        do {
            let pool = try Pool(workers: 2, codec: codec)
            try body(pool)
            pool.terminate()
            try pool.join()
        }
        XCTAssertEqual(Tracked.live.value, before, "\(codec): values leaked or destroyed twice")
    }

    func testTupleValuesAreDestroyedExactlyOnceOnEveryPath() throws {
        for codec in [TaskCodec.passthrough, .binary] {
            // Results never read.
            try run(codec: codec) { pool in
                var results: [AsyncResult<(Tracked, String)>] = []
                for i in 0..<50 { results.append(try pool.applyAsync(Tracked(i)) { ($0, "x\($0.id)") }) }
                let maps = try (0..<5).map { _ in try pool.mapAsync((0..<40).map { Tracked($0) }, chunksize: 3) { (Tracked($0.id), $0.id) } }
                for result in results { XCTAssertTrue(result.wait(timeout: generous)) }
                for map in maps { XCTAssertTrue(map.wait(timeout: generous)) }
                XCTAssertEqual(try results[7].get().0.id, 7)
            }
            // Cancelled while queued, while running, and terminated.
            try run(codec: codec) { pool in
                let gate = Event()
                let started = Counter()
                let blockers = try (0..<2).map { i in
                    try pool.applyAsync(Tracked(i)) { (t: Tracked) -> (Tracked, Int) in
                        started.increment()
                        gate.wait(timeout: generous)
                        return (t, 0)
                    }
                }
                let queued = try (0..<20).map { i in try pool.applyAsync(Tracked(100 + i)) { ($0, $0.id) } }
                let queuedMap = try pool.mapAsync((0..<30).map { Tracked($0) }) { ($0, [Tracked($0.id)]) }
                for (i, result) in queued.enumerated() where i % 2 == 0 { result.cancel() }
                blockers[0].cancel()
                queuedMap.cancel()
                gate.set()
                for result in queued { _ = result.wait(timeout: generous) }
                XCTAssertTrue(blockers[1].wait(timeout: generous))
                let slow = try pool.mapAsync((0..<200).map { Tracked($0) }, chunksize: 1) { t -> (Tracked, Tracked) in
                    Thread.sleep(forTimeInterval: 0.0005)
                    return (t, Tracked(-t.id))
                }
                let iterator = try pool.imap((0..<200).lazy.map { (Tracked($0), $0) }, chunksize: 4, buffersize: 2) { t, n in (t, n) }
                XCTAssertEqual(try iterator.next(timeout: generous)?.1, 0)
                _ = slow.progress
            }
        }
    }

    /// Lazy one-value inputs (read through a loop compiled for the caller's sequence type): an
    /// imap stopped after one item by terminate, and a map read to its end. Every value the
    /// input made is destroyed exactly once, on both codecs.
    func testLazyInputValuesAreDestroyedExactlyOnce() throws {
        for codec in [TaskCodec.passthrough, .binary] {
            try run(codec: codec) { pool in
                let iterator = try pool.imap((0..<200).lazy.map { Tracked($0) }, chunksize: 4, buffersize: 2) { $0.id }
                XCTAssertEqual(try iterator.next(timeout: generous), 0)
                XCTAssertEqual(try pool.map((0..<50).lazy.map { Tracked($0) }) { $0.id }, Array(0..<50))
                XCTAssertEqual(try pool.imapUnordered((0..<30).lazy.map { Tracked($0) }, chunksize: 7) { $0.id }.sortedResults(), Array(0..<30))
            }
        }
    }

    /// The last `Pool` handle goes away with tuple jobs in flight: close(), not terminate; the
    /// jobs finish and every tuple result becomes ready.
    func testReleasingThePoolWithTupleJobsInFlight() throws {
        let before = Tracked.live.value
        do {
            var applies: [AsyncResult<(Tracked, Int)>] = []
            var maps: [MapResult<(Int, Tracked)>] = []
            var iterator: IMapIterator<(Int, String)>?
            do {
                let pool = try Pool(workers: 2, codec: .passthrough)
                for i in 0..<20 {
                    applies.append(try pool.applyAsync(Tracked(i), { t -> (Tracked, Int) in
                        Thread.sleep(forTimeInterval: 0.001)
                        return (t, t.id)
                    }, callback: { _ in }))
                }
                maps.append(try pool.mapAsync(Array(0..<100), chunksize: 7) { ($0, Tracked($0)) })
                iterator = try pool.imap((0..<50).lazy.map { ($0, String($0)) }) { n, s in (n, s) }
            }
            for (i, apply) in applies.enumerated() { XCTAssertEqual(try apply.get(timeout: generous).1, i) }
            XCTAssertEqual(try maps[0].get(timeout: generous).map(\.0), Array(0..<100))
            var seen = 0
            while let (n, _) = try iterator!.next(timeout: generous) {
                XCTAssertEqual(n, seen)
                seen += 1
            }
            XCTAssertEqual(seen, 50)
        }
        // The pool was released, not joined: its workers drop their last references as they exit.
        XCTAssertTrue(pollUntil { Tracked.live.value == before }, "values still alive: \(Tracked.live.value - before)")
        XCTAssertEqual(Tracked.live.value, before)
    }
}

private extension IMapIterator where R == Int {
    /// Every result, blocking, sorted.
    func sortedResults() throws -> [Int] {
        var values: [Int] = []
        while let value = try next(timeout: generous) { values.append(value) }
        return values.sorted()
    }
}
