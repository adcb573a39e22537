import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The pool's task channel (CPython's `_inqueue`): a lock-guarded FIFO of jobs that workers take
/// one at a time, with a bounded pool's admission line in front of it.
///
/// The rules live in `TaskChannelState`; this class holds the state under one lock and performs
/// what each event asks after unlocking. A worker that finds the channel empty spins briefly before
/// it parks, and a submitter wakes a parked worker only when no spinning worker can take the entry:
/// on a busy pool no task costs a futex wake-up, and an idle pool parks every thread (no CPU).
final class TaskChannel: Sendable {
    private let state: LockedBox<TaskChannelState>
    /// The queue's length, mirrored outside the lock for spinning workers to watch; -1 once the
    /// receivers are closed, so that a spinning worker stops at once and goes to exit.
    private let pending = Atomic<Int>(0)
    /// Orders every resume of a waiting submitter before what the resumed task does next, for
    /// ThreadSanitizer (see `ResumeEdge`), without taking the channel's lock once more.
    private let resumeEdge = ResumeEdge()
    private let maxSpinners: Int

    /// How long an idle worker spins before it parks: about 20-50 µs on current machines, enough
    /// to catch the next task of a submitter that is still submitting.
    static let spinRounds = 200

    init(limit: Int?, workers: Int) {
        state = LockedBox.make(TaskChannelState(limit: limit, workers: workers))
        maxSpinners = max(1, workers / 2)
    }

    // MARK: Admission

    /// Reserves room for one entry, blocking the calling thread while a bounded pool is full.
    /// `help` runs queued work while waiting when the caller is one of the pool's own workers (a
    /// worker that blocked here could hold the very room it waits for).
    ///
    /// - Throws: the refusal (`.notRunning`, `.broken`) if the pool stops accepting work.
    func reserve(helping help: (() -> Bool)?) throws {
        let id = Waiter.nextID()
        let parker = Parker.current
        let first = state.withLockedValue { $0.reserve(id: id, waiter: help == nil ? .thread(parker) : nil) }
        switch first {
        case .admitted: return
        case .refused(let error): throw error
        case .wait: break
        }
        if let help {
            // A worker: never parks in the line; runs queued work (which frees room) and tries again.
            while true {
                switch state.withLockedValue({ $0.reserve(id: id, waiter: nil) }) {
                case .admitted: return
                case .refused(let error): throw error
                case .wait:
                    if !help() { sched_yield() }
                }
            }
        }
        while true {
            _ = parker.park()
            switch state.withLockedValue({ $0.pickUp(id: id) }) {
            case .admitted: return
            case .refused(let error): throw error
            case .stillWaiting: continue  // a permit left from an earlier wait of this thread
            }
        }
    }

