/// `map`, `mapAsync`, `starmap`, `starmapAsync`: a known number of items, cut into chunks as workers
/// ask for them, each chunk's results written straight into their final slots. The job is its own
/// result (`MapResult`).
///
/// CPython's `MapResult`: the first failure wins and stops the cutting of further chunks; chunks
/// already cut still run; the result becomes ready once every cut chunk has finished. Cancellation
/// and `terminate()` fail the result at once instead (running chunks finish, their results are
/// dropped).
final class MapJob<T, R: Sendable>: AsyncResult<[R]>, Job, @unchecked Sendable {  // `cacheSlot` is guarded by the job cache shard's lock; `state` guards itself; the feed guards its own state
    let id = JobIDs.next()
    var cacheSlot = -1
    private let count: Int
    private let feed: ChunkFeed<T>
    private let pipeline: ChunkPipeline<T, R>
    private let callbacks: Callbacks<[R]>
    /// Room for every result; chunk results are decoded straight into their place.
    private let slots: UnsafeMutablePointer<R>

    private struct State {
        /// The first failure (a body's error, `.encodingFailed`, a short input, cancellation,
        /// termination).
        var failure: (any Error)?
        /// Whether the result was decided (finished, cancelled or terminated).
        var resolved = false
        /// Slot ranges holding results, to move out on success or destroy otherwise.
        var filled: [Range<Int>] = []
        /// Items whose bodies ran (succeeded or threw), for `progress`.
        var itemsDone = 0
    }
    private let state = LockedBox.make(State())

    init(core: PoolCore, count: Int, source: any ItemSource<T>, sizer: any ChunkSizer, pipeline: ChunkPipeline<T, R>,
         callbacks: Callbacks<[R]>, tracer: JobTracer? = nil) {
        self.count = count
        feed = ChunkFeed(source: source, sizer: sizer, count: count, window: nil, tracer: tracer)
        self.pipeline = feed.timesStages ? pipeline.timingKernel() : pipeline
        self.callbacks = callbacks
        slots = .allocate(capacity: max(count, 1))
        super.init(core: core)
    }

    deinit {
        for range in state.withLockedValue({ $0.filled }) {
            (slots + range.lowerBound).deinitialize(count: range.count)
        }
        slots.deallocate()
    }

    var isCancelled: Bool { state.withLockedValue { $0.failure != nil } }

    /// Items whose bodies ran, of the job's count: one short lock, the one each chunk takes anyway.
    override func currentProgress() -> JobProgress {
        JobProgress(done: state.withLockedValue { $0.itemsDone }, total: count)
    }

    // MARK: Worker side

    func runChunk(on worker: WorkerContext) -> Bool {
        switch feed.cut(requeue: { core!.requeue(self) }) {
        case .none:
            // Items read after a failure are counted when the failure counts what was never cut.
            finishIfDone()
            return false
        case .shortInput(let read, let expected):
            stopAfter(PoolError.invalidArgument(
                "the map's input is a collection whose iteration ended after \(read) items, but its count is \(expected)"),
                      retiringHeldToken: true)
            return false
        case .chunk(let chunk):
            if feed.isDropping {
                // The job failed or was cancelled after this chunk was cut: skip it.
                worker.countCancelled(chunk.items.count)
                chunkFinished(chunk, outcome: nil)
                return false
            }
            let outer = worker.begin(self)
            let outcome = run(chunk.items, into: slots + chunk.start)
            worker.end(resuming: outer, completed: outcome.produced, failed: outcome.failures.count, cancelled: outcome.skipped)
            chunkFinished(chunk, outcome: outcome)
            return true
        }
    }

    /// Runs one chunk's bodies, writing its results at `destination`.
    private func run(_ items: ArraySlice<T>, into destination: UnsafeMutablePointer<R>) -> ChunkOutcome {
        let outcome = items.withUnsafeBufferPointer { pipeline.run(.values($0), stopAtFirstError: true, into: destination) }
        #if DEBUG
        if FaultInjection.fire(.runOneChunkTwice) {
            destination.deinitialize(count: outcome.produced)
            return items.withUnsafeBufferPointer { pipeline.run(.values($0), stopAtFirstError: true, into: destination) }
        }
        #endif
        return outcome
    }

    private func chunkFinished(_ chunk: ChunkFeed<T>.Chunk, outcome: ChunkOutcome?) {
        if let outcome {
            let firstFailure = state.withLockedValue { state -> (any Error)? in
                if outcome.produced > 0 { state.filled.append(chunk.start..<chunk.start + outcome.produced) }
                state.itemsDone += outcome.produced + outcome.failures.count
                guard let first = outcome.failures.first, state.failure == nil else { return nil }
                state.failure = first.error
                return first.error
            }
            if firstFailure != nil { stopFeeding() }
        }
        if feed.chunkDone(chunk) { deliverFinal() }
    }

    /// Records a failure that ends the job once its running chunks are done (CPython's `MapResult`:
    /// no early return), and stops the feed.
    private func stopAfter(_ error: any Error, retiringHeldToken: Bool = false) {
        state.withLockedValue { state in
            if state.failure == nil { state.failure = error }
        }
        stopFeeding(retiringHeldToken: retiringHeldToken)
    }

    /// No more chunks: items never cut count as cancelled (once), and a queued token gives back its
    /// room. Called after the failure is recorded, so the job can only finish with it.
    private func stopFeeding(retiringHeldToken: Bool = false) {
        let (finished, uncut) = feed.stop(.dropAll, retiringHeldToken: retiringHeldToken)
        core?.countCancelled(uncut)
        core?.channel.withdraw(self)
        if finished { deliverFinal() }
    }

    private func finishIfDone() {
        if feed.claimFinish() { deliverFinal() }
    }

    /// Every chunk is done: deliver the array, or the first failure.
    private func deliverFinal() {
        guard let core else { return }
        let (failure, alreadyResolved, filled) = state.withLockedValue { state -> ((any Error)?, Bool, [Range<Int>]) in
            let resolved = state.resolved
            state.resolved = true
            if state.failure == nil {
                // Success: every slot is filled; they move into the array below.
                let filled = state.filled
                state.filled = []
                return (nil, resolved, filled)
            }
            return (state.failure, resolved, [])
        }
        if alreadyResolved { return }
        if let failure {
            core.deliver(.failure(failure), to: self, callbacks: callbacks, job: self)
            return
        }
        precondition(filled.reduce(0) { $0 + $1.count } == count, "map finished with unfilled slots: count \(count), filled \(filled), feed \(feed.progress)")
        let values: [R] = makeArray(count: count) { base in
            base.moveInitialize(from: slots, count: count)
        }
        core.deliver(.success(values), to: self, callbacks: callbacks, job: self)
    }

    // MARK: Cancellation and termination

    override func cancelJob() { fail(with: CancellationError()) }

    func abort(_ error: PoolError) { fail(with: error) }

    /// Fails the result now; chunks not yet cut are dropped, running ones finish unseen.
    private func fail(with error: any Error) {
        guard let core else { return }
        let proceed = state.withLockedValue { state -> Bool in
            guard !state.resolved else { return false }
            state.resolved = true
            if state.failure == nil { state.failure = error }
            return true
        }
        guard proceed else { return }
        let (_, uncut) = feed.stop(.dropAll)
        core.countCancelled(uncut)
        core.channel.withdraw(self)
        core.deliver(.failure(error), to: self, callbacks: callbacks, job: self)
    }
}
