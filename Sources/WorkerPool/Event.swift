/// Python's `threading.Event`: a flag that threads can wait for.
///
/// `set()` raises the flag and wakes every waiter; `clear()` lowers it; `wait(timeout:)` blocks
/// until the flag is up. Any thread may call any method. Waiting blocks the calling thread, so do not
/// call `wait` from Swift concurrency (use `AsyncResult.value` there).
public final class Event: @unchecked Sendable {  // `flag` and `waiters` are guarded by `mutex`
    private let mutex = PThreadMutex()
    private let condition = PThreadCondition()
    private var flag = false
    private var waiters = 0

    /// Creates an event whose flag is down.
    public init() {}

    /// Raises the flag and wakes every thread blocked in `wait`. Setting a set event does nothing.
    public func set() {
        mutex.lock()
        flag = true
        let wake = waiters > 0
        mutex.unlock()
        if wake { condition.broadcast() }
    }

    /// Lowers the flag; later `wait` calls block until the next `set()`.
    public func clear() {
        mutex.withLock { flag = false }
    }

    /// Whether the flag is up.
    public var isSet: Bool {
        mutex.withLock { flag }
    }

    /// Blocks the calling thread until the flag is up or `timeout` has passed.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits forever; zero or negative only checks.
    /// - Returns: `true` if the flag is up, `false` if the timeout passed first (Python's return value).
    @available(*, noasync, message: "Event.wait blocks its thread; await AsyncResult.value instead")
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        wait(until: Deadline.after(timeout))
    }

    func wait(until deadline: Deadline) -> Bool {
        mutex.lock()
        defer { mutex.unlock() }
        if flag { return true }
        waiters += 1
        defer { waiters -= 1 }
        while !flag {
            if !condition.wait(mutex, until: deadline) { return flag }
        }
        return true
    }
}
