/// Where a bulk job reads its items from. Only the worker holding the job's feed token reads it
/// (one at a time, handed over through the task channel), so a source needs no lock; the value it
/// wraps was `sending` into the pool, so no one else holds it.
///
/// The sources are made by `countedSource` and `makeItemSource`, which are inlinable: called from
/// the public `@inlinable` entry points (`map`, `mapAsync`, `imap`, `imapUnordered` and their
/// `async` forms), they are compiled where the caller's sequence type is known. The worker reaches
/// a source through this protocol, whose methods on a generic class run unspecialized, so a lazy
/// source does its per-item work in a closure compiled for the caller's iterator (see
/// `IteratorSource`). The tuple forms (a body that returns a tuple, `imap` over tuples) are not
/// inlinable: they make their sources in generic code, and a lazy input costs more per item there.
@usableFromInline
protocol ItemSource<Item>: AnyObject {
    associatedtype Item
    /// Reads up to `count` items (at least one is asked for). Fewer than asked means the input
    /// ended. The slice may share storage with the input.
    func read(upTo count: Int) -> ArraySlice<Item>
}

/// An array input: chunks are slices of its storage (no copy).
@usableFromInline
final class ArraySource<Item>: ItemSource {
    @usableFromInline let items: [Item]
    @usableFromInline var position = 0

    @inlinable
    init(_ items: [Item]) { self.items = items }

    @usableFromInline
    func read(upTo count: Int) -> ArraySlice<Item> {
        let end = position + min(count, items.count - position)
        defer { position = end }
        return items[position..<end]
    }
}

/// A lazy input: chunks are read from the iterator when a worker needs one, into a new array.
///
/// The reading loop is a closure made in the `@inlinable` initializer, so it is compiled for the
/// caller's iterator and element types. Reached through the generic class alone, the loop ran
/// unspecialized: every `next()` and every append went through witness tables and looked up
/// metadata, about 150-230 ns per item for a `Range<Int>` (an array's items cost 5-10 ns).
@usableFromInline
final class IteratorSource<Item>: ItemSource {
    /// Reads up to its argument's count of items; fewer means the input ended.
    @usableFromInline let reader: (Int) -> ArraySlice<Item>

    @inlinable
    init<Iterator: IteratorProtocol>(_ iterator: Iterator) where Iterator.Element == Item {
        var iterator = iterator
        var ended = false
        reader = { count in
            var chunk: [Item] = []
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

    @usableFromInline
    func read(upTo count: Int) -> ArraySlice<Item> { reader(count) }
}

/// Makes the source for an input sequence: arrays are sliced in place, anything else is iterated.
/// Inlinable, so that a lazy source's loop is compiled for `S`.
@inlinable
func makeItemSource<S: Sequence>(_ items: S) -> any ItemSource<S.Element> {
    if let array = items as? [S.Element] { return ArraySource(array) }
    return IteratorSource(items.makeIterator())
}
