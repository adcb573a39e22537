import Foundation
import XCTest
@testable import WorkerPool

final class ChunkTraceTests: PoolTestCase {
    /// Every item in exactly one chunk, chunks indexed in cutting order, on the pool's own workers,
    /// with times in order and stages that fit inside the chunk.
    private func checkCoverage(_ job: ChunkTrace.Job, count: Int, workers: Set<Int>, file: StaticString = #filePath, line: UInt = #line) {
        let byStart = job.chunks.sorted { $0.start < $1.start }
        var next = 0
        for chunk in byStart {
            XCTAssertEqual(chunk.start, next, "chunks must tile the input", file: file, line: line)
            next += chunk.items
        }
        XCTAssertEqual(next, count, file: file, line: line)
        XCTAssertEqual(Set(job.chunks.map(\.index)), Set(0..<job.chunks.count), file: file, line: line)
        XCTAssertEqual(byStart.map(\.index), Array(0..<job.chunks.count), "indices follow the input", file: file, line: line)
        for chunk in job.chunks {
            XCTAssertTrue(workers.contains(chunk.worker), "chunk \(chunk.index) on worker \(chunk.worker), not one of \(workers)", file: file, line: line)
            XCTAssertLessThanOrEqual(job.submitted, chunk.cut, file: file, line: line)
            XCTAssertLessThanOrEqual(chunk.cut, chunk.started, file: file, line: line)
            XCTAssertLessThanOrEqual(chunk.started, chunk.finished, file: file, line: line)
            XCTAssertGreaterThanOrEqual(chunk.arguments, .zero, file: file, line: line)
            XCTAssertGreaterThanOrEqual(chunk.results, .zero, file: file, line: line)
            XCTAssertLessThanOrEqual(chunk.arguments + chunk.bodies + chunk.results, chunk.finished - chunk.started + .nanoseconds(1),
                                     file: file, line: line)
        }
    }

    /// A sizer that did not ask for times; it counts what it is told anyway.
    private struct UntimedSizer: ChunkSizer {
        let told: Recorder<Int>
        mutating func nextChunkSize(remaining: Int?) -> Int { 7 }
        mutating func chunkFinished(_ measurement: ChunkMeasurement) { told.append(measurement.items) }
        var measuresTime: Bool { false }
        var measuresStages: Bool { false }
    }

    /// Tracing times every chunk, but a sizer that did not ask is never told: a traced job is cut
    /// as the same job untraced.
    func testTracingDoesNotTellASizerThatDidNotAskForTimes() throws {
        let told = Recorder<Int>()
        let recorder = ChunkTraceRecorder()
        try withPool(workers: 2) { pool in
            let strategy = ChunkingStrategy.custom(name: "untimed") { _ in UntimedSizer(told: told) }.traced(by: recorder)
            XCTAssertEqual(try pool.map(Array(0..<200), chunking: strategy) { $0 * 3 }, (0..<200).map { $0 * 3 })
        }
        XCTAssertEqual(told.values, [], "the sizer was told of chunks it never asked to time")
        XCTAssertEqual(recorder.trace.jobs.count, 1)
        XCTAssertEqual(recorder.trace.jobs.first?.chunks.count, 29, "200 items in chunks of 7")
    }

    func testMapRecordsEveryChunk() throws {
        let recorder = ChunkTraceRecorder()
        let workers = Recorder<Int>()
        try withPool(workers: 2) { pool in
            let input = Array(0..<500)
            let strategy = ChunkingStrategy.guided(minimum: 3).traced(by: recorder)
            let results = try pool.map(input, chunking: strategy) { x -> Int in
                workers.append(Pool.currentWorkerID!)
                return x + 1
            }
            XCTAssertEqual(results, input.map { $0 + 1 })
        }
        let trace = recorder.trace
        XCTAssertEqual(trace.jobs.count, 1)
        let job = trace.jobs[0]
        XCTAssertEqual(job.strategy, "guided(3)")
        XCTAssertEqual(job.count, 500)
        XCTAssertEqual(job.workers, 2)
        XCTAssertEqual(job.chunks.map(\.items).sorted(by: >), ChunkingStrategy.guided(minimum: 3).chunkSizes(count: 500, workers: 2),
                       "guided's sizes do not depend on timing")
        checkCoverage(job, count: 500, workers: Set(workers.values))
    }

