/// A snapshot of a pool's activity (`Pool.statistics`).
///
/// Workers count their own items under locks of their own, so reading statistics never slows the
/// hot path; a snapshot is consistent per counter, not across counters, while work is running.
/// Once the pool is idle, `itemsCompleted + itemsFailed + itemsCancelled == itemsSubmitted`.
public struct PoolStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Worker threads started and not yet exited.
    public var workersAlive = 0
    /// Workers running a chunk right now.
    public var workersBusy = 0
    /// Entries waiting for a worker: the queue that `maxQueuedChunks` bounds. An apply is one
    /// entry; a map or imap is one entry at a time (its next chunk, cut when a worker takes it).
    public var chunksQueued = 0
    /// Chunks that workers have finished.
    public var chunksCompleted = 0
    /// Items submitted: every item of an `apply`/`map`/`starmap`, and the items an `imap` has read.
    public var itemsSubmitted = 0
    /// Items whose body returned and whose result was delivered or, after a terminate, discarded.
    public var itemsCompleted = 0
    /// Items whose body threw, or whose argument or result failed to encode or decode.
    public var itemsFailed = 0
    /// Items that never ran: cancelled, skipped after an earlier failure of their map job, or
    /// dropped by `terminate()` or a broken pool.
    public var itemsCancelled = 0
    /// Workers replaced after `maxTasksPerWorker` chunks.
    public var workerRestarts = 0
    /// Jobs in the cache: submitted and not yet delivered.
    public var jobsInCache = 0

    /// All counts zero (what a new pool reports).
    public init() {}

    public var description: String {
        "workers \(workersAlive) alive/\(workersBusy) busy, chunks \(chunksQueued) queued/\(chunksCompleted) done, "
            + "items \(itemsSubmitted) submitted = \(itemsCompleted) completed + \(itemsFailed) failed + \(itemsCancelled) cancelled"
            + " (+\(itemsSubmitted - itemsCompleted - itemsFailed - itemsCancelled) in flight), "
            + "\(workerRestarts) restarts, \(jobsInCache) jobs in cache"
    }
}
