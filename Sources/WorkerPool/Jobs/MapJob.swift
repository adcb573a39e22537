/// `map`, `mapAsync`, `starmap`, `starmapAsync`: a known number of items, cut into chunks as workers
/// ask for them, each chunk's results written straight into their final slots.
///
/// CPython's `MapResult`: the first failure wins and stops the cutting of further chunks; chunks
/// already cut still run; the result becomes ready once every cut chunk has finished. Cancellation
/// and `terminate()` fail the result at once instead (running chunks finish, their results are
/// dropped).
final class MapJob<T, R: Sendable>: Job, Cancellable, @unchecked Sendable {  // `state` guards itself; `source`, `sizer` and `nextStart` belong to the feed token's holder (handed over through the task channel)
    let id = JobIDs.next()
    @exclusivity(unchecked) var cacheSlot = -1
    let result = MapResult<R>()
    private let core: PoolCore
    private let count: Int
    private let pipeline: ChunkPipeline<T, R>
    private let callbacks: Callbacks<[R]>
    /// Room for every result; chunk results are decoded straight into their place.
    private let slots: UnsafeMutablePointer<R>

    // The feed token holder's state.
    private let source: any ItemSource<T>
    @exclusivity(unchecked) private var sizer: any ChunkSizer
    /// Read once at creation: the sizer itself may only be touched by the feed token's holder,
    /// and the chunk is timed after the token has moved on.
    private let measuresTime: Bool
    @exclusivity(unchecked) private var nextStart = 0

    private struct State {
        var feed = FeedStateMachine(window: nil)
        /// The first failure (a body's error, `.encodingFailed`, cancellation, termination).
        var failure: (any Error)?
        /// Whether the result was decided (finished, cancelled or terminated).
        var resolved = false
        /// Slot ranges holding results, to move out on success or destroy otherwise.
        var filled: [Range<Int>] = []
        /// Chunks admitted through the submission gate and not yet released.
        var admitted = 0
        /// The size of the last chunk cut (before the first, the expected size), for statistics.
        var lastChunkSize = 1
    }
    private let state = LockedBox.make(State())

    init(core: PoolCore, count: Int, source: any ItemSource<T>, sizer: any ChunkSizer, typicalChunkSize: Int,
         pipeline: ChunkPipeline<T, R>, callbacks: Callbacks<[R]>) {
        self.core = core
        self.count = count
        self.source = source
        self.sizer = sizer
        measuresTime = sizer.measuresTime
        self.pipeline = pipeline
        self.callbacks = callbacks
        slots = .allocate(capacity: max(count, 1))
        state.withLockedValue { $0.lastChunkSize = max(typicalChunkSize, 1) }
    }

    deinit {
        for range in state.withLockedValue({ $0.filled }) {
            (slots + range.lowerBound).deinitialize(count: range.count)
        }
        slots.deallocate()
    }

    /// Counts chunks admitted through a bounded pool's gate, released as they are cut.
    func admit(_ chunks: Int) {
        state.withLockedValue { $0.admitted = chunks }
    }

    var isCancelled: Bool { state.withLockedValue { $0.failure != nil } }

    var queuedChunks: Int {
        state.withLockedValue { state in
            guard !state.feed.isDropping else { return 0 }
            let left = count - state.feed.itemsCut
            return (left + state.lastChunkSize - 1) / max(state.lastChunkSize, 1)
        }
    }

    // MARK: Worker side

    func runChunk(on worker: WorkerContext) -> Bool {
        guard case .cut(let timings) = state.withLockedValue({ $0.feed.take() }) else {
            finishIfDone()
            return false
        }
        for timing in timings { sizer.chunkFinished(items: timing.items, duration: timing.duration) }
        let remaining = count - nextStart
        let size = min(max(sizer.nextChunkSize(remaining: remaining), 1), remaining)
        let items = source.read(upTo: size)
        let start = nextStart
        nextStart += items.count
        let (cut, release) = state.withLockedValue { state -> (FeedStateMachine.CutResult, Int) in
            let cut = state.feed.cut(items: items.count, inputEnded: nextStart >= count)
            state.lastChunkSize = max(size, 1)
            var release = 0
            if cut.chunkIndex != nil && state.admitted > 0 {
                state.admitted -= 1
                release = 1
            }
            return (cut, release)
        }
        core.gate?.release(release)
        if cut.requeue { core.enqueue(self) }
        guard cut.chunkIndex != nil else {
            finishIfDone()
            return false
        }
        if state.withLockedValue({ $0.feed.isDropping }) {
            // The job failed or was cancelled after this chunk was cut: skip it.
            worker.countCancelled(items.count)
            chunkFinished(start: start, outcome: nil, timing: nil)
            return false
        }

        worker.begin(self)
        let began = measuresTime ? Deadline.now() : nil
        let outcome = run(items, into: slots + start)
        let timing = began.map { (items: items.count, duration: Duration.nanoseconds(Int64(Deadline.now().nanoseconds - $0.nanoseconds))) }
        worker.end(completed: outcome.produced, failed: outcome.failures.count, cancelled: outcome.skipped)
        chunkFinished(start: start, outcome: outcome, timing: timing)
        return true
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

    private func chunkFinished(start: Int, outcome: ChunkOutcome?, timing: (items: Int, duration: Duration)?) {
        var uncut = 0
        var release = 0
        let finish = state.withLockedValue { state -> Bool in
            if let outcome {
                if outcome.produced > 0 { state.filled.append(start..<start + outcome.produced) }
                if let first = outcome.failures.first, state.failure == nil {
                    state.failure = first.error
                    uncut = count - state.feed.itemsCut
                    _ = state.feed.requestStop(.dropAll)
                    release = state.admitted
                    state.admitted = 0
                }
            }
            state.feed.chunkDone(timing: timing)
            return state.feed.claimFinish()
        }
        core.countCancelled(uncut)
        core.gate?.release(release)
        if finish { deliverFinal() }
    }

    private func finishIfDone() {
        if state.withLockedValue({ $0.feed.claimFinish() }) { deliverFinal() }
    }

    /// Every chunk is done: deliver the array, or the first failure.
    private func deliverFinal() {
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
        if let failure {
            if !alreadyResolved { core.deliver(.failure(failure), to: result, callbacks: callbacks, job: self) }
            return
        }
        precondition(filled.reduce(0) { $0 + $1.count } == count, "map finished with unfilled slots")
        let values: [R] = makeArray(count: count) { base in
            base.moveInitialize(from: slots, count: count)
        }
        core.deliver(.success(values), to: result, callbacks: callbacks, job: self)
    }

    // MARK: Cancellation and termination

    func cancel() { fail(with: CancellationError()) }

    func abort(_ error: PoolError) { fail(with: error) }

    func stopReading() {}  // a map's input is finite: close() lets it run to the end

    /// Fails the result now; chunks not yet cut are dropped, running ones finish unseen.
    private func fail(with error: any Error) {
        let (uncut, release, proceed) = state.withLockedValue { state -> (Int, Int, Bool) in
            guard !state.resolved else { return (0, 0, false) }
            state.resolved = true
            if state.failure == nil { state.failure = error }
            let uncut = state.feed.isDropping ? 0 : count - state.feed.itemsCut
            _ = state.feed.requestStop(.dropAll)  // a map never parks its token
            let release = state.admitted
            state.admitted = 0
            return (uncut, release, true)
        }
        guard proceed else { return }
        core.countCancelled(uncut)
        core.gate?.release(release)
        core.deliver(.failure(error), to: result, callbacks: callbacks, job: self)
    }
}
