import Synchronization

/// The happens-before edge between a thread that resumes a continuation and the task it resumes,
/// made visible to ThreadSanitizer.
///
/// The concurrency runtime orders the two itself, but in code TSan does not instrument; when the
/// resume lands before the task has even suspended, TSan sees no ordering at all between the
/// resumer's last accesses and the task's next ones, and reports a race (it did, once, in CI).
/// The resumer releases this atomic right before `resume`, the task acquires it right after, and
/// TSan sees atomics. Never a lock: a lock held across `resume` can deadlock with a cancellation
/// handler (the runtime holds the task's status lock while the handler runs).
///
/// Where the resumer takes the continuation out of a lock-guarded state and the resumed task takes
/// the same lock again before it goes on, that lock already gives the edge and this is not needed.
final class ResumeEdge: Sendable {
    private let counter = Atomic<Int>(0)

    /// Call right before resuming.
    func beforeResume() {
        counter.wrappingAdd(1, ordering: .releasing)
    }

    /// Call in the resumed task, right after the await returns.
    func afterResume() {
        _ = counter.load(ordering: .acquiring)
    }
}
