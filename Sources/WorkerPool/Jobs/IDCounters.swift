import Synchronization

/// The process-wide id counters behind `JobIDs` and `WorkerIDs`.
@usableFromInline
enum IDCounters {
    @usableFromInline static let job = Atomic<Int>(0)
    static let worker = Atomic<Int>(0)
}
