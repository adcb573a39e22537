import XCTest
@testable import WorkerPool

/// The pool's rules as values, tested without threads: every event of each state machine and the
/// action it asks for.
final class PoolStateMachineTests: XCTestCase {
    private func record(_ id: Int) -> PoolStateMachine.WorkerRecord {
        PoolStateMachine.WorkerRecord(id: id, counters: WorkerCounters(), thread: nil)
    }

    func testCloseOnceThenNothing() {
        var machine = PoolStateMachine()
        XCTAssertEqual(machine.close(), .closed)
        XCTAssertEqual(machine.phase, .closed)
        XCTAssertEqual(machine.close(), .none)
        XCTAssertEqual(machine.terminate(), .abort(.terminated), "terminate after close still fails what is pending")
        XCTAssertEqual(machine.close(), .none)
        XCTAssertEqual(machine.terminate(), .none)
    }

    func testABrokenPoolIsNotAbortedTwice() {
        var machine = PoolStateMachine()
        XCTAssertEqual(machine.initializerFailed(reason: "boom"), .abort(.broken("boom")))
        XCTAssertEqual(machine.initializerFailed(reason: "again"), .none)
        XCTAssertEqual(machine.phase, .broken("boom"))
        XCTAssertEqual(machine.terminate(), .none, "already failed and drained")
        XCTAssertEqual(machine.phase, .terminated)
    }

    func testJoinWaitsForWorkersThenJoinsEachThreadOnce() {
        var machine = PoolStateMachine()
        machine.started([record(1), record(2)])
        guard case .stillRunning = machine.join() else { return XCTFail("join before close") }
        XCTAssertTrue(machine.canAnswerJoin, "a running pool answers at once: refuse")
        _ = machine.close()
        XCTAssertFalse(machine.canAnswerJoin)
        guard case .waitForWorkers = machine.join() else { return XCTFail() }
        guard case .exit = machine.workerExiting(id: 1, wantsReplacement: false, replacement: 10, counters: WorkerCounters()) else { return XCTFail() }
        XCTAssertFalse(machine.canAnswerJoin)
        guard case .exit = machine.workerExiting(id: 2, wantsReplacement: false, replacement: 11, counters: WorkerCounters()) else { return XCTFail() }
        XCTAssertTrue(machine.canAnswerJoin)
        // No thread handles were recorded in this test, so there is nothing to join.
        guard case .done = machine.join() else { return XCTFail() }
    }

    func testAReplacementOnlyWhileThePoolRunsOrDrains() {
        var machine = PoolStateMachine()
        machine.started([record(1), record(2)])
        guard case .replace(let next, _) = machine.workerExiting(id: 1, wantsReplacement: true, replacement: 3, counters: WorkerCounters()) else {
            return XCTFail("a running pool replaces a worker that reached maxTasksPerWorker")
        }
        XCTAssertEqual(next.id, 3)
        XCTAssertEqual(machine.workerRestarts, 1)
        _ = machine.close()
        guard case .replace = machine.workerExiting(id: 3, wantsReplacement: true, replacement: 4, counters: WorkerCounters()) else {
            return XCTFail("a closed pool still drains its queue, with replacements")
        }
        _ = machine.terminate()
        guard case .exit = machine.workerExiting(id: 4, wantsReplacement: true, replacement: 5, counters: WorkerCounters()) else {
            return XCTFail("a terminated pool starts no replacement")
        }
        XCTAssertEqual(machine.workers.keys.sorted(), [2])
    }

    func testAReleasedPoolsThreadsDetach() {
        var machine = PoolStateMachine()
        machine.started([record(1), record(2)])
        _ = machine.close()
        guard case .exit = machine.workerExiting(id: 1, wantsReplacement: false, replacement: 9, counters: WorkerCounters()) else { return XCTFail() }
        guard case .detach = machine.release() else { return XCTFail() }
        guard case .exitDetached = machine.workerExiting(id: 2, wantsReplacement: false, replacement: 9, counters: WorkerCounters()) else {
            return XCTFail("after release nobody joins: the last thread detaches itself")
        }
    }

    func testCountersOfExitedWorkersAreKept() {
        var machine = PoolStateMachine()
        machine.started([record(1)])
        let counters = WorkerCounters()
        counters.itemsCompleted.store(5, ordering: .relaxed)
        counters.chunksCompleted.store(2, ordering: .relaxed)
        _ = machine.workerExiting(id: 1, wantsReplacement: false, replacement: 2, counters: counters)
        XCTAssertEqual(machine.totals.counts, CounterTotals(chunksCompleted: 2, itemsCompleted: 5, itemsFailed: 0, itemsCancelled: 0))
        XCTAssertEqual(machine.totals.workersAlive, 0)
    }
}

