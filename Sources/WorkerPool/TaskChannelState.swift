/// The rules of the pool's task channel as a value: the job cache, the queue of jobs waiting for a
/// worker, the room a bounded pool (`maxQueuedChunks`) has left, the submitters waiting for room in
/// arrival order, and the idle workers to wake.
///
/// `TaskChannel` holds one under its lock and feeds it events; each event returns its own action
/// enum, which the channel performs after unlocking (unparking a thread, resuming a task). Nothing
/// here blocks or touches a thread, so the rules are tested directly (`TaskChannelStateTests`).
///
/// **Room** (bounded pools only). Every entry on the queue holds one unit of room, from the moment
/// its submitter reserved it until a worker takes the entry. A job puts at most one entry on the
/// queue at a time: an apply its one task; a map or imap its *feed token*, which the worker that
/// cuts a chunk puts back for the next one. So the bound is exact for every chunking strategy: it
/// counts what is queued and not started, never an estimate. A token put back when there is no
/// room waits in the same line as the submitters, so a big map's chunks interleave with other
/// requests instead of holding the room for its whole run. A cancelled job's queued entry gives its
/// room back at once (`withdraw`).
struct TaskChannelState {
    /// How a submitter's wait for room ended.
    enum Admission: Equatable, Sendable {
        case admitted
        case refused(PoolError)
        /// Its task was cancelled while it waited (it holds no room).
        case cancelled
    }

    /// A submitter or a feed token waiting for room.
    enum AdmissionWaiter {
        /// A blocked thread; woken to find its id in `admitted` (or the channel refusing).
        case thread(Parker)
        /// A suspended task; resumed with the outcome.
        case task(UnsafeContinuation<Admission, Never>)
        /// A feed token that a worker put back while the pool was full; queued when room frees.
        case requeue(any Job)
    }

    /// What to do after unlocking: threads to unpark and tasks to resume.
    struct Wakes {
        var parkers: [Parker] = []
        var tasks: [(UnsafeContinuation<Admission, Never>, Admission)] = []

        var isEmpty: Bool { parkers.isEmpty && tasks.isEmpty }
    }

    /// The most entries that may hold room; nil for an unbounded pool.
    let limit: Int?
    /// Every job from submission until its result is delivered.
    private(set) var cache = JobCache()
    private(set) var queue = RingBuffer<any Job>()
    /// Room held: reserved by admitted submitters, or held by queued entries.
    private(set) var roomHeld = 0
    /// Bounded pools: the queued entries that hold room (a withdrawn entry stays queued without).
    private var holdingRoom: Set<ObjectIdentifier> = []
    private var admission = WaiterQueue<AdmissionWaiter>()
    /// Blocked threads that were granted room and have not yet picked it up.
    private var admitted: Set<UInt64> = []
    /// Idle workers, parked until an entry arrives (the most recent last).
    private var idle: [(worker: Int, parker: Parker)] = []
    /// Workers spinning for work before they park: an entry that one of them will take needs no wake.
    private(set) var spinners = 0
    /// Why submissions are refused (`close()`, `terminate()`, a broken pool); nil while open.
    private(set) var refusal: PoolError?
    /// Whether workers get nil once the queue is empty (after `close()` once every job is delivered,
    /// or at once on `terminate()`).
    private(set) var receiversClosed = false
    /// `close()` was called: once the cache is empty, the receivers close.
    private(set) var closing = false
    /// `terminate()` (or a broken pool) dropped everything: room is no longer counted, so a
    /// reservation granted before it and given back after it must not be subtracted again.
    private(set) var terminated = false

    init(limit: Int?) {
        self.limit = limit
    }

    var count: Int { queue.count }
    var waitingForRoom: Int { admission.count }

    private var hasRoom: Bool { limit.map { roomHeld < $0 } ?? true }

    // MARK: Admission (bounded pools)

    enum ReserveAction: Equatable {
        /// Room was taken; push the job next.
        case admitted
        /// No room: the waiter was queued; wait for its turn.
        case wait
        case refused(PoolError)
    }

    /// A submitter asks for one unit of room. With `waiter` nil it only tries.
    mutating func reserve(id: UInt64, waiter: AdmissionWaiter?) -> ReserveAction {
        if let refusal { return .refused(refusal) }
        guard limit != nil else { return .admitted }
        if hasRoom && admission.isEmpty {
            roomHeld += 1
            return .admitted
        }
        guard let waiter else { return .wait }
        admission.append(waiter, id: id)
        return .wait
    }

    enum PickUpAction: Equatable {
        case admitted
        case stillWaiting
        case refused(PoolError)
    }

    /// A blocked thread woke up: did it get room?
    mutating func pickUp(id: UInt64) -> PickUpAction {
        if admitted.remove(id) != nil { return .admitted }
        if let refusal { return .refused(refusal) }
        return .stillWaiting
    }

    /// A waiting task was cancelled, or a blocked thread gives up: returns the waiter if it was
    /// still waiting (its caller resumes it), nil if it was already served.
    mutating func cancelReservation(id: UInt64) -> AdmissionWaiter? {
        admission.remove(id: id)
    }

