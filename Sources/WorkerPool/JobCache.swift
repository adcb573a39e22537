/// The job cache (CPython's `_cache`): every job from submission until its result is delivered, so
/// that `terminate()` can fail whatever is pending, `close()` can tell lazy inputs, and the pool
/// knows when the last job is done.
///
/// Sharded by job id, each shard a `LockedBox` of an array in which each job records its own index
/// (O(1) insert and remove, no hashing): a submitter and the worker delivering an earlier job take
/// different locks, so no single mutex serializes every submission and delivery.
///
/// The cache also decides admission: a job enters only while the pool is running, checked under
/// the shard's lock. `close()` and `terminate()` first publish the new phase, then visit every
/// shard under its lock, so a job either entered before (and they see it) or sees the new phase
/// (and is refused): none slips through.
final class JobCache: Sendable {
    static let shardCount = 16

    private let shards: [LockedBox<[any Job]>] = (0..<JobCache.shardCount).map { _ in LockedBox.make([]) }

    private func shard(for job: any Job) -> LockedBox<[any Job]> {
        shards[job.id & (JobCache.shardCount - 1)]
    }

    /// Adds `job` unless `refusal()` (read under the shard's lock) gives a reason not to.
    ///
    /// - Throws: that reason.
    func insert(_ job: any Job, unless refusal: () -> PoolError?) throws {
        let refused: PoolError? = shard(for: job).withLockedValue { jobs in
            if let error = refusal() { return error }
            job.cacheSlot = jobs.count
            jobs.append(job)
            return nil
        }
        if let refused { throw refused }
        #if DEBUG
        JobCacheAudit.adjust(by: 1)
        #endif
    }

    /// Removes `job`; false if it was not there (removed already, or dropped by `removeAll`).
    @discardableResult
    func remove(_ job: any Job) -> Bool {
        let removed = shard(for: job).withLockedValue { jobs -> Bool in
            let slot = job.cacheSlot
            guard slot >= 0, slot < jobs.count, jobs[slot] === job else { return false }
            let last = jobs.removeLast()
            if last !== job {
                jobs[slot] = last
                last.cacheSlot = slot
            }
            job.cacheSlot = -1
            return true
        }
        #if DEBUG
        if removed { JobCacheAudit.adjust(by: -1) }
        #endif
        return removed
    }

    /// Removes and returns every job.
    func removeAll() -> [any Job] {
        var all: [any Job] = []
        for shard in shards {
            all += shard.withLockedValue { jobs -> [any Job] in
                for job in jobs { job.cacheSlot = -1 }
                defer { jobs = [] }
                return jobs
            }
        }
        #if DEBUG
        JobCacheAudit.adjust(by: -all.count)
        #endif
        return all
    }

    /// Every job now in the cache.
    var jobs: [any Job] {
        shards.flatMap { shard in shard.withLockedValue { $0 } }
    }

    /// The number of jobs (one lock per shard, never one for all).
    var count: Int {
        shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.count } }
    }

    var isEmpty: Bool {
        shards.allSatisfy { shard in shard.withLockedValue { $0.isEmpty } }
    }
}
