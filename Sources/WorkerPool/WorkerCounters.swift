import Synchronization

/// One worker's counts for `Pool.statistics`. Only the worker's own thread writes them (relaxed
/// atomics: no lock, no contention on the hot path); a statistics read loads them.
final class WorkerCounters: Sendable {
    let busy = Atomic<Bool>(false)
    let chunksCompleted = Atomic<Int>(0)
    let itemsCompleted = Atomic<Int>(0)
    let itemsFailed = Atomic<Int>(0)
    let itemsCancelled = Atomic<Int>(0)

    var totals: CounterTotals {
        CounterTotals(chunksCompleted: chunksCompleted.load(ordering: .relaxed),
                      itemsCompleted: itemsCompleted.load(ordering: .relaxed),
                      itemsFailed: itemsFailed.load(ordering: .relaxed),
                      itemsCancelled: itemsCancelled.load(ordering: .relaxed))
    }
}

/// Sums of worker counters (those of exited workers are folded into the pool's).
struct CounterTotals: Equatable {
    var chunksCompleted = 0
    var itemsCompleted = 0
    var itemsFailed = 0
    var itemsCancelled = 0

    static func += (lhs: inout CounterTotals, rhs: CounterTotals) {
        lhs.chunksCompleted += rhs.chunksCompleted
        lhs.itemsCompleted += rhs.itemsCompleted
        lhs.itemsFailed += rhs.itemsFailed
        lhs.itemsCancelled += rhs.itemsCancelled
    }
}
