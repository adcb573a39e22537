/// The whole life of one pool as a value: its phase, its workers and their threads, and `join()`.
///
/// `PoolCore` holds one under its lifecycle lock and feeds it events; each event has its own method
/// and its own action enum, which the core performs after unlocking (starting or joining a thread,
/// failing jobs). Nothing here blocks, calls user code or touches a thread, so the rules are read,
/// and tested, in one place (`PoolStateMachineTests`). CPython spreads the same rules over three
/// helper threads, sentinels and flags, which is where its shutdown hangs come from.
///
/// The per-task path never comes here: the job cache and the task channel have locks of their own,
/// and the phase is mirrored in an atomic for them (`PoolCore.acceptance`).
struct PoolStateMachine {
    enum Phase: Equatable {
        /// Accepting work.
        case running
        /// `close()` was called (or the last handle released): no new work; queued work runs; the
        /// channel closes once the cache is empty, and the workers then exit.
        case closed
        /// `terminate()` was called: queued work was dropped and every job failed.
        case terminated
        /// An initializer threw: every job failed with `.broken(reason)`; no new work.
        case broken(String)

        var isRunning: Bool { self == .running }
    }

    /// A live worker: its counters and, once started, its thread.
    struct WorkerRecord {
        let id: Int
        let counters: WorkerCounters
        var thread: WorkerThread?
    }

    private(set) var phase = Phase.running
    /// Workers started and not yet exited.
    private(set) var workers: [Int: WorkerRecord] = [:]
    /// Threads that exited and that nobody has joined yet.
    private var unjoined: [WorkerThread] = []
    /// `join()` calls joining threads right now (a second caller waits for them to finish).
    private var joinsInProgress = 0
    /// The last `Pool` handle is gone: nobody will join, so threads detach instead.
    private(set) var released = false
    private(set) var workerRestarts = 0
    /// The counts of workers that exited.
    private(set) var retired = CounterTotals()

    // MARK: Starting

    /// Records the first workers, before any event.
    mutating func started(_ records: [WorkerRecord]) {
        for record in records { workers[record.id] = record }
    }

    /// Records the thread of a worker (right after it was created, under the same lock).
    mutating func threadCreated(_ thread: WorkerThread, worker: Int) {
        workers[worker]?.thread = thread
    }

    // MARK: Phase changes

    enum CloseAction: Equatable {
        case none
        /// The pool just closed: refuse waiting submitters, tell lazy inputs, close the channel
        /// once the cache is empty.
        case closed
    }

    mutating func close() -> CloseAction {
        guard phase == .running else { return .none }
        phase = .closed
        return .closed
    }

    enum AbortAction: Equatable {
        case none
        /// Drop the queue and fail every job in the cache with this error.
        case abort(PoolError)
    }

    mutating func terminate() -> AbortAction {
        switch phase {
        case .running, .closed:
            phase = .terminated
            return .abort(.terminated)
        case .broken:
            // Already failed and drained; `terminate()` only records that it was called.
            phase = .terminated
            return .none
        case .terminated:
            return .none
        }
    }

    mutating func initializerFailed(reason: String) -> AbortAction {
        switch phase {
        case .running, .closed:
            phase = .broken(reason)
            return .abort(.broken(reason))
        case .terminated, .broken:
            return .none
        }
    }

    // MARK: Workers leaving

    enum WorkerExitAction {
        /// Start this replacement worker; its thread joins `predecessor` (the exiting one) first.
        case replace(WorkerRecord, predecessor: WorkerThread?)
        /// The worker leaves; its thread will be joined by `join()`.
        case exit
        /// The worker leaves and nobody will join its thread: it detaches itself.
        case exitDetached
    }

    /// A worker thread is about to exit; `wantsReplacement` after `maxTasksPerWorker` chunks.
    /// `replacement` is the id a replacement would get.
    mutating func workerExiting(id: Int, wantsReplacement: Bool, replacement: Int, counters: WorkerCounters) -> WorkerExitAction {
        let record = workers.removeValue(forKey: id)
        retired += counters.totals
        if wantsReplacement && (phase == .running || phase == .closed) {
            workerRestarts += 1
            let next = WorkerRecord(id: replacement, counters: WorkerCounters(), thread: nil)
            workers[replacement] = next
            return .replace(next, predecessor: record?.thread)
        }
        if released { return .exitDetached }
        if let thread = record?.thread { unjoined.append(thread) }
        return .exit
    }

    // MARK: Release and join

    enum ReleaseAction {
        /// Detach these threads, which exited and will never be joined.
        case detach([WorkerThread])
    }

    /// The last `Pool` handle went away (after `close()`): nobody can call `join()` any more.
    mutating func release() -> ReleaseAction {
        released = true
        defer { unjoined = [] }
        return .detach(unjoined)
    }

    enum JoinAction {
        /// `join()` before `close()`/`terminate()`.
        case stillRunning
        /// Workers are still alive: wait for the lifecycle condition, then ask again.
        case waitForWorkers
        /// Join these threads (outside the lock), then call `joinFinished()`.
        case join([WorkerThread])
        /// Another `join()` is joining threads: wait for it, then ask again.
        case waitForOtherJoin
        /// Every thread has been joined.
        case done
    }

    /// Whether `join()` gets an answer other than "wait": the pool is running (refuse), or no
    /// worker is alive and no other `join()` is half-way through joining threads.
    var canAnswerJoin: Bool {
        if phase == .running { return true }
        return workers.isEmpty && (!unjoined.isEmpty || joinsInProgress == 0)
    }

    /// A `join()` call asks what to do next.
    mutating func join() -> JoinAction {
        if phase == .running { return .stillRunning }
        if !workers.isEmpty { return .waitForWorkers }
        if !unjoined.isEmpty {
            joinsInProgress += 1
            defer { unjoined = [] }
            return .join(unjoined)
        }
        return joinsInProgress > 0 ? .waitForOtherJoin : .done
    }

    mutating func joinFinished() {
        joinsInProgress -= 1
    }

    // MARK: Statistics

    /// The counts of live and exited workers.
    var totals: (workersAlive: Int, workersBusy: Int, counts: CounterTotals) {
        var counts = retired
        var busy = 0
        for record in workers.values {
            counts += record.counters.totals
            if record.counters.busy.load(ordering: .relaxed) { busy += 1 }
        }
        return (workers.count, busy, counts)
    }
}