/// A job stand-in for the channel's rules (the channel only looks at its identity).
private final class StubJob: Job, @unchecked Sendable {  // `cacheSlot` is never touched concurrently in these single-threaded tests
    let id: Int
    var cacheSlot = -1
    init(_ id: Int) { self.id = id }
    func runChunk(on worker: WorkerContext) -> Bool { true }
    func abort(_ error: PoolError) {}
    var isCancelled: Bool { false }
}

/// One take of at most one job, as these tests drive the channel.
private enum Took {
    case run(any Job, TaskChannelState.Wakes)
    case spin, park, closed
}

private extension TaskChannelState {
    mutating func take(worker: Int, parker: Parker, wasSpinning: Bool, maySpin: Bool, maxSpinners: Int) -> Took {
        var batch: [any Job] = []
        switch take(worker: worker, parker: parker, wasSpinning: wasSpinning, maySpin: maySpin, maxSpinners: maxSpinners,
                    quota: 1, into: &batch) {
        case .run(let wakes): return .run(batch[0], wakes)
        case .spin: return .spin
        case .park: return .park
        case .closed: return .closed
        }
    }
}

final class TaskChannelStateTests: XCTestCase {
    func testAnUnboundedChannelAdmitsEverythingAndWakesAnIdleWorker() {
        var state = TaskChannelState(limit: nil)
        let parker = Parker.make()
        guard case .park = state.take(worker: 1, parker: parker, wasSpinning: false, maySpin: false, maxSpinners: 1) else { return XCTFail() }
        XCTAssertEqual(state.reserve(id: 1, waiter: nil), .admitted)
        guard case .queued(let wakes) = state.push(StubJob(1)) else { return XCTFail() }
        XCTAssertEqual(wakes.parkers.count, 1, "the idle worker is woken")
        guard case .queued(let none) = state.push(StubJob(2)) else { return XCTFail() }
        XCTAssertTrue(none.isEmpty, "no one idle is left to wake")
        guard case .run(let first, _) = state.take(worker: 1, parker: parker, wasSpinning: false, maySpin: true, maxSpinners: 1) else { return XCTFail() }
        XCTAssertEqual(first.id, 1, "first in, first out")
    }

    func testASpinningWorkerSavesTheWakeUp() {
        var state = TaskChannelState(limit: nil)
        let a = Parker.make(), b = Parker.make()
        guard case .park = state.take(worker: 1, parker: a, wasSpinning: false, maySpin: false, maxSpinners: 1) else { return XCTFail() }
        guard case .spin = state.take(worker: 2, parker: b, wasSpinning: false, maySpin: true, maxSpinners: 1) else { return XCTFail() }
        XCTAssertEqual(state.spinners, 1)
        guard case .queued(let wakes) = state.push(StubJob(1)) else { return XCTFail() }
        XCTAssertTrue(wakes.isEmpty, "one entry, one spinner: nobody needs waking")
        guard case .queued(let more) = state.push(StubJob(2)) else { return XCTFail() }
        XCTAssertEqual(more.parkers.count, 1, "two entries, one spinner: the idle worker is woken")
        guard case .run = state.take(worker: 2, parker: b, wasSpinning: true, maySpin: true, maxSpinners: 1) else { return XCTFail() }
        XCTAssertEqual(state.spinners, 0)
    }

