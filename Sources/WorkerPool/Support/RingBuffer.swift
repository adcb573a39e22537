/// A growable FIFO ring buffer: O(1) append and pop at either end.
///
/// Storage is `[Element?]` sized to a power of two; a popped slot is set back to `nil` at once, so
/// the buffer never keeps a delivered element alive (the habit of swift-nio's thread pool).
struct RingBuffer<Element> {
    private var storage: [Element?]
    private var head = 0
    private(set) var count = 0

    init(initialCapacity: Int = 16) {
        var capacity = 1
        while capacity < max(initialCapacity, 1) { capacity <<= 1 }
        storage = Array(repeating: nil, count: capacity)
    }

    var isEmpty: Bool { count == 0 }

    private var mask: Int { storage.count - 1 }

    mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) & mask] = element
        count += 1
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) & mask
        count -= 1
        return element
    }

    /// Removes and returns every element, oldest first.
    mutating func removeAll() -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(count)
        while let element = popFirst() { all.append(element) }
        return all
    }

    private mutating func grow() {
        var bigger = [Element?](repeating: nil, count: storage.count * 2)
        for i in 0..<count { bigger[i] = storage[(head + i) & mask] }
        storage = bigger
        head = 0
    }
}
