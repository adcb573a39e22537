import Foundation
import XCTest
@testable import WorkerPool

/// One test that produces every `PoolError` case through the public API. The switch in
/// `covered(_:)` has no default, so a new case does not compile until it is produced here too.
final class PoolErrorTests: PoolTestCase {
    private func covered(_ error: PoolError) -> String {
        switch error {
        case .notRunning: return "notRunning"
        case .stillRunning: return "stillRunning"
        case .timeout: return "timeout"
        case .notReady: return "notReady"
        case .terminated: return "terminated"
        case .broken: return "broken"
        case .invalidArgument: return "invalidArgument"
        case .encodingFailed: return "encodingFailed"
        }
    }

    func testEveryCaseIsProduced() throws {
        var produced: Set<String> = []
        func record(_ body: () throws -> Void) {
            do { try body() } catch let error as PoolError { produced.insert(covered(error)) } catch {
                XCTFail("not a PoolError: \(error)")
            }
        }

        let pool = try Pool(workers: 1)
        let release = Event()
        let slow = try pool.applyAsync(1) { (x: Int) -> Int in release.wait(timeout: generous); return x }
        let queued = try pool.applyAsync(2) { $0 }
        record { _ = try slow.isSuccessful }                                  // notReady
        record { _ = try slow.get(timeout: .milliseconds(1)) }               // timeout
        record { try pool.join() }                                           // stillRunning
        record { _ = try pool.apply(Fragile(value: 13)) { $0.value } }       // encodingFailed
        record { _ = try pool.map([1], chunksize: 0) { $0 } }                // invalidArgument
        pool.terminate()
        record { _ = try queued.get(timeout: generous) }                     // terminated
        record { _ = try pool.applyAsync(3) { $0 } }                         // notRunning
        release.set()
        try pool.join()

        let broken = try Pool(workers: 1, initializer: { throw TestError.boom(1) })
        record { _ = try broken.apply(1) { $0 } }                            // broken
        try broken.join()

        XCTAssertEqual(produced, ["notReady", "timeout", "stillRunning", "encodingFailed", "invalidArgument",
                                  "terminated", "notRunning", "broken"])
    }

    func testDescriptionsNameTheCase() {
        XCTAssertTrue(PoolError.broken("x").description.contains("broken: x"))
        XCTAssertTrue(PoolError.invalidArgument("workers must be at least 1, got 0").description.contains("workers"))
        XCTAssertEqual(PoolError.timeout, PoolError.timeout)
        XCTAssertNotEqual(PoolError.broken("a"), PoolError.broken("b"))
    }
}