    /// Reserves room for one entry, suspending the calling task while a bounded pool is full.
    ///
    /// - Throws: the refusal if the pool stops accepting work; `CancellationError` if the task is
    ///   cancelled while it waits (it then holds no room).
    func reserve() async throws {
        let id = Waiter.nextID()
        switch state.withLockedValue({ $0.reserve(id: id, waiter: nil) }) {
        case .admitted: return
        case .refused(let error): throw error
        case .wait: break
        }
        let admission = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<TaskChannelState.Admission, Never>) in
                let immediate: TaskChannelState.Admission? = state.withLockedValue { state in
                    if Task.isCancelled { return .cancelled }
                    switch state.reserve(id: id, waiter: .task(continuation)) {
                    case .admitted: return .admitted
                    case .refused(let error): return .refused(error)
                    case .wait: return nil
                    }
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            // Only this task's own waiter, resumed after unlocking; nothing else runs here.
            let waiter = state.withLockedValue { $0.cancelReservation(id: id) }
            if case .task(let continuation)? = waiter {
                resumeEdge.beforeResume()
                ThreadSanitizer.resumeHidingAccesses { continuation.resume(returning: .cancelled) }
            }
        }
        resumeEdge.afterResume()
        switch admission {
        case .admitted: return
        case .refused(let error): throw error
        case .cancelled: throw CancellationError()
        }
    }

    /// Gives back a reservation that was not used.
    func releaseReservation() {
        perform(state.withLockedValue { $0.releaseReservation() })
    }

    // MARK: Entries

    /// Queues a job (its room reserved). Returns false if the channel was terminated.
    @discardableResult
    func push(_ job: any Job) -> Bool {
        let action = state.withLockedValue { state -> TaskChannelState.PushAction in
            let action = state.push(job)
            updatePending(state.count)
            return action
        }
        // Consumed, not copied: a copy of the wakes retained and released their arrays.
        switch consume action {
        case .queued(let wakes): perform(wakes); return true
        case .dropped: return false
        }
    }

    /// Puts a feed token back on the channel, or in the admission line of a full bounded pool.
    func requeue(_ job: any Job) {
        let id = Waiter.nextID()
        let action = state.withLockedValue { state -> TaskChannelState.RequeueAction in
            let action = state.requeue(job, id: id)
            updatePending(state.count)
            return action
        }
        if case .queued(let wakes) = action { perform(wakes) }
    }

    /// The next jobs for a worker, put in `batch` (one, or several from a long queue, at most
    /// `quota`): spins, then parks while the channel is empty; false once closed and drained.
    func take(worker: Int, parker: Parker, quota: Int, into batch: inout [any Job]) -> Bool {
        var wasSpinning = false
        while true {
            let action = state.withLockedValue { state -> TaskChannelState.TakeAction in
                let action = state.take(worker: worker, parker: parker, wasSpinning: wasSpinning, maySpin: !wasSpinning,
                                        maxSpinners: maxSpinners, quota: quota, into: &batch)
                if case .run = action { updatePending(state.count) }
                return action
            }
            wasSpinning = false
            switch action {
            case .run(let wakes):
                #if DEBUG
                if FaultInjection.isArmed(.leakRoom) { state.withLockedValue { $0.leakRoomForTest() } }
                #endif
                perform(wakes)
                return true
            case .closed:
                return false
            case .spin:
                wasSpinning = true
                spin()
            case .park:
                _ = parker.park()
            }
        }
    }

    /// Mirrors the queue's length for spinning workers, writing the shared atomic only when it
    /// changes between empty and not (they only ask whether there is work).
    private func updatePending(_ count: Int) {
        if (pending.load(ordering: .relaxed) > 0) != (count > 0) { pending.store(count, ordering: .relaxed) }
    }

    private func spin() {
        for round in 0..<TaskChannel.spinRounds {
            if pending.load(ordering: .relaxed) != 0 { return }
            if round % 16 == 15 { sched_yield() }
        }
    }

    /// A job if one is queued (a worker helping while it waits).
    func tryTake() -> (any Job)? {
        guard pending.load(ordering: .relaxed) > 0 else { return nil }
        let taken = state.withLockedValue { state -> (any Job, TaskChannelState.Wakes)? in
            let taken = state.tryTake()
            updatePending(state.count)
            return taken
        }
        guard let (job, wakes) = taken else { return nil }
        perform(wakes)
        return job
    }

    /// Registers a helping worker as idle unless a job is queued; see `TaskChannelState.registerIdle`.
    func registerIdle(worker: Int, parker: Parker) -> Bool {
        state.withLockedValue { $0.registerIdle(worker: worker, parker: parker) }
    }

    /// A helping worker stops waiting; see `TaskChannelState.leaveIdle`.
    func leaveIdle(worker: Int) {
        perform(state.withLockedValue { $0.leaveIdle(worker: worker) })
    }

    /// Gives a cancelled job's room back, if its entry is queued.
    func withdraw(_ job: any Job) {
        perform(state.withLockedValue { $0.withdraw(job) })
    }

    // MARK: Shutting down

    func refuseSubmissions(_ error: PoolError) {
        perform(state.withLockedValue { $0.refuseSubmissions(error) })
    }

    func closeReceivers() {
        perform(state.withLockedValue { state in
            let wakes = state.closeReceivers()
            if state.count == 0 { pending.store(-1, ordering: .relaxed) }
            return wakes
        })
    }

    /// Returns the jobs that were queued (already failed by the caller, or about to be).
    @discardableResult
    func terminate(refusing error: PoolError) -> [any Job] {
        let (dropped, wakes) = state.withLockedValue { state -> ([any Job], TaskChannelState.Wakes) in
            let result = state.terminate(refusing: error)
            pending.store(-1, ordering: .relaxed)
            return result
        }
        perform(wakes)
        return dropped
    }

    // MARK: Introspection

    /// Entries queued and not started (statistics: `chunksQueued`).
    var queuedCount: Int { state.withLockedValue { $0.count } }

    /// Room held in a bounded pool (tests).
    var roomHeld: Int { state.withLockedValue { $0.roomHeld } }

    /// Submitters and tokens waiting for room (tests).
    var waitingForRoom: Int { state.withLockedValue { $0.waitingForRoom } }

    private func perform(_ wakes: TaskChannelState.Wakes) {
        guard !wakes.isEmpty else { return }
        for parker in wakes.parkers { parker.unpark() }
        for (continuation, outcome) in wakes.tasks {
            resumeEdge.beforeResume()
            ThreadSanitizer.resumeHidingAccesses { continuation.resume(returning: outcome) }
        }
    }
}
