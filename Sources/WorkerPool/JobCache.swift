/// The job cache (CPython's `_cache`): every job from submission until its result is delivered, so
/// that `terminate()` can fail whatever is pending, `close()` can tell lazy inputs, and the pool
/// knows when the last job is done.
///
/// A value kept inside the task channel's state, under the channel's lock: a submission enters the
/// cache and the queue in one critical section, and a worker's delivered job leaves the cache in
/// the same critical section in which the worker takes its next job. So the per-task path takes one
/// lock on each side, not two; and `close()`/`terminate()`, which change the channel under the same
/// lock, can never miss a job that is entering. An array in which each job records its own index:
/// O(1) insert and remove, no hashing.
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

    /// Removes `job`; false if it was not there (removed already, or dropped by `removeAll`).
    @discardableResult
    mutating func remove(_ job: any Job) -> Bool {
        let slot = job.cacheSlot
        guard slot >= 0, slot < jobs.count, jobs[slot] === job else { return false }
        let last = jobs.removeLast()
        if last !== job {
            jobs[slot] = last
            last.cacheSlot = slot
        }
        job.cacheSlot = -1
        #if DEBUG
        JobCacheAudit.adjust(by: -1)
        #endif
        return true
    }

    /// Removes and returns every job.
    mutating func removeAll() -> [any Job] {
        for job in jobs { job.cacheSlot = -1 }
        #if DEBUG
        JobCacheAudit.adjust(by: -jobs.count)
        #endif
        defer { jobs = [] }
        return jobs
    }
}