    func testStagesAttributeTheBodiesTime() throws {
        let recorder = ChunkTraceRecorder()
        try withPool(workers: 2) { pool in
            // Bodies that model slow work: 2 ms each, 4 items per chunk.
            _ = try pool.map(Array(0..<8), chunksize: 4, chunking: .cpython.traced(by: recorder)) { x -> Int in
                Thread.sleep(forTimeInterval: 0.002)
                return x
            }
        }
        let job = recorder.trace.jobs[0]
        XCTAssertEqual(job.strategy, "fixed(4)", "an explicit chunksize records as a fixed size, in the call's recorder")
        XCTAssertEqual(job.chunks.count, 2)
        for chunk in job.chunks {
            XCTAssertGreaterThanOrEqual(chunk.bodies, .milliseconds(8), "four bodies of 2 ms ran in this chunk")
            XCTAssertLessThanOrEqual(chunk.bodies, chunk.finished - chunk.started)
        }
        let breakdown = job.breakdown
        XCTAssertEqual(breakdown.bodies + breakdown.codec + breakdown.dispatch + breakdown.idle, 1, accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(breakdown.imbalance, 1)
        XCTAssertLessThanOrEqual(breakdown.imbalance, 2)
        XCTAssertEqual(breakdown.chunks, 2)
        XCTAssertEqual(breakdown.meanChunk, 4)
    }

    func testPoolStrategyTracesEveryMapButNotImap() throws {
        let recorder = ChunkTraceRecorder()
        try withPool(workers: 2, chunking: .fixed(10).traced(by: recorder)) { pool in
            _ = try pool.map(Array(0..<30)) { $0 }
            _ = try pool.starmap([(1, 2), (3, 4)]) { $0 + $1 }
            let iterator = try pool.imap(Array(0..<5)) { $0 }
            while try iterator.next(timeout: generous) != nil {}
        }
        XCTAssertEqual(recorder.trace.jobs.map(\.strategy), ["fixed(10)", "fixed(10)"], "imap does not use the pool's strategy")
        XCTAssertEqual(recorder.trace.jobs.map { $0.chunks.count }, [3, 1])
    }

    func testImapRecordsItsChunks() throws {
        let recorder = ChunkTraceRecorder()
        let workers = Recorder<Int>()
        try withPool(workers: 2) { pool in
            let iterator = try pool.imapUnordered(Array(0..<100), chunking: .fixed(7).traced(by: recorder)) { x -> Int in
                workers.append(Pool.currentWorkerID!)
                return x
            }
            var seen = 0
            while try iterator.next(timeout: generous) != nil { seen += 1 }
            XCTAssertEqual(seen, 100)
        }
        let job = recorder.trace.jobs[0]
        XCTAssertNil(job.count)
        XCTAssertEqual(job.chunks.count, 15)
        checkCoverage(job, count: 100, workers: Set(workers.values))
    }

    func testSizersThatMeasureStagesHearThemFromThePool() throws {
        let seen = Recorder<ChunkMeasurement>()
        struct Probe: ChunkSizer {
            let seen: Recorder<ChunkMeasurement>
            var measuresStages: Bool { true }
            mutating func nextChunkSize(remaining: Int?) -> Int { 10 }
            mutating func chunkFinished(_ measurement: ChunkMeasurement) { seen.append(measurement) }
        }
        try withPool(workers: 1) { pool in
            _ = try pool.map(Array(0..<50), chunking: .custom(name: "probe") { _ in Probe(seen: seen) }) { $0 }
        }
        // A measurement reaches the sizer at the first cut after its chunk ends: the last of the
        // five chunks is followed by no cut.
        XCTAssertEqual(seen.values.count, 4)
        for measurement in seen.values {
            XCTAssertEqual(measurement.items, 10)
            let stages = try XCTUnwrap(measurement.stages)
            XCTAssertLessThanOrEqual(stages.arguments + stages.bodies + stages.results, measurement.duration + .nanoseconds(1))
        }
    }

    func testTraceRoundTripsThroughJSON() throws {
        let recorder = ChunkTraceRecorder()
        try withPool(workers: 2) { pool in
            _ = try pool.map(Array(0..<64), chunking: .factoring().traced(by: recorder)) { $0 }
        }
        let trace = recorder.trace
        let data = try JSONEncoder().encode(trace)
        XCTAssertEqual(try JSONDecoder().decode(ChunkTrace.self, from: data), trace)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"bodies\":"), text.prefix(200).description)
    }

    func testUntracedJobsRecordNothing() throws {
        let recorder = ChunkTraceRecorder()
        let strategy = ChunkingStrategy.adaptive(target: .microseconds(100))
        try withPool(workers: 2, chunking: strategy) { pool in
            _ = try pool.map(Array(0..<100)) { $0 }
            _ = try pool.map(Array(0..<100), chunking: .guided()) { $0 }
        }
        XCTAssertTrue(recorder.trace.jobs.isEmpty)
    }

    func testBreakdownByHand() {
        // Two workers, a 10 ms span: worker 1 busy 0-10 ms, worker 2 busy 0-5 ms.
        func ms(_ value: Int) -> Duration { .milliseconds(value) }
        let job = ChunkTrace.Job(strategy: "x", count: 2, workers: 2, submitted: .zero, chunks: [
            ChunkTrace.Chunk(index: 0, worker: 1, start: 0, items: 1, cut: .zero, started: ms(1), finished: ms(10),
                             arguments: ms(1), bodies: ms(7), results: ms(1)),
            ChunkTrace.Chunk(index: 1, worker: 2, start: 1, items: 1, cut: .zero, started: ms(1), finished: ms(5),
                             arguments: .zero, bodies: ms(4), results: .zero),
        ])
        let breakdown = job.breakdown
        XCTAssertEqual(breakdown.span, ms(10))
        XCTAssertEqual(breakdown.bodies, 11.0 / 20, accuracy: 1e-9)
        XCTAssertEqual(breakdown.codec, 2.0 / 20, accuracy: 1e-9)
        XCTAssertEqual(breakdown.dispatch, 2.0 / 20, accuracy: 1e-9)
        XCTAssertEqual(breakdown.idle, 5.0 / 20, accuracy: 1e-9)
        XCTAssertEqual(breakdown.imbalance, 10.0 / 7.5, accuracy: 1e-9)
    }
}
