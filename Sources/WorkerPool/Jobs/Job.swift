/// One submission in the pool's job cache (Python's `ApplyResult`/`MapResult`/`IMapIterator` as
/// the cache sees them).
///
/// The task channel carries jobs, not chunks: a worker that takes a job from the channel cuts the
/// job's next chunk, puts the job back on the channel if it has more (so another worker can cut the
/// chunk after it while this one runs), then runs its chunk. Cutting when a worker asks is what lets
/// a chunking strategy use what was measured so far, and it spreads the workers over every queued
/// job round-robin instead of running one job's chunks to the end before the next job's first.
@usableFromInline
protocol Job: AnyObject, Sendable {
    /// The process-wide job id (Python's `job_counter`); also picks the job's cache shard.
    var id: Int { get }
    /// The job's place in its shard of the job cache, -1 when it is not there. Only `JobCache`
    /// touches it, under that shard's lock.
    var cacheSlot: Int { get set }
    /// Called on a worker thread that took the job from the channel: cut one chunk, re-queue the
    /// job if more remain, run the chunk and deliver its results. Returns whether a chunk ran
    /// (a chunk is one task for `maxTasksPerWorker`).
    func runChunk(on worker: WorkerContext) -> Bool
    /// Fails everything the job has not delivered with `error` (`terminate()`, a broken pool).
    /// Chunks already running finish; their results are discarded. Called with no lock held.
    func abort(_ error: PoolError)
    /// `close()` was called. A lazy input decides what to do (imap); other jobs run to the end.
    func poolClosed()
    /// Whether the job was cancelled or has failed, so that a running body can stop early.
    var isCancelled: Bool { get }
}

extension Job {
    @usableFromInline
    func poolClosed() {}
}

/// Process-wide counters for job and worker ids (Python's `job_counter`): ids never repeat within
/// a process, across pools.
@usableFromInline
enum JobIDs {
    @usableFromInline
    static func next() -> Int { IDCounters.job.wrappingAdd(1, ordering: .relaxed).newValue }
}

enum WorkerIDs {
    static func next() -> Int { IDCounters.worker.wrappingAdd(1, ordering: .relaxed).newValue }
}
