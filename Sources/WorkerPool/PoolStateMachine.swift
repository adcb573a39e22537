/// The whole life of one pool as a value: its phase, its job cache and its live workers.
///
/// `PoolCore` holds one under its mutex and feeds it events through `transition(_:)`, which decides
/// and returns an `Action`; the core performs the action after unlocking (starting a thread,
/// failing jobs, closing the task channel). Nothing here blocks, calls user code or touches a thread,
/// so the rules can be read, and tested, in one place. CPython spreads the same rules over three
/// helper threads, sentinels and flags, which is where its shutdown hangs come from.
struct PoolStateMachine {
    enum Phase: Equatable {
        /// Accepting work.
        case running
        /// `close()` was called: no new work; queued work runs; the task channel closes once the
        /// cache is empty, and the workers then exit.
        case closed
        /// `terminate()` was called: queued work was dropped and every job failed.
        case terminated
        /// An initializer threw: every job failed with `.broken(reason)`; no new work.
        case broken(String)
    }

    enum Event {
        /// A job asks to enter the cache. `items` counts what it brings (statistics).
        case submit(Job, items: Int)
        /// A job delivered its last result (or was cancelled) and leaves the cache.
        case jobFinished(any Job)
        case close
        case terminate
        case initializerFailed(reason: String)
        /// A worker thread is about to exit; `wantsReplacement` after `maxTasksPerWorker` chunks.
        case workerExiting(id: Int, wantsReplacement: Bool)
    }

    enum Action {
        case none
        /// The submission entered the cache.
        case accepted
        case rejected(PoolError)
        /// Close the task channel: the workers drain it and exit.
        case closeChannel
        /// `close()` with jobs still in the cache: lazy inputs stop being read.
        case stopReading([Job])
        /// Drop the queued tasks, close the channel and fail these jobs with the error.
        case abort([Job], PoolError)
        /// Start a thread for this new worker id (already counted as live).
        case startReplacement(workerID: Int)
        /// A worker left; if it was the last one, `join()` may return.
        case workerGone
    }

    private(set) var phase: Phase = .running
    private(set) var cache = JobCache()
    /// Workers that were started and have not yet exited.
    private(set) var liveWorkers: Set<Int> = []
    private(set) var channelClosed = false
    private(set) var workerRestarts = 0
    private(set) var itemsSubmitted = 0

    /// Records the first workers, before any event.
    mutating func started(workerIDs: [Int]) {
        liveWorkers.formUnion(workerIDs)
    }

    /// Counts items that a lazy input (imap) read after the job was submitted.
    mutating func countSubmitted(_ items: Int) {
        itemsSubmitted += items
    }

    var isStopped: Bool { phase != .running }

    mutating func transition(_ event: Event) -> Action {
        switch event {
        case .submit(let job, let items):
            switch phase {
            case .running:
                cache.insert(job)
                itemsSubmitted += items
                return .accepted
            case .closed, .terminated:
                return .rejected(.notRunning)
            case .broken(let reason):
                return .rejected(.broken(reason))
            }

        case .jobFinished(let job):
            cache.remove(job)
            if phase == .closed && cache.isEmpty && !channelClosed {
                channelClosed = true
                return .closeChannel
            }
            return .none

        case .close:
            guard phase == .running else { return .none }
            phase = .closed
            if cache.isEmpty {
                channelClosed = true
                return .closeChannel
            }
            return .stopReading(cache.jobs)

        case .terminate:
            switch phase {
            case .running, .closed:
                phase = .terminated
                channelClosed = true
                return .abort(cache.removeAll(), .terminated)
            case .broken:
                phase = .terminated
                return .none
            case .terminated:
                return .none
            }

        case .initializerFailed(let reason):
            switch phase {
            case .running, .closed:
                phase = .broken(reason)
                channelClosed = true
                return .abort(cache.removeAll(), .broken(reason))
            case .terminated, .broken:
                return .none
            }

        case .workerExiting(let id, let wantsReplacement):
            liveWorkers.remove(id)
            if wantsReplacement && !channelClosed && (phase == .running || phase == .closed) {
                let replacement = WorkerIDs.next()
                liveWorkers.insert(replacement)
                workerRestarts += 1
                return .startReplacement(workerID: replacement)
            }
            return .workerGone
        }
    }

    /// Whether `join()` may return: the pool is stopped and every worker has exited.
    var isJoinable: Bool { isStopped && liveWorkers.isEmpty }
}

/// The job cache (CPython's `_cache`): every job from submission until its result is delivered.
/// An array in which each job records its own index, so that adding and removing are O(1) with no
/// hashing: a dictionary keyed by job id cost more than the rest of a small task's bookkeeping.
struct JobCache {
    private(set) var jobs: [any Job] = []

    var isEmpty: Bool { jobs.isEmpty }
    var count: Int { jobs.count }

    mutating func insert(_ job: any Job) {
        job.cacheSlot = jobs.count
        jobs.append(job)
        #if DEBUG
        JobCacheAudit.adjust(by: 1)
        #endif
    }

    /// Removes `job` if it is in the cache (removing twice, or after `removeAll`, does nothing).
    mutating func remove(_ job: any Job) {
        let slot = job.cacheSlot
        guard slot >= 0, slot < jobs.count, jobs[slot] === job else { return }
        let last = jobs.removeLast()
        if last !== job {
            jobs[slot] = last
            last.cacheSlot = slot
        }
        job.cacheSlot = -1
        #if DEBUG
        JobCacheAudit.adjust(by: -1)
        #endif
    }

    mutating func removeAll() -> [any Job] {
        for job in jobs { job.cacheSlot = -1 }
        #if DEBUG
        JobCacheAudit.adjust(by: -jobs.count)
        #endif
        defer { jobs = [] }
        return jobs
    }
}

/// Process-wide counters for job and worker ids (Python's `job_counter`): ids never repeat within
/// a process, across pools.
@usableFromInline
enum JobIDs {
    private static let counter = LockedBox.make(0)
    @usableFromInline
    static func next() -> Int { counter.withLockedValue { $0 += 1; return $0 } }
}

enum WorkerIDs {
    private static let counter = LockedBox.make(0)
    static func next() -> Int { counter.withLockedValue { $0 += 1; return $0 } }
}
