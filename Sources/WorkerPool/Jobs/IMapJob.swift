/// `imap` and `imapUnordered`: a lazy input read chunk by chunk as workers need work, never more
/// than `window` chunks ahead of the consumer, each chunk's results handed to the iterator.
///
/// Unlike a map, a failed item does not stop the job: its error takes its position in the stream.
final class IMapJob<T, R: Sendable>: Job, IMapFeedback, @unchecked Sendable {  // `state` guards itself; `source` and `sizer` belong to the feed token's holder (handed over through the task channel)
    let id = JobIDs.next()
    @exclusivity(unchecked) var cacheSlot = -1
    private let core: PoolCore
    private let pipeline: ChunkPipeline<T, R>
    /// Weak: a consumer that lets go of its iterator cancels the job (the iterator's deinit).
    private weak var consumer: IMapIterator<R>?

    // The feed token holder's state.
    private let source: any ItemSource<T>
    @exclusivity(unchecked) private var sizer: any ChunkSizer
    /// Read once at creation: the sizer itself may only be touched by the feed token's holder,
    /// and the chunk is timed after the token has moved on.
    private let measuresTime: Bool

    private struct State {
        var feed: FeedStateMachine
        /// The job failed as a whole (cancelled, terminated, broken).
        var failed = false
        var lastChunkSize = 1
        /// Chunks cut and not yet started, for statistics.
        var waitingChunks = 0
    }
    private let state: LockedBox<State>

    init(core: PoolCore, source: any ItemSource<T>, sizer: any ChunkSizer, window: Int, pipeline: ChunkPipeline<T, R>, consumer: IMapIterator<R>) {
        self.core = core
        self.source = source
        self.sizer = sizer
        measuresTime = sizer.measuresTime
        self.pipeline = pipeline
        self.consumer = consumer
        state = LockedBox.make(State(feed: FeedStateMachine(window: window)))
    }

    var isCancelled: Bool { state.withLockedValue { $0.failed } }

    var queuedChunks: Int { state.withLockedValue { $0.waitingChunks } }

    // MARK: Worker side

    func runChunk(on worker: WorkerContext) -> Bool {
        guard case .cut(let timings) = state.withLockedValue({ $0.feed.take() }) else {
            finishIfDone()
            return false
        }
        for timing in timings { sizer.chunkFinished(items: timing.items, duration: timing.duration) }
        let size = max(sizer.nextChunkSize(remaining: nil), 1)
        let items = source.read(upTo: size)
        core.countSubmitted(items.count)
        let cut = state.withLockedValue { state -> FeedStateMachine.CutResult in
            let cut = state.feed.cut(items: items.count, inputEnded: items.count < size)
            state.lastChunkSize = size
            if cut.chunkIndex != nil { state.waitingChunks += 1 }
            return cut
        }
        core.countCancelled(cut.droppedItems)
        if cut.requeue { core.enqueue(self) }
        guard let index = cut.chunkIndex else {
            finishIfDone()
            return false
        }
        let dropping = state.withLockedValue { state -> Bool in
            state.waitingChunks -= 1
            return state.feed.isDropping
        }
        if dropping {
            worker.countCancelled(items.count)
            chunkFinished(timing: nil)
            return false
        }

        worker.begin(self)
        let began = measuresTime ? Deadline.now() : nil
        let results = items.withUnsafeBufferPointer { buffer -> ChunkResults<R> in
            let out = UnsafeMutablePointer<R>.allocate(capacity: buffer.count)
            defer { out.deallocate() }
            let outcome = pipeline.run(.values(buffer), stopAtFirstError: false, into: out)
            let values: [R] = makeArray(count: outcome.produced) { base in
                base.moveInitialize(from: out, count: outcome.produced)
            }
            return ChunkResults(values: values, failures: outcome.failures, count: buffer.count)
        }
        let timing = began.map { (items: items.count, duration: Duration.nanoseconds(Int64(Deadline.now().nanoseconds - $0.nanoseconds))) }
        worker.end(completed: results.values.count, failed: results.failures.count, cancelled: 0)
        #if DEBUG
        let lost = FaultInjection.fire(.loseOneIMapChunk)
        #else
        let lost = false
        #endif
        if !isCancelled && !lost { consumer?.deliver(results, index: index) }
        chunkFinished(timing: timing)
        return true
    }

    private func chunkFinished(timing: (items: Int, duration: Duration)?) {
        let finish = state.withLockedValue { state -> Bool in
            state.feed.chunkDone(timing: timing)
            return state.feed.claimFinish()
        }
        if finish { finishJob() }
    }

    private func finishIfDone() {
        if state.withLockedValue({ $0.feed.claimFinish() }) { finishJob() }
    }

    /// Every chunk was delivered and no more will be read: the stream's length is known.
    private func finishJob() {
        let (chunks, failed) = state.withLockedValue { ($0.feed.chunksCut, $0.failed) }
        if !failed { consumer?.setTotal(chunks) }
        consumer?.detachJob()
        core.finished(self)
    }

    // MARK: Consumer side

    func consumedChunk() {
        if state.withLockedValue({ $0.feed.consumed(chunks: 1) }) {
            core.enqueue(self)
        }
    }

    func cancel() { fail(with: CancellationError()) }

    func abort(_ error: PoolError) { fail(with: error) }

    /// `close()`: items already read still run; the stream ends after them.
    func stopReading() {
        if state.withLockedValue({ $0.feed.requestStop(.keepRead) }) { finishIfDone() }
    }

    private func fail(with error: any Error) {
        let (first, retired) = state.withLockedValue { state -> (Bool, Bool) in
            let first = !state.failed
            state.failed = true
            let retired = state.feed.requestStop(.dropAll)
            return (first, retired)
        }
        guard first else { return }
        consumer?.fail(error)
        // The cache entry goes now; chunks still running finish unseen.
        core.finished(self)
        if retired { finishIfDone() }
    }
}
