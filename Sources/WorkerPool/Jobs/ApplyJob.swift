/// `apply`/`applyAsync`: one item, whose argument was encoded when the task was queued.
final class ApplyJob<T: Sendable, R: Sendable>: Job, Cancellable, @unchecked Sendable {  // `phase` is guarded by its LockedBox; the rest is immutable
    enum Argument {
        case value(T)
        case encoded(EncodedChunk)
    }

    private enum Phase {
        case queued, running, finished
    }

    let id = JobIDs.next()
    let result = AsyncResult<R>()
    private let core: PoolCore
    private let argument: Argument
    private let pipeline: ChunkPipeline<T, R>
    private let callbacks: Callbacks<R>
    private let admitted: Bool
    private let phase = LockedBox(Phase.queued)

    init(core: PoolCore, argument: Argument, pipeline: ChunkPipeline<T, R>, callbacks: Callbacks<R>, admitted: Bool) {
        self.core = core
        self.argument = argument
        self.pipeline = pipeline
        self.callbacks = callbacks
        self.admitted = admitted
    }

    var isCancelled: Bool { result.isSettled }

    var queuedChunks: Int { phase.withLockedValue { $0 == .queued ? 1 : 0 } }

    func runChunk(on worker: WorkerContext) -> Bool {
        let start = phase.withLockedValue { phase -> Bool in
            guard phase == .queued else { return false }
            phase = .running
            return true
        }
        guard start else { return false }  // cancelled or terminated before it started
        if admitted { core.gate?.release(1) }
        worker.begin(self)
        let slot = UnsafeMutablePointer<R>.allocate(capacity: 1)
        defer { slot.deallocate() }
        let outcome: ChunkOutcome
        switch argument {
        case .value(let value):
            outcome = withUnsafePointer(to: value) { pointer in
                pipeline.run(.values(UnsafeBufferPointer(start: pointer, count: 1)), stopAtFirstError: true, into: slot)
            }
        case .encoded(let bytes):
            outcome = pipeline.run(.encoded(bytes, count: 1), stopAtFirstError: true, into: slot)
        }
        worker.end(completed: outcome.produced, failed: outcome.failures.count, cancelled: 0)
        phase.withLockedValue { $0 = .finished }
        let delivered: Result<R, any Error> = outcome.produced == 1 ? .success(slot.move()) : .failure(outcome.failures[0].error)
        core.deliver(delivered, to: result, callbacks: callbacks, jobID: id)
        return true
    }

    func cancel() { fail(with: CancellationError()) }

    func abort(_ error: PoolError) { fail(with: error) }

    func stopReading() {}

    /// Fails the result now. A queued task is dropped (the channel skips it when a worker takes it);
    /// a running body finishes and its result is discarded.
    private func fail(with error: any Error) {
        let wasQueued = phase.withLockedValue { phase -> Bool in
            guard phase == .queued else { return false }
            phase = .finished
            return true
        }
        if wasQueued {
            if admitted { core.gate?.release(1) }
        }
        if core.deliver(.failure(error), to: result, callbacks: callbacks, jobID: id), wasQueued {
            core.countCancelled(1)
        }
    }
}