    /// A reservation that will not be used (the job was refused after admission): gives it back.
    mutating func releaseReservation() -> Wakes {
        guard limit != nil, !terminated else { return Wakes() }
        roomHeld -= 1
        return grantRoom()
    }

    /// Gives free room to the waiters in arrival order.
    private mutating func grantRoom() -> Wakes {
        var wakes = Wakes()
        guard limit != nil else { return wakes }
        while hasRoom, let (id, waiter) = admission.popFirst() {
            switch waiter {
            case .thread(let parker):
                roomHeld += 1
                admitted.insert(id)
                wakes.parkers.append(parker)
            case .task(let continuation):
                roomHeld += 1
                wakes.tasks.append((continuation, .admitted))
            case .requeue(let job):
                roomHeld += 1
                append(job, holdingRoom: true, wakes: &wakes)
            }
        }
        return wakes
    }

    // MARK: Submission and delivery

    enum SubmitAction {
        /// In the cache and queued; unpark these parkers (an idle worker), if any.
        case queued(Wakes)
        /// Refused (the pool is closed, terminated or broken); a reservation was given back.
        case refused(PoolError, Wakes)
    }

    /// A job enters the cache and its first entry the queue. `reserved`: room was reserved for it
    /// (bounded pools), given back if it is refused.
    mutating func submit(_ job: any Job, reserved: Bool) -> SubmitAction {
        if let refusal {
            return .refused(refusal, reserved ? releaseReservation() : Wakes())
        }
        cache.insert(job)
        var wakes = Wakes()
        append(job, holdingRoom: limit != nil, wakes: &wakes)
        return .queued(wakes)
    }

    enum SubmitLazilyAction {
        /// In the cache; its token is queued (with these wakes) or waits for room.
        case accepted(Wakes)
        case refused(PoolError)
    }

    /// A lazy job (imap) enters the cache, and its token the queue or, in a full bounded pool, the
    /// line for room (submitting never blocks).
    mutating func submitLazily(_ job: any Job, id: UInt64) -> SubmitLazilyAction {
        if let refusal { return .refused(refusal) }
        cache.insert(job)
        switch requeue(job, id: id) {
        case .queued(let wakes): return .accepted(wakes)
        case .deferred, .dropped: return .accepted(Wakes())
        }
    }

    /// A job's result was delivered: it leaves the cache. After `close()`, the last one closes the
    /// receivers (the returned wakes unpark the idle workers, which then exit). The caller holds its
    /// own reference to `job` until after unlocking, so the job is never destroyed under the lock.
    mutating func finish(_ job: any Job) -> Wakes {
        guard cache.remove(job) else { return Wakes() }
        if closing && cache.isEmpty { return closeReceivers() }
        return Wakes()
    }

    enum RequeueAction {
        case queued(Wakes)
        /// No room: the token waits in line and is queued when room frees.
        case deferred
        case dropped
    }

    /// Puts a feed token back (more chunks to cut). In a full bounded pool it waits for room in
    /// the same line as the submitters.
    mutating func requeue(_ job: any Job, id: UInt64) -> RequeueAction {
        guard !receiversClosed else { return .dropped }
        var wakes = Wakes()
        guard limit != nil else {
            append(job, holdingRoom: false, wakes: &wakes)
            return .queued(wakes)
        }
        if hasRoom && admission.isEmpty {
            roomHeld += 1
            append(job, holdingRoom: true, wakes: &wakes)
            return .queued(wakes)
        }
        admission.append(.requeue(job), id: id)
        return .deferred
    }

    private mutating func append(_ job: any Job, holdingRoom holds: Bool, wakes: inout Wakes) {
        queue.append(job)
        if holds { holdingRoom.insert(ObjectIdentifier(job)) }
        // Wake an idle worker unless the spinning ones can take every queued entry.
        if !idle.isEmpty && queue.count > spinners {
            wakes.parkers.append(idle.removeLast().parker)
        }
    }

    enum TakeAction {
        /// Run this job; then perform the wakes (room freed for waiters).
        case run(any Job, Wakes)
        /// Nothing queued: spin briefly (counted in `spinners`) before asking again.
        case spin
        /// Nothing queued: the worker was registered as idle; park, then ask again.
        case park
        /// Closed and drained: the worker exits.
        case closed
        /// Closed and drained by the job this worker just finished: wake the other idle workers
        /// (to exit too), then exit.
        case closedAfter(Wakes)
    }

