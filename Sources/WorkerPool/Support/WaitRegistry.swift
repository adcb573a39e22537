import Synchronization

/// How a task waiting for a result or an imap step was woken.
enum Wake: Sendable {
    /// What it waited for is ready (or changed: look again).
    case ready
    /// Its own task was cancelled; `last` says whether no other waiter was left.
    case cancelled(last: Bool)
}

/// A thread or a task waiting for something that was not ready when it looked.
struct Waiter: @unchecked Sendable {  // the continuation is resumed exactly once, by whoever removed the waiter from its list
    enum Kind {
        /// A blocked thread: unpark it; it looks again.
        case thread(Parker)
        /// A suspended task: resume it.
        case task(UnsafeContinuation<Wake, Never>)
    }

    let id: UInt64
    let kind: Kind

    /// Wakes the waiter because what it waits for is ready (or changed).
    func wake() {
        switch kind {
        case .thread(let parker): parker.unpark()
        case .task(let continuation): ThreadSanitizer.resumeHidingAccesses { continuation.resume(returning: .ready) }
        }
    }

    /// Process-unique waiter ids, so that a waiter can remove itself (timeout, cancellation) in O(1).
    private static let counter = Atomic<UInt64>(0)
    static func nextID() -> UInt64 { counter.wrappingAdd(1, ordering: .relaxed).newValue }
}

/// Waiters in arrival order, each removable in O(1) by id: a ring of ids for the order and a
/// dictionary for the waiters (an id no longer in the dictionary is skipped when its turn comes).
struct WaiterQueue<Payload> {
    private var order = RingBuffer<UInt64>()
    private var entries: [UInt64: Payload] = [:]

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    mutating func append(_ payload: Payload, id: UInt64) {
        order.append(id)
        entries[id] = payload
    }

    /// Removes the waiter with `id`; nil if it is not queued (already served or removed).
    mutating func remove(id: UInt64) -> Payload? {
        let payload = entries.removeValue(forKey: id)
        if entries.isEmpty { order = RingBuffer() }
        return payload
    }

    func contains(id: UInt64) -> Bool { entries[id] != nil }

    /// Removes and returns the oldest waiter.
    mutating func popFirst() -> (id: UInt64, payload: Payload)? {
        while let id = order.popFirst() {
            if let payload = entries.removeValue(forKey: id) { return (id, payload) }
        }
        return nil
    }

    /// Removes and returns every waiter, oldest first.
    mutating func removeAll() -> [Payload] {
        var all: [Payload] = []
        all.reserveCapacity(entries.count)
        while let (_, payload) = popFirst() { all.append(payload) }
        return all
    }
}

/// The waiters of every result and event that someone is waiting for, in 64 stripes by object.
///
/// A result or an event keeps one atomic word: a *ready* bit and a *waiters* bit. Readers that find
/// it ready never come here, and a result that becomes ready with no waiters never comes here: the
/// fast paths are one atomic each. A waiter sets the waiters bit under its stripe's lock and, unless
/// the ready bit was already set, registers; whoever sets the ready bit and sees the waiters bit
/// takes every waiter of the object under the same lock and wakes them after unlocking. So a waiter
/// is never missed, and no continuation is ever resumed with a lock held (a cancellation handler can
/// take these locks while the concurrency runtime holds the task's status lock).
///
/// Why stripes and not a lock per result: a lock per result costs an allocation per task (a pthread
/// mutex needs a stable address, so it cannot be a stored property), and results are waited on
/// before they are ready far less often than they are created.
@usableFromInline
enum WaitRegistry {
    private static let stripes: [LockedBox<[ObjectIdentifier: [Waiter]]>] = (0..<64).map { _ in LockedBox.make([:]) }

    private static func stripe(for object: ObjectIdentifier) -> LockedBox<[ObjectIdentifier: [Waiter]]> {
        let bits = UInt(bitPattern: object.hashValue)
        return stripes[Int((bits >> 4 ^ bits >> 10) & 63)]
    }

    enum Registration {
        case registered
        case ready
        /// The waiting task was already cancelled; `last`: no other waiter is registered.
        case cancelled(last: Bool)
    }

    /// Registers `waiter` for `object` unless `readyWhileLocked()` (which must set the object's
    /// waiters bit and report whether the ready bit was set) says it is ready, or, for a task,
    /// the task is already cancelled. The cancellation check happens under the same lock as the
    /// cancellation handler's `remove`, so a cancellation is never missed.
    static func register(_ waiter: Waiter, for object: ObjectIdentifier, checkCancellation: Bool = false,
                         unlessReady readyWhileLocked: () -> Bool) -> Registration {
        stripe(for: object).withLockedValue { table in
            if readyWhileLocked() { return .ready }
            if checkCancellation && Task.isCancelled { return .cancelled(last: table[object] == nil) }
            table[object, default: []].append(waiter)
            return .registered
        }
    }

