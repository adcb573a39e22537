import Foundation
import XCTest
@testable import WorkerPool

/// Review of `KernelClock`: a traced chunk whose body waits for a traced sub-map, so that the
/// waiting worker runs the sub-map's chunks inside the outer chunk's kernel call.
final class NestedTraceTests: PoolTestCase {
    func testNestedTracedMapsKeepEachChunksStagesInsideItsSpan() throws {
        let recorder = ChunkTraceRecorder()
        try withPool(workers: 1, chunking: .fixed(1).traced(by: recorder)) { pool in
            let results = try pool.map(Array(0..<4)) { x -> Int in
                Thread.sleep(forTimeInterval: 0.001)
                let inner = try pool.map(Array(0..<3), chunking: .factoring().traced(by: recorder)) { y -> Int in
                    Thread.sleep(forTimeInterval: 0.002)
                    return y
                }
                return x + inner.reduce(0, +)
            }
            XCTAssertEqual(results, [3, 4, 5, 6])
        }
        let jobs = recorder.trace.jobs
        XCTAssertEqual(jobs.count, 5)
        for job in jobs {
            XCTAssertEqual(job.chunks.map(\.items).reduce(0, +), job.count, "\(job.strategy)")
            for chunk in job.chunks {
                XCTAssertLessThanOrEqual(chunk.cut, chunk.started)
                XCTAssertLessThanOrEqual(chunk.started, chunk.finished)
                XCTAssertGreaterThanOrEqual(chunk.arguments, .zero)
                XCTAssertGreaterThanOrEqual(chunk.bodies, .zero)
                XCTAssertGreaterThanOrEqual(chunk.results, .zero)
                XCTAssertLessThanOrEqual(chunk.arguments + chunk.bodies + chunk.results, chunk.finished - chunk.started + .nanoseconds(1),
                                         "\(job.strategy) chunk \(chunk.index)")
                if job.count == 3 {
                    XCTAssertGreaterThanOrEqual(chunk.bodies, .milliseconds(Int64(2 * chunk.items)) - .microseconds(100),
                                                "an inner chunk's bodies")
                }
            }
        }
        // The outer chunks' bodies include the inner maps they waited for (about 7 ms each).
        for chunk in jobs[0].chunks {
            XCTAssertGreaterThanOrEqual(chunk.bodies, .milliseconds(6), "outer chunk \(chunk.index): \(chunk)")
        }
    }
}
