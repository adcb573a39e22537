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
/// The pool's own worker threads take their work from a `Channel`.
public final class Channel<Element: Sendable>: @unchecked Sendable {  // all state guarded by `mutex`
    private let mutex = PThreadMutex.make()
    private let notEmpty = PThreadCondition.make()
    private let notFull = PThreadCondition.make()
    @exclusivity(unchecked) private var buffer = RingBuffer<Element>()
    @exclusivity(unchecked) private var closed = false
    @exclusivity(unchecked) private var waitingReceivers = 0
    @exclusivity(unchecked) private var waitingSenders = 0

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

    /// An unbounded channel (cannot fail, unlike the public initializer).
    static func unbounded() -> Channel {
        try! Channel(capacity: nil)
    }

    /// Appends `element`, blocking while a bounded channel is full.
    ///
    /// - Parameter timeout: how long to wait for room; `nil` waits as long as it takes, zero or
    ///   negative only tries. An unbounded channel never waits.
    /// - Throws: `ChannelError.closed` if the channel is (or becomes, while waiting) closed;
    ///   `PoolError.timeout` if there was no room in time. Either way the element was not queued.
    @available(*, noasync, message: "Channel.send may block its thread")
    public func send(_ element: Element, timeout: Duration? = nil) throws {
        try send(element, deadline: capacity == nil ? .distantFuture : Deadline.after(timeout))
    }

    /// Appends `element` if there is room right now.
    ///
    /// - Returns: `false` if the channel is full or closed; the element was then not queued.
    @discardableResult
    public func trySend(_ element: Element) -> Bool {
        mutex.lock()
        guard !closed, capacity.map({ buffer.count < $0 }) ?? true else {
            mutex.unlock()
            return false
        }
        buffer.append(element)
        let wake = waitingReceivers > 0
        mutex.unlock()
        if wake { notEmpty.signal() }
        return true
    }

    func send(_ element: Element, deadline: Deadline) throws {
        mutex.lock()
        if let capacity {
            while !closed && buffer.count >= capacity {
                waitingSenders += 1
                let inTime = notFull.wait(mutex, until: deadline)
                waitingSenders -= 1
                if !inTime && !closed && buffer.count >= capacity {
                    mutex.unlock()
                    throw PoolError.timeout
                }
            }
        }
        if closed {
            mutex.unlock()
            throw ChannelError.closed
        }
        buffer.append(element)
        let wake = waitingReceivers > 0
        mutex.unlock()
        if wake { notEmpty.signal() }
    }

    /// Takes the oldest element, blocking while the channel is empty and open.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits as long as it takes, zero or negative
    ///   only checks.
    /// - Returns: the element, or `nil` once the channel is closed and drained.
    /// - Throws: `PoolError.timeout` if nothing arrived in time (the channel is unchanged).
    @available(*, noasync, message: "Channel.receive blocks its thread")
    public func receive(timeout: Duration? = nil) throws -> Element? {
        try receive(deadline: Deadline.after(timeout))
    }

    func receive(deadline: Deadline) throws -> Element? {
        mutex.lock()
        while buffer.isEmpty && !closed {
            waitingReceivers += 1
            let inTime = notEmpty.wait(mutex, until: deadline)
            waitingReceivers -= 1
            if !inTime && buffer.isEmpty && !closed {
                mutex.unlock()
                throw PoolError.timeout
            }
        }
        let element = buffer.popFirst()
        let wake = element != nil && waitingSenders > 0
        mutex.unlock()
        if wake { notFull.signal() }
        return element
    }

    /// Blocks until an element arrives or the channel is closed and drained (then `nil`).
    func receiveWithoutTimeout() -> Element? {
        // Cannot time out without a deadline.
        try! receive(deadline: .distantFuture)
    }

    /// Takes the oldest element if there is one, without waiting.
    public func tryReceive() -> Element? {
        mutex.lock()
        let element = buffer.popFirst()
        let wake = element != nil && waitingSenders > 0
        mutex.unlock()
        if wake { notFull.signal() }
        return element
    }

    /// Refuses further sends and wakes every blocked sender (which throws) and receiver (which
    /// drains what is left, then gets `nil`). Closing twice does nothing.
    public func close() {
        mutex.withLock { closed = true }
        notEmpty.broadcast()
        notFull.broadcast()
    }

    /// Whether `close()` was called.
    public var isClosed: Bool { mutex.withLock { closed } }

    /// The number of queued elements.
    public var count: Int { mutex.withLock { buffer.count } }

    /// Closes the channel and removes every queued element, returning them oldest first.
    func closeAndDrain() -> [Element] {
        let drained = mutex.withLock {
            closed = true
            return buffer.removeAll()
        }
        notEmpty.broadcast()
        notFull.broadcast()
        return drained
    }

    /// Removes the queued elements that match, returning them oldest first.
    func remove(where shouldRemove: (Element) -> Bool) -> [Element] {
        let removed = mutex.withLock { buffer.removeAll(where: shouldRemove) }
        if !removed.isEmpty { notFull.broadcast() }
        return removed
    }
}