    func testRoomIsTakenPerEntryAndGivenBackInArrivalOrder() {
        var state = TaskChannelState(limit: 2)
        XCTAssertEqual(state.reserve(id: 1, waiter: nil), .admitted)
        _ = state.push(StubJob(1))
        XCTAssertEqual(state.reserve(id: 2, waiter: nil), .admitted)
        _ = state.push(StubJob(2))
        let waiting = Parker.make()
        XCTAssertEqual(state.reserve(id: 3, waiter: .thread(waiting)), .wait)
        guard case .deferred = state.requeue(StubJob(4), id: 4) else { return XCTFail("no room: the token waits in line") }
        XCTAssertEqual(state.roomHeld, 2)
        // A worker takes entry 1: its room goes to the first in line (the thread), not the token.
        guard case .run(_, let wakes) = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: false, maxSpinners: 1) else {
            return XCTFail()
        }
        XCTAssertEqual(wakes.parkers.count, 1)
        XCTAssertEqual(state.pickUp(id: 3), .admitted)
        XCTAssertEqual(state.pickUp(id: 3), .stillWaiting, "room is picked up once")
        XCTAssertEqual(state.roomHeld, 2)
        XCTAssertEqual(state.count, 1, "the token still waits for room")
        // The thread's job is queued; the next take frees room for the token, which is queued then.
        _ = state.push(StubJob(3))
        _ = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: false, maxSpinners: 1)
        XCTAssertEqual(state.count, 2)
        XCTAssertEqual(state.waitingForRoom, 0)
        XCTAssertEqual(state.roomHeld, 2)
    }

    func testALongQueueIsTakenInBatchesThatLeaveTheOtherWorkersTheirShare() {
        var state = TaskChannelState(limit: nil, workers: 2)
        for id in 1...100 { _ = state.push(StubJob(id)) }
        var batch: [any Job] = []
        guard case .run = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: false, maxSpinners: 1,
                                     quota: .max, into: &batch) else { return XCTFail() }
        XCTAssertEqual(batch.map(\.id), Array(1...25), "a quarter of the queue with two workers, in order")
        batch = []
        _ = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: false, maxSpinners: 1, quota: 3, into: &batch)
        XCTAssertEqual(batch.count, 3, "never beyond the worker's remaining maxTasksPerWorker")
        while state.count > 0 {
            let before = state.count
            batch = []
            _ = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: false, maxSpinners: 1, quota: .max, into: &batch)
            if before < 4 { XCTAssertEqual(batch.count, 1, "a short queue is taken one at a time") }
        }
    }

    func testAWithdrawnEntryGivesItsRoomBackOnceAndStaysQueued() {
        var state = TaskChannelState(limit: 1)
        let job = StubJob(1)
        XCTAssertEqual(state.reserve(id: 1, waiter: nil), .admitted)
        _ = state.push(job)
        XCTAssertEqual(state.reserve(id: 2, waiter: .thread(Parker.make())), .wait)
        let wakes = state.withdraw(job)
        XCTAssertEqual(wakes.parkers.count, 1, "the room goes to the waiter at once")
        XCTAssertTrue(state.withdraw(job).isEmpty, "withdrawing twice gives nothing twice")
        XCTAssertEqual(state.roomHeld, 1)
        guard case .run(let taken, let none) = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: false, maxSpinners: 1) else {
            return XCTFail()
        }
        XCTAssertTrue(taken === job, "the entry stays queued; its worker finds the job cancelled")
        XCTAssertTrue(none.isEmpty)
        XCTAssertEqual(state.roomHeld, 1, "taking a withdrawn entry frees nothing more")
    }

    func testACancelledWaiterLeavesTheLineInConstantTime() {
        var state = TaskChannelState(limit: 1)
        XCTAssertEqual(state.reserve(id: 1, waiter: nil), .admitted)
        for id in 2...1000 { XCTAssertEqual(state.reserve(id: UInt64(id), waiter: .thread(Parker.make())), .wait) }
        for id in stride(from: 2, through: 1000, by: 2) { XCTAssertNotNil(state.cancelReservation(id: UInt64(id))) }
        XCTAssertNil(state.cancelReservation(id: 2), "already gone")
        XCTAssertEqual(state.waitingForRoom, 499)
        let wakes = state.releaseReservation()
        XCTAssertEqual(wakes.parkers.count, 1)
        XCTAssertEqual(state.pickUp(id: 3), .admitted, "the oldest waiter still in line")
    }

    func testCloseRefusesSubmittersButKeepsTokens() {
        var state = TaskChannelState(limit: 1)
        XCTAssertEqual(state.reserve(id: 1, waiter: nil), .admitted)
        _ = state.push(StubJob(1))
        XCTAssertEqual(state.reserve(id: 2, waiter: .thread(Parker.make())), .wait)
        guard case .deferred = state.requeue(StubJob(3), id: 3) else { return XCTFail("no room: the token waits in line") }
        let wakes = state.refuseSubmissions(.notRunning)
        XCTAssertEqual(wakes.parkers.count, 1)
        XCTAssertEqual(state.pickUp(id: 2), .refused(.notRunning))
        XCTAssertEqual(state.reserve(id: 4, waiter: nil), .refused(.notRunning))
        XCTAssertEqual(state.waitingForRoom, 1, "the token keeps its place: queued work still runs")
        _ = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: false, maxSpinners: 1)
        XCTAssertEqual(state.count, 1, "the token was queued when room freed")
        _ = state.closeReceivers()
        guard case .run = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: false, maxSpinners: 1) else { return XCTFail() }
        guard case .closed = state.take(worker: 1, parker: Parker.make(), wasSpinning: false, maySpin: true, maxSpinners: 1) else {
            return XCTFail("closed and drained")
        }
    }

    func testTerminateDropsEverythingAndWakesEveryone() {
        var state = TaskChannelState(limit: 2)
        let idle = Parker.make()
        _ = state.take(worker: 9, parker: idle, wasSpinning: false, maySpin: false, maxSpinners: 1)
        _ = state.reserve(id: 1, waiter: nil)
        _ = state.push(StubJob(1))
        _ = state.reserve(id: 2, waiter: nil)
        _ = state.push(StubJob(2))
        XCTAssertEqual(state.reserve(id: 3, waiter: .thread(Parker.make())), .wait)
        let (dropped, wakes) = state.terminate(refusing: .broken("boom"))
        XCTAssertEqual(dropped.map(\.id), [1, 2])
        XCTAssertEqual(wakes.parkers.count, 1, "the waiting submitter")
        XCTAssertEqual(state.pickUp(id: 3), .refused(.broken("boom")))
        XCTAssertEqual(state.roomHeld, 0)
        // A submitter admitted before the terminate gives its reservation back after it: nothing
        // is subtracted from room that is no longer counted (the random stress found this one).
        _ = state.releaseReservation()
        XCTAssertEqual(state.roomHeld, 0)
        guard case .dropped = state.push(StubJob(4)) else { return XCTFail("a terminated channel queues nothing") }
    }
}