    /// A worker asks for its next job. `mayPark` false for a worker that must not park here (it is
    /// helping while it waits for a result, and parks on its own terms).
    mutating func take(worker: Int, parker: Parker, wasSpinning: Bool, maySpin: Bool, maxSpinners: Int,
                       finished: (any Job)? = nil) -> TakeAction {
        if wasSpinning { spinners -= 1 }
        var finishWakes = Wakes()
        if let finished { finishWakes = finish(finished) }
        if let job = queue.popFirst() {
            var wakes = finishWakes
            if limit != nil, holdingRoom.remove(ObjectIdentifier(job)) != nil {
                roomHeld -= 1
                wakes = grantRoom()
            }
            return .run(job, wakes)
        }
        if receiversClosed { return finishWakes.isEmpty ? .closed : .closedAfter(finishWakes) }
        if maySpin && spinners < maxSpinners {
            spinners += 1
            return .spin
        }
        if !idle.contains(where: { $0.worker == worker }) { idle.append((worker, parker)) }
        return .park
    }

    /// A helping worker (waiting for a result of its own pool) takes a job if one is queued.
    mutating func tryTake() -> (any Job, Wakes)? {
        guard let job = queue.popFirst() else { return nil }
        var wakes = Wakes()
        if limit != nil, holdingRoom.remove(ObjectIdentifier(job)) != nil {
            roomHeld -= 1
            wakes = grantRoom()
        }
        return (job, wakes)
    }

    /// A helping worker parks until a job arrives or its result is ready: registers it as idle,
    /// unless a job is queued already (then it should take it instead). Returns whether it registered.
    mutating func registerIdle(worker: Int, parker: Parker) -> Bool {
        guard queue.isEmpty, !receiversClosed else { return false }
        if !idle.contains(where: { $0.worker == worker }) { idle.append((worker, parker)) }
        return true
    }

    /// A helping worker stops waiting: it leaves the idle list, and if a push had already picked
    /// it to take a job, that wake-up goes to another idle worker instead of being lost.
    mutating func leaveIdle(worker: Int) -> Wakes {
        idle.removeAll { $0.worker == worker }
        var wakes = Wakes()
        if !queue.isEmpty && !idle.isEmpty && queue.count > spinners {
            wakes.parkers.append(idle.removeLast().parker)
        }
        return wakes
    }

    /// A job was cancelled: if its entry is queued holding room, the room goes back now (the entry
    /// stays queued, and the worker that takes it finds the job cancelled).
    mutating func withdraw(_ job: any Job) -> Wakes {
        guard limit != nil, holdingRoom.remove(ObjectIdentifier(job)) != nil else { return Wakes() }
        roomHeld -= 1
        return grantRoom()
    }

    #if DEBUG
    /// `FaultInjection.leakRoom`: holds one more unit of room than is queued.
    mutating func leakRoomForTest() {
        if limit != nil { roomHeld += 1 }
    }
    #endif

    // MARK: Shutting down

    /// `close()`: refuses later submissions and every waiting submitter with `.notRunning`, and
    /// closes the receivers once the cache is empty (now, if it is). Returns the wakes and the jobs
    /// in the cache (to be told, outside the lock: a lazy input decides what `close()` means to it).
    mutating func close() -> (wakes: Wakes, jobs: [any Job]) {
        guard !closing else { return (Wakes(), []) }
        closing = true
        var wakes = refuseSubmissions(.notRunning)
        if cache.isEmpty {
            let closed = closeReceivers()
            wakes.parkers += closed.parkers
        }
        return (wakes, cache.jobs)
    }

    /// Refuses later submissions and every waiting submitter with `error`; feed tokens waiting for
    /// room keep their place.
    mutating func refuseSubmissions(_ error: PoolError) -> Wakes {
        guard refusal == nil else { return Wakes() }
        refusal = error
        var wakes = Wakes()
        var kept = WaiterQueue<AdmissionWaiter>()
        while let (id, waiter) = admission.popFirst() {
            switch waiter {
            case .thread(let parker): wakes.parkers.append(parker)
            case .task(let continuation): wakes.tasks.append((continuation, .refused(error)))
            case .requeue: kept.append(waiter, id: id)
            }
        }
        admission = kept
        return wakes
    }

    /// Workers drain the queue, then get nil.
    private mutating func closeReceivers() -> Wakes {
        guard !receiversClosed else { return Wakes() }
        receiversClosed = true
        var wakes = Wakes()
        wakes.parkers = idle.map(\.parker)
        idle = []
        return wakes
    }

    /// `terminate()` or a broken pool: refuses every submitter with `error`, empties the cache (the
    /// returned jobs are failed by the caller, after unlocking), drops every queued entry and waiting
    /// token, and wakes every idle worker to exit.
    ///
    /// Nothing is released here: `dropped` carries the queue's references out, so that no job's
    /// deinit (which may destroy user values) runs under the lock.
    mutating func terminate(refusing error: PoolError) -> (pending: [any Job], dropped: [any Job], wakes: Wakes) {
        var wakes = refuseSubmissions(error)
        if refusal != error { refusal = error }
        receiversClosed = true
        terminated = true
        let pending = cache.removeAll()
        var dropped = queue.removeAll()
        for waiter in admission.removeAll() {
            if case .requeue(let job) = waiter { dropped.append(job) }
        }
        holdingRoom = []
        admitted = []
        roomHeld = 0
        wakes.parkers += idle.map(\.parker)
        idle = []
        return (pending, dropped, wakes)
    }
}
