/// Where a bulk job reads its items from. Only the worker holding the job's feed token reads it
/// (one at a time, handed over through the task channel), so a source needs no lock; the value it
/// wraps was `sending` into the pool, so no one else holds it.
protocol ItemSource<Item>: AnyObject {
    associatedtype Item
    /// Reads up to `count` items (at least one is asked for). Fewer than asked means the input
    /// ended. The slice may share storage with the input.
    func read(upTo count: Int) -> ArraySlice<Item>
}

/// An array input: chunks are slices of its storage (no copy).
final class ArraySource<Item>: ItemSource {
    private let items: [Item]
    private var position = 0

    init(_ items: [Item]) { self.items = items }

    func read(upTo count: Int) -> ArraySlice<Item> {
        let end = position + min(count, items.count - position)
        defer { position = end }
        return items[position..<end]
    }
}

/// A lazy input: chunks are read from the iterator when a worker needs one, into a new array.
final class IteratorSource<Iterator: IteratorProtocol>: ItemSource {
    private var iterator: Iterator
    private var ended = false

    init(_ iterator: Iterator) { self.iterator = iterator }

    func read(upTo count: Int) -> ArraySlice<Iterator.Element> {
        var chunk: [Iterator.Element] = []
        chunk.reserveCapacity(min(count, 4096))
        while !ended && chunk.count < count {
            if let item = iterator.next() {
                chunk.append(item)
            } else {
                ended = true
            }
        }
        return chunk[...]
    }
}

/// Makes the source for an input sequence: arrays are sliced in place, anything else is iterated.
func makeItemSource<S: Sequence>(_ items: S) -> any ItemSource<S.Element> {
    if let array = items as? [S.Element] { return ArraySource(array) }
    return IteratorSource(items.makeIterator())
}