final class FeedStateMachineTests: XCTestCase {
    func testTheTokenCyclesUntilTheInputEnds() {
        var feed = FeedStateMachine(window: nil)
        guard case .cut = feed.take() else { return XCTFail() }
        let first = feed.cut(items: 10, inputEnded: false)
        XCTAssertEqual(first.chunkIndex, 0)
        XCTAssertTrue(first.requeue)
        guard case .cut = feed.take() else { return XCTFail() }
        let last = feed.cut(items: 3, inputEnded: true)
        XCTAssertEqual(last.chunkIndex, 1)
        XCTAssertFalse(last.requeue)
        XCTAssertFalse(feed.claimFinish(), "chunks still running")
        feed.chunkDone(timing: nil)
        feed.chunkDone(timing: nil)
        XCTAssertTrue(feed.claimFinish())
        XCTAssertFalse(feed.claimFinish(), "finished is reported once")
        XCTAssertFalse(feed.endedEarly)
    }

    func testAWindowParksTheTokenAndConsumptionUnparksIt() {
        var feed = FeedStateMachine(window: 2)
        _ = feed.take()
        XCTAssertTrue(feed.cut(items: 1, inputEnded: false).requeue)
        _ = feed.take()
        XCTAssertFalse(feed.cut(items: 1, inputEnded: false).requeue, "two chunks ahead of the consumer: parked")
        XCTAssertEqual(feed.token, .parked)
        XCTAssertTrue(feed.consumed(chunks: 1), "room in the window: the token goes back")
        XCTAssertEqual(feed.token, .queued)
    }

    func testLiftingTheWindowUnparks() {
        var feed = FeedStateMachine(window: 1)
        _ = feed.take()
        _ = feed.cut(items: 1, inputEnded: false)
        XCTAssertEqual(feed.token, .parked)
        XCTAssertTrue(feed.liftWindow())
        _ = feed.take()
        XCTAssertTrue(feed.cut(items: 1, inputEnded: false).requeue, "no window any more")
    }

    func testStoppingKeepsWhatWasReadOrDropsIt() {
        var keep = FeedStateMachine(window: 1)
        _ = keep.take()
        _ = keep.cut(items: 4, inputEnded: false)
        XCTAssertTrue(keep.requestStop(.keepRead), "a parked token retires at once")
        keep.chunkDone(timing: nil)
        XCTAssertTrue(keep.claimFinish())
        XCTAssertTrue(keep.endedEarly, "stopped before the input ended")

        var drop = FeedStateMachine(window: nil)
        _ = drop.take()
        XCTAssertFalse(drop.requestStop(.dropAll), "a held token retires at its next step")
        let cut = drop.cut(items: 5, inputEnded: false)
        XCTAssertNil(cut.chunkIndex)
        XCTAssertEqual(cut.droppedItems, 5)
        XCTAssertFalse(cut.requeue)
        XCTAssertTrue(drop.claimFinish())
    }
}

