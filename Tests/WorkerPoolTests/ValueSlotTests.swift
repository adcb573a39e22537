import XCTest
@testable import WorkerPool

/// `ValueSlot` holds every apply's argument and every result's value. A slot that loses a store or
/// releases a value twice corrupts the heap far from the cause. The one such defect so far appeared
/// only in an optimized build without `-enable-testing` (these tests passed over it even in
/// `swift test -c release`); CI's `pool-bench --tiny` step, an optimized client of the library,
/// is what found it. These tests pin the slot's rules: only trivial values in place, every stored
/// value released exactly once.
final class ValueSlotTests: XCTestCase {
    /// Counts live instances, to see that each stored object is released exactly once.
    final class Tracked: Codable, @unchecked Sendable {  // `live` is guarded by `lock`; `value` is immutable
        nonisolated(unsafe) static var live = 0
        static let lock = NSLock()
        let value: Int
        init(_ value: Int) {
            self.value = value
            Tracked.lock.withLock { Tracked.live += 1 }
        }
        convenience init(from decoder: any Decoder) throws {
            self.init(try decoder.singleValueContainer().decode(Int.self))
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
        deinit { Tracked.lock.withLock { Tracked.live -= 1 } }
        static var liveCount: Int { lock.withLock { live } }
    }

    struct Wide: Equatable { var a, b, c, d, e: Int }  // 40 bytes: out of line although trivial
    struct Small: Equatable { var a: Int32; var b: Double; var c: Bool }  // trivial, in place

    private func roundTrip<T: Equatable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) {
        var slot = ValueSlot()
        slot.store(value)
        XCTAssertEqual(slot.load(as: T.self), value, file: file, line: line)
        XCTAssertEqual(slot.load(as: T.self), value, "a load is a copy", file: file, line: line)
        slot.destroy(as: T.self)

        var taken = ValueSlot()
        taken.store(value)
        XCTAssertEqual(taken.take(as: T.self), value, file: file, line: line)
    }

    func testValuesOfEveryKindRoundTrip() {
        roundTrip(42)
        roundTrip(-1.5)
        roundTrip(true)
        roundTrip(UInt8(7))
        roundTrip(Small(a: -3, b: 2.5, c: true))
        roundTrip(Wide(a: 1, b: 2, c: 3, d: 4, e: 5))
        roundTrip([1, 2, 3])
        roundTrip("a string longer than fifteen bytes, so it lives on the heap")
        roundTrip("short")
        roundTrip(Optional<[Int]>.some([9]))
        roundTrip(Optional<Int>.none)
        roundTrip(["key": [1.0, 2.0]])
    }

    /// What `pool-bench map` did when a release build lost the stored array: a blocking `map`, its
    /// array used, then released, several times over on one pool.
    func testBlockingMapsWhoseArraysAreUsedThenReleased() throws {
        for codec in [TaskCodec.json, .binary, .passthrough] {
            let pool = try Pool(workers: 2, codec: codec)
            let input = Array(0..<2_000)
            let double: @Sendable (Int) -> Int = { $0 &* 2 }
            var total = 0
            for _ in 0..<5 {
                let values = try pool.map(input, double)
                total &+= values.reduce(0, &+)
            }
            XCTAssertEqual(total, 5 * 2 * (1_999 * 2_000 / 2), "\(codec)")
            pool.close()
            try pool.join()
        }
    }

    func testTrivialityDecidesWhereAValueLives() {
        XCTAssertTrue(ValueSlot.fitsInline(Int.self))
        XCTAssertTrue(ValueSlot.fitsInline(Small.self))
        XCTAssertFalse(ValueSlot.fitsInline(Wide.self), "larger than the words")
        XCTAssertFalse(ValueSlot.fitsInline([Int].self), "holds a reference")
        XCTAssertFalse(ValueSlot.fitsInline(String.self), "holds a reference")
        XCTAssertFalse(ValueSlot.fitsInline(Tracked.self), "is a reference")
    }

    func testAStoredObjectIsReleasedExactlyOnce() {
        let before = Tracked.liveCount
        do {
            var slot = ValueSlot()
            slot.store(Tracked(1))
            XCTAssertEqual(slot.load(as: Tracked.self).value, 1)
            XCTAssertEqual(Tracked.liveCount, before + 1, "the slot keeps its object alive")
            slot.destroy(as: Tracked.self)
        }
        XCTAssertEqual(Tracked.liveCount, before, "destroy released it")

        do {
            var slot = ValueSlot()
            slot.store([Tracked(2), Tracked(3)])
            let taken = slot.take(as: [Tracked].self)
            XCTAssertEqual(taken.map(\.value), [2, 3])
        }
        XCTAssertEqual(Tracked.liveCount, before, "take moved the objects out without a copy left behind")
    }

    /// The values that a release build lost: a map's array and apply results that hold references,
    /// kept by results that outlive the pool, read twice, then released.
    func testResultsThatHoldReferencesSurviveAndAreReleasedOnce() throws {
        let before = Tracked.liveCount
        for codec in [TaskCodec.binary, .json, .passthrough] {
            let pool = try Pool(workers: 2, codec: codec)
            let map = try pool.mapAsync(Array(0..<500)) { [String](repeating: "item \($0) of the map", count: 2) }
            let apply = try pool.applyAsync(7) { [$0, $0 + 1] }
            let text = try pool.applyAsync(3) { String(repeating: "x", count: $0 * 10) }
            pool.close()
            try pool.join()
            for _ in 0..<2 {
                let values = try map.get()
                XCTAssertEqual(values.count, 500, "\(codec)")
                XCTAssertEqual(values[499], ["item 499 of the map", "item 499 of the map"], "\(codec)")
                XCTAssertEqual(try apply.get(), [7, 8], "\(codec)")
                XCTAssertEqual(try text.get().count, 30, "\(codec)")
            }
        }
        for codec in [TaskCodec.binary, .passthrough] {
            do {
                let pool = try Pool(workers: 2, codec: codec)
                let objects = try (0..<200).map { i in try pool.applyAsync(i) { Tracked($0) } }
                pool.close()
                try pool.join()
                XCTAssertEqual(try objects.map { try $0.get().value }, Array(0..<200), "\(codec)")
                XCTAssertEqual(try objects.map { try $0.get().value }, Array(0..<200), "\(codec): read twice")
                withExtendedLifetime(objects) {
                    XCTAssertEqual(Tracked.liveCount, before + 200, "\(codec): each result holds one object")
                }
            }
            XCTAssertEqual(Tracked.liveCount, before, "\(codec): releasing the results released their objects")
        }
    }
}
