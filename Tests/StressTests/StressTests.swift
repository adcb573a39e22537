import Foundation
import XCTest
@testable import WorkerPool

/// The stress suite: random mixes of every kind of submission from 8 threads, checked item by item,
/// with worker replacement, termination at random moments, callbacks that submit work, and pools
/// created and destroyed in a loop. Seeds are printed; `STRESS_SEED=<n> STRESS_ROUNDS=1 swift test
/// --filter StressTests` replays a run; `STRESS_ROUNDS=<k>` repeats each mixed run with k seeds.
final class StressTests: XCTestCase {
    /// No pool may hold a job in its cache after a test (an undelivered result). The audit exists
    /// in debug builds only.
    override func tearDown() {
        #if DEBUG
        let left = JobCacheAudit.waitUntilEmpty(timeout: .seconds(60))
        XCTAssertEqual(left, 0, "\(left) jobs were left in a pool's job cache after the test")
        #endif
        super.tearDown()
    }

    /// Runs `options` `STRESS_ROUNDS` times (default 1), each round with its own seed (round 0 uses
    /// `options.seed`, so `STRESS_SEED=<n> STRESS_ROUNDS=1` replays a printed run exactly).
    private func check(_ options: StressOptions, file: StaticString = #filePath, line: UInt = #line) throws {
        for round in 0..<stressRounds() {
            var options = options
            options.seed = options.seed &+ UInt64(round) &* 7919
            let report = try StressRun(options).run()
            print("stress seed \(options.seed), codec \(options.codec), workers \(options.workers), "
                  + "maxTasksPerWorker \(options.maxTasksPerWorker.map(String.init) ?? "-"): \(report.summary)")
            for problem in report.problems.prefix(20) { XCTFail(problem, file: file, line: line) }
            XCTAssertTrue(report.problems.isEmpty, "\(report.problems.count) problems; replay with STRESS_SEED=\(options.seed) STRESS_ROUNDS=1",
                          file: file, line: line)
            XCTAssertGreaterThan(report.operations, 0, file: file, line: line)
            if !report.problems.isEmpty { return }
        }
    }

    func testMixedLoadBinary() throws {
        try check(StressOptions(seed: stressSeed(1001)))
    }

    func testMixedLoadJSONAndPassthrough() throws {
        var json = StressOptions(seed: stressSeed(1002), codec: .json)
        json.operationsPerSubmitter = 40
        try check(json)
        try check(StressOptions(seed: stressSeed(1003), workers: 4, codec: .passthrough))
    }

    func testConstantWorkerReplacement() throws {
        var options = StressOptions(seed: stressSeed(1004), maxTasksPerWorker: 1)
        options.operationsPerSubmitter = 40
        try check(options)
    }

    func testTerminateAtARandomMoment() throws {
        var random = StressRandom(seed: stressSeed(1005))
        for round in 0..<6 {
            var options = StressOptions(seed: stressSeed(2000) &+ UInt64(round))
            options.operationsPerSubmitter = 60
            options.terminateAfterOperations = Int.random(in: 1...(options.submitters * options.operationsPerSubmitter), using: &random)
            print("terminate after \(options.terminateAfterOperations!) operations")
            try check(options)
        }
    }

    func testCallbacksThatSubmitWorkToTheSamePool() throws {
        var options = StressOptions(seed: stressSeed(1006))
        options.callbacksSubmit = true
        options.kinds = [.apply, .apply, .map]
        try check(options)
    }

    func testManyPoolsCreatedAndDestroyed() throws {
        let threadsBefore = ProcessProbe.threadCount()
        let residentBefore = ProcessProbe.residentBytes()
        for round in 0..<200 {
            let pool = try Pool(workers: 2, maxTasksPerWorker: round % 3 == 0 ? 2 : nil)
            let results = try (0..<5).map { i in try pool.applyAsync(i) { $0 * 2 } }
            XCTAssertEqual(try pool.map(Array(0..<50)) { $0 + 1 }, Array(1...50))
            for (i, result) in results.enumerated() { XCTAssertEqual(try result.get(timeout: .seconds(60)), i * 2) }
            if round % 2 == 0 {
                pool.close()
                try pool.join()
            } else {
                let core = pool.core
                _ = consume pool  // released while running: acts as close(), without waiting
                core.terminate()
                try core.join()  // a released pool's threads detach: join() sees them leave, not gone
            }
        }
        let start = ContinuousClock.now
        while WorkerThread.liveCount != 0 && ContinuousClock.now - start < .seconds(60) { Event().wait(timeout: .milliseconds(2)) }
        XCTAssertEqual(WorkerThread.liveCount, 0)
        XCTAssertLessThanOrEqual(ProcessProbe.threadCount(), threadsBefore + 2, "threads grew")
        let growth = ProcessProbe.residentBytes() - residentBefore
        print("200 pools: resident memory grew by \(growth / 1024) KiB")
        XCTAssertLessThan(growth, 30 << 20, "memory grew by \(growth) bytes")
    }

