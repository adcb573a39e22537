/// The rules of the pool's task channel as a value: the queue of jobs waiting for a worker, the
/// room a bounded pool (`maxQueuedChunks`) has left, the submitters waiting for room in arrival
/// order, and the idle workers to wake.
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
    /// The pool's number of workers (batches leave a share for the others).
    let workers: Int
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
    /// `terminate()` (or a broken pool) dropped everything: room is no longer counted, so a
    /// reservation granted before it and given back after it must not be subtracted again.
    private(set) var terminated = false

    init(limit: Int?, workers: Int = 1) {
        self.limit = limit
        self.workers = max(workers, 1)
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

    // MARK: The queue

    enum PushAction {
        /// Queued; unpark these parkers (an idle worker), if any.
        case queued(Wakes)
        /// The channel was terminated: the job was failed already, drop it.
        case dropped
    }

    /// Queues a job whose room was reserved (or an unbounded pool's job).
    mutating func push(_ job: any Job) -> PushAction {
        guard !receiversClosed else { return .dropped }
        var wakes = Wakes()
        append(job, holdingRoom: limit != nil, wakes: &wakes)
        return .queued(wakes)
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

    /// The most tasks a worker takes at once.
    static let maxBatch = 32

    enum TakeAction {
        /// Run the jobs put in the batch; perform the wakes first (room freed for waiters).
        case run(Wakes)
        /// Nothing queued: spin briefly (counted in `spinners`) before asking again.
        case spin
        /// Nothing queued: the worker was registered as idle; park, then ask again.
        case park
        /// Closed and drained: the worker exits.
        case closed
    }

    /// A worker asks for its next job. `mayPark` false for a worker that must not park here (it is
    /// helping while it waits for a result, and parks on its own terms).
    mutating func take(worker: Int, parker: Parker, wasSpinning: Bool, maySpin: Bool, maxSpinners: Int,
                       quota: Int = 1, into batch: inout [any Job]) -> TakeAction {
        if wasSpinning { spinners -= 1 }
        if !queue.isEmpty {
            // A long queue is taken in batches (one lock for several tasks), never more than a
            // share that leaves the other workers as much (guided self-scheduling, for tasks).
            let share = queue.count / (2 * workers)
            let size = max(1, min(share, TaskChannelState.maxBatch, quota))
            var freed = false
            for _ in 0..<size {
                guard let job = queue.popFirst() else { break }
                if limit != nil, holdingRoom.remove(ObjectIdentifier(job)) != nil {
                    roomHeld -= 1
                    freed = true
                }
                batch.append(job)
            }
            return .run(freed ? grantRoom() : Wakes())
        }
        if receiversClosed { return .closed }
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

    /// `close()` (or a broken pool): refuses later submissions and every waiting submitter with
    /// `error`; feed tokens waiting for room keep their place.
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

    /// Every job was delivered after `close()`: workers drain the queue, then get nil.
    mutating func closeReceivers() -> Wakes {
        guard !receiversClosed else { return Wakes() }
        receiversClosed = true
        var wakes = Wakes()
        wakes.parkers = idle.map(\.parker)
        idle = []
        return wakes
    }

    /// `terminate()` or a broken pool: refuses every submitter with `error`, drops every queued
    /// entry and waiting token (their jobs are failed by the caller), and wakes every idle worker to
    /// exit.
    mutating func terminate(refusing error: PoolError) -> (dropped: [any Job], wakes: Wakes) {
        var wakes = refuseSubmissions(error)
        if refusal != error { refusal = error }
        receiversClosed = true
        terminated = true
        var dropped = queue.removeAll()
        for waiter in admission.removeAll() {
            if case .requeue(let job) = waiter { dropped.append(job) }
        }
        holdingRoom = []
        admitted = []
        roomHeld = 0
        wakes.parkers += idle.map(\.parker)
        idle = []
        return (dropped, wakes)
    }
}
