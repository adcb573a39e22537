/// Python's `threading.Event`: a flag that threads can wait for.
///
/// `set()` raises the flag and wakes every waiter; `clear()` lowers it; `wait(timeout:)` blocks
/// until the flag is up. Any thread may call any method. Waiting blocks the calling thread, so do not
/// call `wait` from Swift concurrency (use `AsyncResult.value` there). Every `AsyncResult` is backed
/// by the same event machinery (`EventCore`), sharing its one lock with the result's own state.
public final class Event: Sendable {
    @usableFromInline let core = EventCore()

    /// Creates an event whose flag is down.
    public init() {}

    /// Raises the flag and wakes every thread blocked in `wait`. Setting a set event does nothing.
    public func set() { core.set() }

    /// Lowers the flag; later `wait` calls block until the next `set()`.
    public func clear() { core.clear() }

    /// Whether the flag is up.
    public var isSet: Bool { core.isSet }

    /// Blocks the calling thread until the flag is up or `timeout` has passed.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits forever; zero or negative only checks.
    /// - Returns: `true` if the flag is up, `false` if the timeout passed first (Python's return value).
    @available(*, noasync, message: "Event.wait blocks its thread; await AsyncResult.value instead")
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        core.wait(until: Deadline.after(timeout))
    }

    func wait(until deadline: Deadline) -> Bool {
        core.wait(until: deadline)
    }
}
