/// `imap` and `imapUnordered`: a lazy input read chunk by chunk as workers need work, never more
/// than `window` chunks ahead of the consumer, each chunk's results handed to the iterator.
///
/// Unlike a map, a failed item does not stop the job: its error takes its position in the stream.
/// After `close()`: an imap without `buffersize` keeps reading to the end of its input (its window
/// is lifted, so `join()` never waits for a consumer); one with `buffersize` stops reading, and the
/// stream ends with `.notRunning` after the items it read.
final class IMapJob<T, R: Sendable>: Job, IMapFeedback, @unchecked Sendable {  // `cacheSlot` is guarded by the job cache shard's lock; `failed` by its LockedBox; the feed guards its own state
    let id = JobIDs.next()
    var cacheSlot = -1
    private let core: PoolCore
    private let feed: ChunkFeed<T>
    private let pipeline: ChunkPipeline<T, R>
    /// Whether the caller bounded the read-ahead (then `close()` stops reading).
    private let hasBuffersize: Bool
    /// Weak: a consumer that lets go of its iterator cancels the job (the iterator's deinit).
    private weak var consumer: IMapIterator<R>?
    /// The job failed as a whole (cancelled, terminated, broken).
    private let failed = LockedBox.make(false)

    init(core: PoolCore, source: any ItemSource<T>, sizer: any ChunkSizer, window: Int, hasBuffersize: Bool,
         pipeline: ChunkPipeline<T, R>, consumer: IMapIterator<R>, tracer: JobTracer? = nil) {
        self.core = core
        feed = ChunkFeed(source: source, sizer: sizer, count: nil, window: window, tracer: tracer)
        self.hasBuffersize = hasBuffersize
        self.pipeline = feed.timesStages ? pipeline.timingKernel() : pipeline
        self.consumer = consumer
    }

    var isCancelled: Bool { failed.withLockedValue { $0 } }

    // MARK: Worker side

    func runChunk(on worker: WorkerContext) -> Bool {
        let chunk: ChunkFeed<T>.Chunk
        switch feed.cut(requeue: { core.requeue(self) }) {
        case .none(let dropped):
            // Items read after the job failed: read (submitted), never run (cancelled).
            core.countSubmitted(dropped)
            core.countCancelled(dropped)
            finishIfDone()
            return false
        case .shortInput:
            preconditionFailure("a lazy input has no count to fall short of")
        case .chunk(let cut):
            chunk = cut
        }
        core.countSubmitted(chunk.items.count)
        if feed.isDropping {
            worker.countCancelled(chunk.items.count)
            chunkFinished(chunk)
            return false
        }

        let outer = worker.begin(self)
        let results = chunk.items.withUnsafeBufferPointer { buffer -> ChunkResults<R> in
            let out = UnsafeMutablePointer<R>.allocate(capacity: buffer.count)
            defer { out.deallocate() }
            let outcome = pipeline.run(.values(buffer), stopAtFirstError: false, into: out)
            let values: [R] = makeArray(count: outcome.produced) { base in
                base.moveInitialize(from: out, count: outcome.produced)
            }
            return ChunkResults(values: values, failures: outcome.failures, count: buffer.count)
        }
        worker.end(resuming: outer, completed: results.values.count, failed: results.failures.count, cancelled: 0)
        #if DEBUG
        let lost = FaultInjection.fire(.loseOneIMapChunk)
        #else
        let lost = false
        #endif
        if !isCancelled && !lost { consumer?.deliver(results, index: chunk.index) }
        chunkFinished(chunk)
        return true
    }

    private func chunkFinished(_ chunk: ChunkFeed<T>.Chunk) {
        if feed.chunkDone(chunk) { finishJob() }
    }

    private func finishIfDone() {
        if feed.claimFinish() { finishJob() }
    }

    /// Every chunk was delivered and no more will be read: the stream's length is known.
    private func finishJob() {
        if !isCancelled {
            let (chunks, items) = feed.progress
            consumer?.setTotal(chunks, items: items, endedEarly: feed.endedEarly)
        }
        consumer?.detachJob()
        core.finished(self)
    }

    // MARK: Consumer side

    func consumedChunk() {
        if feed.consumed(chunks: 1) { core.requeue(self) }
    }

    func cancel() { fail(with: CancellationError()) }

    func abort(_ error: PoolError) { fail(with: error) }

    /// `close()`: with `buffersize`, stop reading (the items read still run); without, read on to
    /// the end whatever the consumer does.
    func poolClosed() {
        if hasBuffersize {
            if feed.stop(.keepRead).finished { finishJob() }
        } else if feed.liftWindow() {
            core.requeue(self)
        }
    }

    private func fail(with error: any Error) {
        let first = failed.withLockedValue { failed -> Bool in
            defer { failed = true }
            return !failed
        }
        guard first else { return }
        consumer?.fail(error)
        let (finished, _) = feed.stop(.dropAll)
        core.channel.withdraw(self)
        // The cache entry goes now; chunks still running finish unseen.
        core.finished(self)
        if finished { finishJob() }
    }
}