    func testCloseRacingWithSubmissions() throws {
        for round in 0..<5 {
            let pool = try Pool(workers: 2)
            let accepted = Collected<AsyncResult<Int>>()
            let refused = Tally()
            let unexpected = Collected<String>()
            let started = Tally()
            let go = Event()
            let finished = Tally()
            let allFinished = Event()
            for submitter in 0..<8 {
                Thread.detachNewThread {
                    started.add()
                    go.wait(timeout: .seconds(60))
                    for i in 0..<200 {
                        do {
                            accepted.append(try pool.applyAsync(submitter * 1000 + i) { $0 })
                        } catch PoolError.notRunning {
                            refused.add()
                        } catch {
                            unexpected.append("\(error)")
                        }
                    }
                    if finished.add() == 8 { allFinished.set() }
                }
            }
            go.set()
            pool.close()  // races with the submitters
            XCTAssertTrue(allFinished.wait(timeout: .seconds(120)))
            try pool.join()
            // Each submission either ran to completion or was refused: none lost.
            XCTAssertEqual(accepted.count + refused.value, 8 * 200, "round \(round)")
            for result in accepted.values { XCTAssertNoThrow(try result.get(timeout: .zero)) }
            XCTAssertEqual(unexpected.values, [])
            XCTAssertEqual(pool.statistics.jobsInCache, 0)
        }
    }

    func testReleaseOfARunningPoolFromAnotherThread() throws {
        var pool: Pool? = try Pool(workers: 2)
        let release = Event()
        let results = try (0..<20).map { i in
            try pool!.applyAsync(i) { (x: Int) -> Int in release.wait(timeout: .seconds(60)); return x }
        }
        let handedOver = Event()
        let holder = LockedBox.make(pool)
        pool = nil
        Thread.detachNewThread {
            // The last reference goes away on this thread: deinit closes the pool here.
            var taken = holder.withLockedValue { held -> Pool? in
                defer { held = nil }
                return held
            }
            XCTAssertNotNil(taken)
            taken = nil
            handedOver.set()
        }
        XCTAssertTrue(handedOver.wait(timeout: .seconds(60)))
        release.set()
        for (i, result) in results.enumerated() {
            XCTAssertEqual(try result.get(timeout: .seconds(60)), i, "released, not terminated: every result arrives")
        }
        let start = ContinuousClock.now
        while WorkerThread.liveCount != 0 && ContinuousClock.now - start < .seconds(60) { Event().wait(timeout: .milliseconds(2)) }
        XCTAssertEqual(WorkerThread.liveCount, 0)
    }

    func testEndlessIMapRunsInBoundedMemory() throws {
        let total = 2_000_000
        print("endless imap: \(total) items, buffersize 8, chunksize 100")
        try withPool(workers: 2) { pool in
            let iterator = try pool.imap((0...).lazy.map { $0 }, chunksize: 100, buffersize: 8) { $0 &+ 1 }
            var baseline = 0
            var peak = 0
            for expected in 0..<total {
                guard let value = try iterator.next(timeout: .seconds(60)) else { return XCTFail("ended early") }
                if value != expected + 1 { return XCTFail("item \(expected) is \(value)") }
                if expected == 100_000 { baseline = ProcessProbe.residentBytes() }
                if expected > 100_000 && expected % 100_000 == 0 { peak = max(peak, ProcessProbe.residentBytes()) }
            }
            iterator.cancel()
            let growth = peak - baseline
            let allowance = (50 << 20) + sanitizerQuarantineBytes()
            print("endless imap: resident memory grew by \(growth / 1024) KiB after the first 100,000 items (bound \(allowance >> 20) MiB)")
            XCTAssertLessThan(growth, allowance)
        }
    }