final class IMapBufferTests: XCTestCase {
    private func chunk(_ values: [Int], failures: [Int] = []) -> ChunkResults<Int> {
        ChunkResults(values: values, failures: failures.map { ItemFailure(index: $0, error: TestError.boom($0)) },
                     count: values.count + failures.count)
    }

    func testOrderedReleasesChunksInIndexOrder() {
        var buffer = IMapBuffer<Int>(ordered: true)
        buffer.deliver(chunk([3, 4]), index: 1)
        XCTAssertTrue(buffer.isWaiting, "chunk 0 has not arrived")
        buffer.deliver(chunk([1, 2]), index: 0)
        var values: [Int] = []
        while case .item(.success(let value), _) = buffer.next() { values.append(value) }
        XCTAssertEqual(values, [1, 2, 3, 4])
        buffer.setTotal(2, endedEarly: false)
        guard case .end = buffer.next() else { return XCTFail() }
    }

    func testAFailureTakesItsPositionAndTheStreamGoesOn() {
        var buffer = IMapBuffer<Int>(ordered: true)
        buffer.deliver(chunk([10, 30], failures: [1]), index: 0)
        guard case .item(.success(10), false) = buffer.next() else { return XCTFail() }
        guard case .item(.failure, false) = buffer.next() else { return XCTFail() }
        guard case .item(.success(30), true) = buffer.next() else { return XCTFail() }
    }

    func testAStreamCutShortEndsWithNotRunning() {
        var buffer = IMapBuffer<Int>(ordered: false)
        buffer.deliver(chunk([1]), index: 0)
        buffer.setTotal(1, endedEarly: true)
        guard case .item(.success(1), true) = buffer.next() else { return XCTFail() }
        guard case .failed(let error) = buffer.next() else { return XCTFail() }
        XCTAssertEqual(error as? PoolError, .notRunning)
    }

    /// The consumer's per-item step (`takeFromCurrent`, inlined into callers) reads only the chunk
    /// that `next()` started: moving to the next chunk, the end and failures of the stream stay in
    /// `next()`.
    func testTheFastStepReadsOnlyTheChunkBeingConsumed() {
        var buffer = IMapBuffer<Int>(ordered: true)
        guard case .none = buffer.takeFromCurrent() else { return XCTFail("no chunk is being consumed yet") }
        buffer.deliver(chunk([1, 3], failures: [1]), index: 0)
        buffer.deliver(chunk([4]), index: 1)
        guard case .none = buffer.takeFromCurrent() else { return XCTFail("a delivered chunk is started by next()") }
        XCTAssertFalse(buffer.isWaiting)
        guard case .item(.success(1), false) = buffer.next() else { return XCTFail() }
        guard case .failure(let error, false) = buffer.takeFromCurrent() else { return XCTFail() }
        XCTAssertEqual(error as? TestError, .boom(1))
        guard case .value(3, true) = buffer.takeFromCurrent() else { return XCTFail() }
        guard case .none = buffer.takeFromCurrent() else { return XCTFail("chunk 0 is done; chunk 1 is not started") }
        XCTAssertFalse(buffer.isWaiting, "chunk 1 is ready")
        guard case .item(.success(4), true) = buffer.next() else { return XCTFail() }
        XCTAssertTrue(buffer.isWaiting, "the total is not known yet")
        buffer.setTotal(2, endedEarly: false)
        guard case .none = buffer.takeFromCurrent() else { return XCTFail() }
        guard case .end = buffer.next() else { return XCTFail() }
    }

    func testATerminalErrorComesAfterWhatWasComputed() {
        var buffer = IMapBuffer<Int>(ordered: true)
        buffer.deliver(chunk([7]), index: 0)
        buffer.fail(PoolError.terminated)
        guard case .item(.success(7), true) = buffer.next() else { return XCTFail() }
        guard case .failed(let error) = buffer.next() else { return XCTFail() }
        XCTAssertEqual(error as? PoolError, .terminated)
        guard case .failed = buffer.next() else { return XCTFail("and keeps throwing it") }
    }
}
