import Foundation
import XCTest
import WorkerPool
@testable import PoolBenchKit

/// The simulator against cases whose makespan can be worked out by hand.
final class SimulatorTests: XCTestCase {
    private func model(_ costs: [Double], _ overhead: OverheadModel = .zero) -> WorkloadModel {
        WorkloadModel(name: "test", costs: costs, overhead: overhead)
    }

    func testEqualItemsWithoutOverhead() {
        let equal = model(Array(repeating: 1_000, count: 100))
        // ceil(ceil(n / k) / w) rounds of k items of 1 µs.
        XCTAssertEqual(Simulator.run(.fixed(10), workers: 2, model: equal).makespan, 50_000)
        XCTAssertEqual(Simulator.run(.fixed(10), workers: 3, model: equal).makespan, 40_000)
        XCTAssertEqual(Simulator.run(.fixed(1), workers: 4, model: equal).makespan, 25_000)
        XCTAssertEqual(Simulator.run(.fixed(100), workers: 4, model: equal).makespan, 100_000, "one chunk: one worker does it all")
        // Any strategy on one worker: the sum of the costs.
        for strategy in ChunksBench.strategies {
            XCTAssertEqual(Simulator.run(strategy, workers: 1, model: equal).makespan, 100_000, "\(strategy)")
        }
    }

    func testEqualItemsWithOverheads() {
        let overhead = OverheadModel(dispatch: 100, handoff: 0, perChunk: 500, perItem: 10, perJob: 2_000)
        let equal = model(Array(repeating: 1_000, count: 100), overhead)
        // Each chunk: 100 dispatch + 500 + 10 x (1,000 + 10) on its worker; five per worker; the
        // second worker starts one dispatch later (cutting is serial).
        let chunk = 100.0 + 500 + 10 * 1_010
        XCTAssertEqual(Simulator.run(.fixed(10), workers: 2, model: equal).makespan, 100 + 5 * chunk + 2_000, accuracy: 1e-6)
        // One worker: every chunk's overhead adds up.
        XCTAssertEqual(Simulator.run(.fixed(10), workers: 1, model: equal).makespan, 10 * chunk + 2_000, accuracy: 1e-6)
        // A waiting worker takes the token `handoff` after it went back.
        var slow = overhead
        slow.handoff = 50
        XCTAssertEqual(Simulator.run(.fixed(10), workers: 2, model: model(equal.costs, slow)).makespan,
                       100 + 50 + 5 * chunk + 2_000, accuracy: 1e-6)
    }

    func testOneSlowItem() {
        var costs = Array(repeating: 1_000.0, count: 11)
        costs[0] = 100_000
        // The slow item first: one worker holds it while the other does the ten others.
        XCTAssertEqual(Simulator.run(.fixed(1), workers: 2, model: model(costs)).makespan, 100_000)
        // The slow item last: the ten others split five and five, then the slow one.
        costs.swapAt(0, 10)
        XCTAssertEqual(Simulator.run(.fixed(1), workers: 2, model: model(costs)).makespan, 105_000)
        // In one chunk with everything else: all of it on one worker.
        XCTAssertEqual(Simulator.run(.fixed(11), workers: 2, model: model(costs)).makespan, 110_000)
        // CPython's heuristic on 2 workers: chunks of ceil(11 / 8) = 2; the slow item is alone in the
        // last chunk, after five chunks of 2 that the workers share 3 and 2: 4,000 + 100,000.
        XCTAssertEqual(Simulator.run(.cpython, workers: 2, model: model(costs)).makespan, 104_000)
    }

    func testChunksCoverTheInputAndFollowTheStrategy() {
        let costs = Shape.ramp.costs(items: 1_000)
        for strategy in ChunksBench.strategies {
            for workers in [1, 2, 7, 64] {
                let run = Simulator.run(strategy, workers: workers, model: model(costs, .init(dispatch: 300, handoff: 500, perChunk: 1_500, perItem: 5, perJob: 0)))
                XCTAssertEqual(run.chunks.reduce(0) { $0 + $1.items }, 1_000, "\(strategy) on \(workers)")
                XCTAssertEqual(run.chunks.map(\.start), run.chunks.indices.map { run.chunks[..<$0].reduce(0) { $0 + $1.items } })
                XCTAssertTrue(Set(run.chunks.map(\.worker)).isSubset(of: Set(0..<workers)))
                XCTAssertGreaterThanOrEqual(run.makespan, costs.reduce(0, +) / Double(workers))
            }
        }
        // Strategies that ignore time cut exactly their own sizes.
        let run = Simulator.run(.guided(minimum: 4), workers: 3, model: model(costs))
        XCTAssertEqual(run.sizes, ChunkingStrategy.guided(minimum: 4).chunkSizes(count: 1_000, workers: 3))
    }

    func testModelFromATraceByHand() throws {
        func ns(_ value: Int) -> Duration { .nanoseconds(value) }
        // A fixed(1) job of four items (bodies of 1 to 4 µs) and a fixed(2) job of the same items.
        // Codec per chunk: 500 ns for one item, 600 ns for two: 400 per chunk + 100 per item.
        let single = ChunkTrace.Job(strategy: "fixed(1)", count: 4, workers: 2, submitted: ns(0), chunks: (0..<4).map { i in
            let cut = 1_000 + 10_000 * i
            return ChunkTrace.Chunk(index: i, worker: 1 + i % 2, start: i, items: 1, cut: ns(cut), started: ns(cut + 50),
                                    finished: ns(cut + 50 + 500 + 1_000 * (i + 1)),
                                    arguments: ns(300), bodies: ns(1_000 * (i + 1)), results: ns(200))
        })
        let pairs = ChunkTrace.Job(strategy: "fixed(2)", count: 4, workers: 2, submitted: ns(100_000), chunks: (0..<2).map { i in
            let cut = 101_000 + 20_000 * i
            return ChunkTrace.Chunk(index: i, worker: 1, start: 2 * i, items: 2, cut: ns(cut), started: ns(cut + 50),
                                    finished: ns(cut + 50 + 600 + 3_000), arguments: ns(350), bodies: ns(3_000), results: ns(250))
        })
        let model = try TraceReader.model(name: "hand", trace: ChunkTrace(jobs: [single, pairs]))
        XCTAssertEqual(model.costs, [1_000, 2_000, 3_000, 4_000], "from the job with the smallest chunks")
        XCTAssertEqual(model.overhead.perChunk, 400, accuracy: 1e-9)
        XCTAssertEqual(model.overhead.perItem, 100, accuracy: 1e-9)
        XCTAssertEqual(model.overhead.dispatch, 50)
        XCTAssertEqual(model.overhead.perJob, 2_000, "twice the 1 µs from submission to the first cut")
        XCTAssertThrowsError(try TraceReader.model(name: "empty", trace: ChunkTrace(jobs: [])))
    }

    func testCostsFromCSV() throws {
        XCTAssertEqual(try TraceReader.costs(csv: "# item costs\ncost_us\n1.5\n2\n\n3,ignored\n"), [1_500, 2_000, 3_000])
        XCTAssertThrowsError(try TraceReader.costs(csv: "1\nabc\n")) { error in
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
        }
        XCTAssertThrowsError(try TraceReader.costs(csv: "1\n-2\n"))
        XCTAssertThrowsError(try TraceReader.costs(csv: "# nothing\n"))
    }
}
