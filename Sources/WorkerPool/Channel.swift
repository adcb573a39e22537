/// The error a `Channel` throws when an element is sent after `close()`.
public enum ChannelError: Error, Equatable, Sendable {
    /// The channel was closed before the element could be queued.
    case closed
}

/// A lock-guarded, multi-producer multi-consumer FIFO queue for threads (Go's channel, Python's
/// `queue.Queue` with a `close()`).
///
/// - `send` appends an element; with a `capacity`, it blocks while the channel is full (backpressure).
/// - `receive` takes the oldest element, blocking while the channel is empty.
/// - `close()` refuses further sends; receivers still drain what is queued, then get `nil`.
///
/// Every method may be called from any thread. The blocking calls (`send` on a full channel,
/// `receive`) block the calling thread: call them from threads you own, not from Swift concurrency.
/// Blocked threads wait in arrival order and each is woken by name (its own parker), never by a
/// broadcast. The pool's workers take their work from its own `TaskChannel`, the same shape with a
/// bounded pool's admission rules.
public final class Channel<Element: Sendable>: Sendable {
    private struct State {
        var buffer = RingBuffer<Element>()
        var closed = false
        var receivers = WaiterQueue<Parker>()
        var senders = WaiterQueue<Parker>()
    }

    private let state = LockedBox.make(State())

    /// The most elements the channel holds before `send` blocks; `nil` means unbounded.
    public let capacity: Int?

    /// Creates an empty, open channel.
    ///
    /// - Parameter capacity: the bound at which `send` blocks, or `nil` for no bound.
    /// - Throws: `PoolError.invalidArgument` if `capacity` is less than 1.
    public init(capacity: Int? = nil) throws {
        try PoolError.require("capacity", capacity, atLeast: 1)
        self.capacity = capacity
    }

    /// Appends `element`, blocking while a bounded channel is full.
    ///
    /// - Parameter timeout: how long to wait for room; `nil` waits as long as it takes, zero or
    ///   negative only tries. An unbounded channel never waits.
    /// - Throws: `ChannelError.closed` if the channel is (or becomes, while waiting) closed;
    ///   `PoolError.timeout` if there was no room in time. Either way the element was not queued.
    @available(*, noasync, message: "Channel.send may block its thread")
    public func send(_ element: Element, timeout: Duration? = nil) throws {
        let deadline = Deadline.after(timeout)
        let parker = Parker.current
        let id = Waiter.nextID()
        var mayWait = true
        while true {
            let step = state.withLockedValue { state -> SendStep in
                if state.closed {
                    _ = state.senders.remove(id: id)
                    return .closed
                }
                if capacity.map({ state.buffer.count < $0 }) ?? true {
                    state.buffer.append(element)
                    _ = state.senders.remove(id: id)
                    return .sent(state.receivers.popFirst()?.payload)
                }
                guard mayWait else { return .full }
                if !state.senders.contains(id: id) { state.senders.append(parker, id: id) }
                return .wait
            }
            switch step {
            case .closed: throw ChannelError.closed
            case .full: throw PoolError.timeout
            case .sent(let receiver):
                receiver?.unpark()
                return
            case .wait:
                if !parker.park(until: deadline) {
                    // Out of time: one last try. If a receiver picked this sender to wake, its
                    // unpark is on its way; the try below either sends or hands on nothing.
                    mayWait = false
                    if state.withLockedValue({ $0.senders.remove(id: id) }) == nil { _ = parker.park() }
                }
            }
        }
    }

    private enum SendStep {
        case closed, full, wait
        case sent(Parker?)
    }

    /// Appends `element` if there is room right now.
    ///
    /// - Returns: `false` if the channel is full or closed; the element was then not queued.
    @discardableResult
    public func trySend(_ element: Element) -> Bool {
        let outcome = state.withLockedValue { state -> (sent: Bool, receiver: Parker?) in
            guard !state.closed, capacity.map({ state.buffer.count < $0 }) ?? true else { return (false, nil) }
            state.buffer.append(element)
            return (true, state.receivers.popFirst()?.payload)
        }
        outcome.receiver?.unpark()
        return outcome.sent
    }

    /// Takes the oldest element, blocking while the channel is empty and open.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits as long as it takes, zero or negative
    ///   only checks.
    /// - Returns: the element, or `nil` once the channel is closed and drained.
    /// - Throws: `PoolError.timeout` if nothing arrived in time (the channel is unchanged).
    @available(*, noasync, message: "Channel.receive blocks its thread")
    public func receive(timeout: Duration? = nil) throws -> Element? {
        let deadline = Deadline.after(timeout)
        let parker = Parker.current
        let id = Waiter.nextID()
        var mayWait = true
        while true {
            let step = state.withLockedValue { state -> ReceiveStep in
                if let element = state.buffer.popFirst() {
                    _ = state.receivers.remove(id: id)
                    return .received(element, state.senders.popFirst()?.payload)
                }
                if state.closed {
                    _ = state.receivers.remove(id: id)
                    return .ended
                }
                guard mayWait else { return .empty }
                if !state.receivers.contains(id: id) { state.receivers.append(parker, id: id) }
                return .wait
            }
            switch step {
            case .received(let element, let sender):
                sender?.unpark()
                return element
            case .ended: return nil
            case .empty: throw PoolError.timeout
            case .wait:
                if !parker.park(until: deadline) {
                    mayWait = false
                    if state.withLockedValue({ $0.receivers.remove(id: id) }) == nil { _ = parker.park() }
                }
            }
        }
    }

    private enum ReceiveStep {
        case received(Element, Parker?)
        case ended, empty, wait
    }

    /// Takes the oldest element if there is one, without waiting.
    public func tryReceive() -> Element? {
        let (element, sender) = state.withLockedValue { state -> (Element?, Parker?) in
            guard let element = state.buffer.popFirst() else { return (nil, nil) }
            return (element, state.senders.popFirst()?.payload)
        }
        sender?.unpark()
        return element
    }

    /// Refuses further sends and wakes every blocked sender (which throws) and receiver (which
    /// drains what is left, then gets `nil`). Closing twice does nothing.
    public func close() {
        let parkers = state.withLockedValue { state -> [Parker] in
            state.closed = true
            return state.receivers.removeAll() + state.senders.removeAll()
        }
        for parker in parkers { parker.unpark() }
    }

    /// Whether `close()` was called.
    public var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// The number of queued elements.
    public var count: Int { state.withLockedValue { $0.buffer.count } }
}
