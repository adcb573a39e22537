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

    /// One shard: jobs by slot; a removed job's slot is nil until a new job takes it. Removing
    /// touches only the slot, never another job (a swap-remove would touch the newest job, still in
    /// the submitting thread's cache while a worker removes an older one).
    struct Shard {
        var slots: [(any Job)?] = []
        var free: [Int] = []
        var count = 0

        mutating func insert(_ job: any Job) {
            if let slot = free.popLast() {
                slots[slot] = job
                job.cacheSlot = slot
            } else {
                job.cacheSlot = slots.count
                slots.append(job)
            }
            count += 1
        }

        mutating func remove(_ job: any Job) -> Bool {
            let slot = job.cacheSlot
            // Compared in place: binding the slot's job to a name retained and released it.
            guard slot >= 0, slot < slots.count, slots[slot].map({ ObjectIdentifier($0) }) == ObjectIdentifier(job) else { return false }
            slots[slot] = nil
            free.append(slot)
            job.cacheSlot = -1
            count -= 1
            return true
        }

        mutating func removeAll() -> [any Job] {
            let all = slots.compactMap { $0 }
            for job in all { job.cacheSlot = -1 }
            slots = []
            free = []
            count = 0
            return all
        }
    }

    private let shards: [LockedBox<Shard>] = (0..<JobCache.shardCount).map { _ in LockedBox.make(Shard()) }
    /// The shards' locks and values, reached without retaining a shard's box (a shared line that
    /// the submitter and the delivering worker would both write): `shards` keeps them alive.
    private let views: [LockedBox<Shard>.Unretained]

    init() {
        views = shards.map(\.unretained)
    }

    private func shard(for job: any Job) -> LockedBox<Shard>.Unretained {
        views[job.id & (JobCache.shardCount - 1)]
    }

    /// Adds `job` unless `refusal()` (read under the shard's lock) gives a reason not to.
    ///
    /// - Throws: that reason.
    func insert(_ job: any Job, unless refusal: () -> PoolError?) throws {
        let refused: PoolError? = shard(for: job).withLockedValue { shard in
            if let error = refusal() { return error }
            shard.insert(job)
            return nil
        }
        if let refused { throw refused }
        #if DEBUG
        JobCacheAudit.adjust(by: 1)
        #endif
    }

    /// Removes `job`; false if it was not there (removed already, or dropped by `removeAll`). The
    /// caller holds its own reference, so the job is never destroyed under the shard's lock.
    @discardableResult
    func remove(_ job: any Job) -> Bool {
        let removed = shard(for: job).withLockedValue { $0.remove(job) }
        #if DEBUG
        if removed { JobCacheAudit.adjust(by: -1) }
        #endif
        return removed
    }

    /// Removes and returns every job.
    func removeAll() -> [any Job] {
        var all: [any Job] = []
        for shard in views { all += shard.withLockedValue { $0.removeAll() } }
        #if DEBUG
        JobCacheAudit.adjust(by: -all.count)
        #endif
        return all
    }

    /// Every job now in the cache.
    var jobs: [any Job] {
        views.flatMap { shard in shard.withLockedValue { $0.slots.compactMap { $0 } } }
    }

    /// The number of jobs (one lock per shard, never one for all).
    var count: Int {
        views.reduce(0) { total, shard in total + shard.withLockedValue { $0.count } }
    }

    var isEmpty: Bool {
        views.allSatisfy { shard in shard.withLockedValue { $0.count == 0 } }
    }
}
