import Foundation
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

/// Hooks into ThreadSanitizer's runtime when the process runs under it (`--sanitize=thread`), and
/// nothing otherwise: the symbols are looked up once, and are absent from ordinary builds.
enum ThreadSanitizer {
    // ThreadSanitizer's dynamic annotations (`AnnotateIgnoreReadsBegin(file, line)` and its kin),
    // which its runtime exports on Linux and Darwin alike.
    private typealias Hook = @convention(c) (UnsafePointer<CChar>?, Int32) -> Void
    private struct Hooks {
        let ignoreReadsBegin, ignoreReadsEnd, ignoreWritesBegin, ignoreWritesEnd: Hook
    }

    private static let hooks: Hooks? = {
        guard let readsBegin = lookup("AnnotateIgnoreReadsBegin"), let readsEnd = lookup("AnnotateIgnoreReadsEnd"),
              let writesBegin = lookup("AnnotateIgnoreWritesBegin"), let writesEnd = lookup("AnnotateIgnoreWritesEnd")
        else { return nil }
        return Hooks(ignoreReadsBegin: readsBegin, ignoreReadsEnd: readsEnd,
                     ignoreWritesBegin: writesBegin, ignoreWritesEnd: writesEnd)
    }()

    private static func lookup(_ name: String) -> Hook? {
        #if os(Linux) || os(Android)
        let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #else
        let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT on Darwin
        #endif
        guard let symbol = dlsym(everywhere, name) else { return nil }
        return unsafeBitCast(symbol, to: Hook.self)
    }

    /// Whether the process runs under ThreadSanitizer (its annotations were found).
    static var isActive: Bool { hooks != nil }

    /// Resumes a continuation from a thread other than its task's, with this thread's memory
    /// accesses inside `resume` hidden from ThreadSanitizer.
    ///
    /// `resume` is inlined into this module, so its accesses to the task's frame (the slot for the
    /// resumed value) are instrumented, while the runtime's ordering of them before the task goes
    /// on is not: when the resume lands before the task has suspended, the runtime takes a path
    /// with no annotation at all, and TSan reports those accesses as racing with the task's next
    /// use of its frame (it did, in CI, from `joined()`). No `ResumeEdge` or lock can order them,
    /// since they happen after the resumer's last release. Only the resume's own reads and writes
    /// are hidden; its synchronization, and everything before and after it, stay checked. (With
    /// Swift's executors the resume only enqueues the task. A custom executor whose `enqueue`
    /// ran the job inline would run the task inside this window, hidden from TSan too.)
    @inline(__always)
    static func resumeHidingAccesses(_ resume: () -> Void) {
        guard let hooks else { return resume() }
        hooks.ignoreReadsBegin(nil, 0)
        hooks.ignoreWritesBegin(nil, 0)
        resume()
        hooks.ignoreWritesEnd(nil, 0)
        hooks.ignoreReadsEnd(nil, 0)
    }
}