    /// The randomized-configuration stress: `STRESS_SEEDS` seeds (default 24) from `STRESS_SEED`
    /// (default 5000), each drawing a pool's configuration and a call mix (see
    /// `RandomConfigurationStress.swift`). A failing seed prints its configuration and replays with
    /// `STRESS_SEED=<seed> STRESS_SEEDS=1 swift test --filter testRandomConfigurations`.
    func testRandomConfigurations() throws {
        let first = stressSeed(5000)
        let seeds = max(1, ProcessInfo.processInfo.environment["STRESS_SEEDS"].flatMap { Int($0) } ?? 24)
        var totals = (operations: 0, items: 0, seconds: 0.0)
        for seed in first..<(first + UInt64(seeds)) {
            let run = try RandomStressRun(seed: seed)
            let report = run.run()
            totals.operations += report.operations
            totals.items += report.items
            totals.seconds += report.seconds
            print("random stress seed \(seed): \(run.configuration): \(report.summary)")
            for problem in report.problems.prefix(20) { XCTFail("seed \(seed): \(problem)") }
            if !report.problems.isEmpty {
                XCTFail("seed \(seed) (\(run.configuration)): \(report.problems.count) problems; "
                        + "replay with STRESS_SEED=\(seed) STRESS_SEEDS=1 swift test --filter testRandomConfigurations")
                return
            }
        }
        print(String(format: "random stress: %d seeds, %d operations, %d items, %.1f s", seeds, totals.operations, totals.items, totals.seconds))
    }

    /// The randomized stress finds each defect it exists for: with each one planted back (the
    /// fault stays armed, as a reverted fix would), some seed of the first ones CI runs reports it.
    func testTheRandomStressFindsPlantedDefects() throws {
        #if DEBUG
        let faults: [(FaultInjection.Fault, String)] = [
            (.leakRoom, "lost or hung"), (.releaseTerminates, "terminated"), (.requeueShortInput, "lost or hung"),
        ]
        for (fault, symptom) in faults {
            FaultInjection.arm(fault)
            var foundAt: UInt64?
            for seed in UInt64(5000)..<5024 {
                let run = try RandomStressRun(seed: seed, resultTimeout: .seconds(2))
                let report = run.run()
                if !report.problems.isEmpty {
                    FaultInjection.arm(.none)
                    run.cleanUp()
                    foundAt = seed
                    print("planted \(fault.rawValue): found by seed \(seed) (\(seed - 5000 + 1) seeds): \(report.problems.prefix(3))")
                    XCTAssertTrue(report.problems.contains { $0.contains(symptom) }, "\(fault.rawValue): \(report.problems.prefix(5))")
                    break
                }
            }
            FaultInjection.arm(.none)
            XCTAssertNotNil(foundAt, "the random stress missed the planted \(fault.rawValue) in 24 seeds")
        }
        #else
        throw XCTSkip("fault injection exists in debug builds only")
        #endif
    }

    /// The suite must be able to fail: each planted bug is caught by the verifier.
    func testPlantedBugsAreCaught() throws {
        #if DEBUG
        FaultInjection.arm(.runOneChunkTwice)
        var twice = StressOptions(seed: stressSeed(1007))
        twice.kinds = [.map]
        twice.maxItems = 100
        twice.operationsPerSubmitter = 5
        let twiceReport = try StressRun(twice).run()
        FaultInjection.arm(.none)
        print("planted chunk run twice: \(twiceReport.problems)")
        XCTAssertTrue(twiceReport.problems.contains { $0.contains("computed 2 times") || $0.contains("not computed exactly once") },
                      "the stress verifier missed a chunk computed twice")

        FaultInjection.arm(.loseOneIMapChunk)
        var lost = StressOptions(seed: stressSeed(1008))
        lost.kinds = [.imap]
        lost.maxItems = 50
        lost.submitters = 2
        lost.operationsPerSubmitter = 3
        lost.resultTimeout = .seconds(2)
        let lostReport = try StressRun(lost).run()
        FaultInjection.arm(.none)
        print("planted lost imap chunk: \(lostReport.problems)")
        XCTAssertTrue(lostReport.problems.contains { $0.contains("lost") }, "the stress verifier missed a lost result")
        #else
        throw XCTSkip("fault injection exists in debug builds only")
        #endif
    }
}

// MARK: Process facts

/// Memory that AddressSanitizer holds back from reuse (its quarantine of freed blocks), which shows
/// as resident growth that is not the pool's: 0 without ASan; `quarantine_size_mb` from
/// `ASAN_OPTIONS`, or ASan's default of 256 MiB.
func sanitizerQuarantineBytes() -> Int {
    guard dlsym(nil, "__asan_init") != nil else { return 0 }
    let options = ProcessInfo.processInfo.environment["ASAN_OPTIONS"] ?? ""
    for option in options.split(separator: ":") where option.hasPrefix("quarantine_size_mb=") {
        if let megabytes = Int(option.dropFirst("quarantine_size_mb=".count)) { return megabytes << 20 }
    }
    return 256 << 20
}

