import Synchronization

/// Python's `threading.Event`: a flag that threads can wait for.
///
/// `set()` raises the flag and wakes every waiter; `clear()` lowers it; `wait(timeout:)` blocks
/// until the flag is up. Any thread may call any method. Waiting blocks the calling thread, so do
/// not call `wait` from Swift concurrency (use `AsyncResult.value` there).
///
/// The flag is one atomic word; a waiter that finds it down parks its thread in the pool's wait
/// registry (`WaitRegistry`), the same machinery every `AsyncResult` uses. Setting an event that
/// nobody waits for is a single atomic operation.
public final class Event: Sendable {
    private static let isSetBit = 1
    private static let waitersBit = 2

    private let word = Atomic<Int>(0)

    /// Creates an event whose flag is down.
    public init() {}

    /// Raises the flag and wakes every thread blocked in `wait`. Setting a set event does nothing.
    public func set() {
        let old = word.bitwiseOr(Event.isSetBit, ordering: .acquiringAndReleasing).oldValue
        if old & Event.waitersBit != 0 { WaitRegistry.wakeAll(for: ObjectIdentifier(self)) }
    }

    /// Lowers the flag; later `wait` calls block until the next `set()`.
    public func clear() {
        word.bitwiseAnd(~Event.isSetBit, ordering: .acquiringAndReleasing)
    }

    /// Whether the flag is up.
    public var isSet: Bool { word.load(ordering: .acquiring) & Event.isSetBit != 0 }

    /// Blocks the calling thread until the flag is up or `timeout` has passed.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits forever; zero or negative only checks.
    /// - Returns: `true` if the flag is up, `false` if the timeout passed first (Python's return value).
    @available(*, noasync, message: "Event.wait blocks its thread; await AsyncResult.value instead")
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        FlagWait.block(until: Deadline.after(timeout), object: ObjectIdentifier(self), isReady: { isSet }) {
            word.bitwiseOr(Event.waitersBit, ordering: .acquiringAndReleasing).oldValue & Event.isSetBit != 0
        }
    }
}