    /// Removes the waiter `id` of `object` (a timeout, a cancellation). Returns the waiter and how
    /// many waiters the object still has, or nil if it was not registered any more (it was woken).
    static func remove(id: UInt64, for object: ObjectIdentifier) -> (waiter: Waiter, remaining: Int)? {
        stripe(for: object).withLockedValue { table in
            guard var waiters = table[object], let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = waiters.remove(at: index)
            table[object] = waiters.isEmpty ? nil : waiters
            return (waiter, waiters.count)
        }
    }

    /// How many threads and tasks wait for `object` (tests).
    static func count(for object: ObjectIdentifier) -> Int {
        stripe(for: object).withLockedValue { $0[object]?.count ?? 0 }
    }

    /// Whether the waiter `id` of `object` is still registered.
    static func contains(id: UInt64, for object: ObjectIdentifier) -> Bool {
        stripe(for: object).withLockedValue { table in table[object]?.contains(where: { $0.id == id }) ?? false }
    }

    /// Takes every waiter of `object` (it just became ready) and wakes them, after unlocking.
    @usableFromInline
    static func wakeAll(for object: ObjectIdentifier) {
        let waiters = stripe(for: object).withLockedValue { $0.removeValue(forKey: object) } ?? []
        for waiter in waiters { waiter.wake() }
    }
}

/// A word of flags with a ready bit and a waiters bit, and the waiting protocol around it
/// (`WaitRegistry`): what `Event` and `AsyncResult` are built on.
enum FlagWait {
    /// Blocks the calling thread until `isReady()` (an acquiring load of the word) is true, or
    /// `deadline` passes. `setWaitersBitAndCheckReady` sets the word's waiters bit and reports
    /// whether the ready bit was set. Returns whether it is ready.
    static func block(until deadline: Deadline, object: ObjectIdentifier, isReady: () -> Bool,
                      setWaitersBitAndCheckReady: () -> Bool) -> Bool {
        if isReady() { return true }
        if deadline.hasPassed { return false }
        let parker = Parker.current
        let id = Waiter.nextID()
        guard case .registered = WaitRegistry.register(Waiter(id: id, kind: .thread(parker)), for: object,
                                                       unlessReady: setWaitersBitAndCheckReady) else {
            return true
        }
        while true {
            if parker.park(until: deadline) {
                if isReady() { return true }
                // Not ready: either a permit left from an earlier wait of this thread (the waiter is
                // still registered: park again), or a waker took the waiter and the flag was lowered
                // again since (`Event.clear()`): it was set while we waited, as Python's `wait` reports.
                if WaitRegistry.contains(id: id, for: object) { continue }
                return true
            }
            // Timed out. If the waiter is still registered, nobody will wake it: leave.
            if WaitRegistry.remove(id: id, for: object) != nil { return isReady() }
            // It was taken by a waker, whose unpark is on its way: wait for it, so the permit is
            // not left for a later wait of this thread.
            _ = parker.park()
            return true
        }
    }

    /// Suspends the calling task until the object is ready, or the task is cancelled.
    ///
    /// A cancelled task stops only its own wait: it is resumed with `.cancelled(last:)`, where
    /// `last` says whether no other thread or task is still waiting (the caller may then cancel the
    /// work itself, outside any lock and outside the cancellation handler).
    static func suspend(object: ObjectIdentifier, isReady: () -> Bool, setWaitersBitAndCheckReady: () -> Bool,
                        edge: @escaping @Sendable () -> Void) async -> Wake {
        if isReady() { return .ready }
        let id = Waiter.nextID()
        let wake = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Wake, Never>) in
                switch WaitRegistry.register(Waiter(id: id, kind: .task(continuation)), for: object, checkCancellation: true,
                                             unlessReady: setWaitersBitAndCheckReady) {
                case .registered: break
                case .ready: continuation.resume(returning: .ready)
                case .cancelled(let last): continuation.resume(returning: .cancelled(last: last))
                }
            }
        } onCancel: {
            // Only this task's own waiter, resumed after unlocking; nothing else runs here.
            if let (waiter, remaining) = WaitRegistry.remove(id: id, for: object), case .task(let continuation) = waiter.kind {
                edge()
                ThreadSanitizer.resumeHidingAccesses { continuation.resume(returning: .cancelled(last: remaining == 0)) }
            }
        }
        return wake
    }
}
