/// How a bulk job (map, starmap, imap, imapUnordered) reads its input and cuts it into chunks, as
/// workers ask for work: the one feeder both `MapJob` and `IMapJob` use.
///
/// The job has one *feed token* (see `FeedStateMachine`). The worker that takes the token from the
/// channel reports the timings of finished chunks to the sizer, asks it for the next size, reads
/// that many items from the input, records the cut, and puts the token back if more remain. Only
/// the token's holder touches the input, the sizer and the read position, so those need no lock:
/// the token is handed from worker to worker through the channel's lock. Everything the other
/// threads share is the state machine, under this feed's lock.
final class ChunkFeed<Item>: @unchecked Sendable {  // `machine` is guarded by its LockedBox; `source`, `sizer` and `position` belong to the feed token's holder
    /// One chunk, cut and not yet finished.
    struct Chunk {
        /// The chunk's place among the job's chunks (imap releases them in this order).
        let index: Int
        /// The position of its first item in the input.
        let start: Int
        let items: ArraySlice<Item>
        /// When it started, for sizers that measure time.
        let began: Deadline?
        /// When its cut began, for a job whose chunks are timed stage by stage (traced, or a sizer
        /// that measures stages; see `ChunkTiming.swift`); nil otherwise.
        let cutAt: Deadline?
    }

    enum CutOutcome {
        /// A chunk to run.
        case chunk(Chunk)
        /// No chunk: the token retired (reading stopped or the input ended) or items read after a
        /// stop were dropped (`droppedItems`).
        case none(droppedItems: Int)
        /// A known-count input whose iteration ended early: the job must fail (what was read in
        /// this cut is dropped and counted as never run). The caller still holds the token: it
        /// records the failure, then retires the token with `stop(.dropAll, retiringHeldToken: true)`.
        case shortInput(read: Int, expected: Int)
    }

    private let source: any ItemSource<Item>
    private var sizer: any ChunkSizer
    /// Read once at creation: the sizer itself may only be touched by the token's holder, and a
    /// chunk is timed after the token has moved on.
    private let measuresTime: Bool
    /// Whether the sizer asked for its chunks' times: a traced job times every chunk, but tells the
    /// sizer only if it asked, so that tracing never changes how a job is cut.
    private let sizerMeasuresTime: Bool
    /// Whether chunks are timed stage by stage: the job is traced or its sizer measures stages.
    /// Read once at creation, like `measuresTime`.
    let timesStages: Bool
    /// Where a traced job records its chunks; nil when the job is not traced.
    let tracer: JobTracer?
    /// The input's length when it is known (map), nil for a lazy input (imap).
    let count: Int?
    private var position = 0
    private let machine: LockedBox<FeedStateMachine>

    init(source: any ItemSource<Item>, sizer: any ChunkSizer, count: Int?, window: Int?, tracer: JobTracer? = nil) {
        self.source = source
        self.sizer = sizer
        timesStages = tracer != nil || sizer.measuresStages
        sizerMeasuresTime = sizer.measuresTime || sizer.measuresStages
        measuresTime = sizerMeasuresTime || timesStages
        self.tracer = tracer
        self.count = count
        machine = LockedBox.make(FeedStateMachine(window: window))
    }

    /// Cuts the next chunk: the caller took the job's token from the channel. `requeue` puts the
    /// token back when more chunks remain (before the chunk runs, so another worker can cut the next).
    func cut(requeue: () -> Void) -> CutOutcome {
        var cutAt: Deadline?
        if timesStages {
            cutAt = Deadline.now()
            KernelClock.reset()
        }
        guard case .cut(let timings) = machine.withLockedValue({ $0.take() }) else { return .none(droppedItems: 0) }
        if sizerMeasuresTime {
            for timing in timings { sizer.chunkFinished(timing) }
        }
        let remaining = count.map { $0 - position }
        var size = max(sizer.nextChunkSize(remaining: remaining), 1)
        if let remaining { size = min(size, remaining) }
        let items = source.read(upTo: size)
        let start = position
        position += items.count
        // A collection whose iteration ends before its `count`: nothing more will come, and what
        // was read is dropped (the job fails with both numbers instead of waiting forever).
        var short = count.map { position < $0 && items.count < size } ?? false
        #if DEBUG
        if short && FaultInjection.isArmed(.requeueShortInput) { short = false }
        #endif
        let inputEnded = count.map { position >= $0 } ?? (items.count < size)
        if short, let count {
            // A short read cuts nothing, and the caller keeps the token until it has recorded the
            // failure (`stop(.dropAll, retiringHeldToken: true)`): were the token to retire first, a
            // chunk finishing meanwhile would find the job done, and without a failure.
            return .shortInput(read: position, expected: count)
        }
        let cut = machine.withLockedValue { $0.cut(items: items.count, inputEnded: inputEnded) }
        if cut.requeue { requeue() }
        guard let index = cut.chunkIndex else { return .none(droppedItems: cut.droppedItems) }
        return .chunk(Chunk(index: index, start: start, items: items, began: measuresTime ? Deadline.now() : nil, cutAt: cutAt))
    }

    /// A chunk finished (ran, failed or was skipped). Returns true exactly once: when the token has
    /// retired and every cut chunk is done, so the job is finished.
    func chunkDone(_ chunk: Chunk?) -> Bool {
        let timing = chunk.flatMap { chunk in
            chunk.began.map { began in
                let finished = Deadline.now()
                if let cutAt = chunk.cutAt { return timedMeasurement(chunk, cut: cutAt, began: began, finished: finished) }
                return ChunkMeasurement(items: chunk.items.count,
                                        duration: .nanoseconds(Int64(clamping: finished.nanoseconds &- began.nanoseconds)))
            }
        }
        return machine.withLockedValue { machine in
            machine.chunkDone(timing: timing)
            return machine.claimFinish()
        }
    }

    /// True exactly once, when the job is found finished (see `chunkDone`).
    func claimFinish() -> Bool {
        machine.withLockedValue { $0.claimFinish() }
    }

    /// Stops reading. Returns whether the job is now finished (a parked token retired here), and,
    /// for the call that first drops a known-count input, how many items were never cut (they will
    /// never run: the caller counts them as cancelled; later calls get 0).
    func stop(_ reason: FeedStateMachine.Stop, retiringHeldToken: Bool = false) -> (finished: Bool, uncut: Int) {
        machine.withLockedValue { machine in
            let firstDrop = reason == .dropAll && !machine.isDropping
            _ = machine.requestStop(reason)
            if retiringHeldToken { machine.retireHeldToken() }
            let uncut = firstDrop ? count.map { $0 - machine.itemsCut } ?? 0 : 0
            return (machine.claimFinish(), uncut)
        }
    }

    /// The consumer finished `chunks` more chunks. Returns whether the parked token must go back on
    /// the channel.
    func consumed(chunks: Int) -> Bool {
        machine.withLockedValue { $0.consumed(chunks: chunks) }
    }

    /// Lifts the read-ahead window (an imap without `buffersize` after `close()` computes its whole
    /// input). Returns whether the parked token must go back on the channel.
    func liftWindow() -> Bool {
        machine.withLockedValue { $0.liftWindow() }
    }

    var isDropping: Bool { machine.withLockedValue { $0.isDropping } }

    /// Whether reading stopped before the input ended.
    var endedEarly: Bool { machine.withLockedValue { $0.endedEarly } }

    /// Chunks cut so far, and items cut so far.
    var progress: (chunks: Int, items: Int) { machine.withLockedValue { ($0.chunksCut, $0.itemsCut) } }
}
