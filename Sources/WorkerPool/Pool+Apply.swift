extension Pool {
    /// Runs `body(argument)` on a worker and waits for its result (Python's `apply`).
    ///
    /// The argument and the result cross the pool's codec.
    ///
    /// - Throws: the error `body` threw, unwrapped; `.notRunning`/`.broken` if the pool does not
    ///   accept work; `.encodingFailed`, `.terminated`, `CancellationError` as `get()` does.
    @available(*, noasync, message: "apply blocks its thread; use `try await pool.apply(...)`")
    public func apply<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> R
    ) throws -> R {
        try applyAsync(argument, body).get()
    }

    /// Queues `body(argument)` and returns its result at once (Python's `apply_async`).
    ///
    /// The argument is encoded now, on the calling thread; a worker decodes it, runs `body`,
    /// and encodes the result, which is decoded before delivery. An argument that cannot be
    /// encoded fails only this result, with `.encodingFailed`.
    ///
    /// - Parameters:
    ///   - callback: runs with the value on the pool's callback queue before the result is ready.
    ///   - errorCallback: runs with the error instead, when the job fails.
    /// - Throws: `.notRunning` after `close()`/`terminate()`, `.broken` after an initializer threw.
    ///   In a pool with `maxQueuedChunks`, blocks while the pool is full.
    public func applyAsync<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> R,
        callback: (@Sendable (R) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> AsyncResult<R> {
        let admitted = try admit(chunks: 1)
        return try submitApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), admitted: admitted)
    }

    /// Builds and submits an apply job; `admitted` says whether a gate slot was taken for it.
    func submitApply<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> R,
        _ callbacks: Callbacks<R>,
        admitted: Bool
    ) throws -> AsyncResult<R> {
        let codec = core.configuration.codec
        let pipeline = ChunkPipeline(
            arguments: codec.chunkCoder(for: T.self),
            results: codec.chunkCoder(for: R.self),
            kernel: Kernels.unary(body),
            codecName: codec.name)
        let job: ApplyJob<T, R>
        if let coder = pipeline.arguments {
            let encoded: EncodedChunk
            do {
                encoded = try withUnsafePointer(to: argument) { try coder.encode(UnsafeBufferPointer(start: $0, count: 1)) }
            } catch {
                if admitted { core.gate?.release(1) }
                try core.checkAcceptingWork()
                let failure = pipeline.encodingFailure(step: "encode", side: "argument", type: T.self, error)
                let result = AsyncResult<R>()
                core.deliver(.failure(failure), to: result, callbacks: callbacks, jobID: JobIDs.next())
                return result
            }
            job = ApplyJob(core: core, argument: .encoded(encoded), pipeline: pipeline, callbacks: callbacks, admitted: admitted)
        } else {
            job = ApplyJob(core: core, argument: .value(argument), pipeline: pipeline, callbacks: callbacks, admitted: admitted)
        }
        job.result.attach(job)
        do {
            try core.submit(job, items: 1)
        } catch {
            if admitted { core.gate?.release(1) }
            throw error
        }
        return job.result
    }

    /// Takes room for `chunks` chunks in a bounded pool, blocking while it is full.
    /// Returns whether room was taken (false in an unbounded pool).
    func admit(chunks: Int) throws -> Bool {
        guard let gate = core.gate else { return false }
        try core.checkAcceptingWork()
        try gate.acquire(chunks)
        return true
    }

    /// `admit(chunks:)` for Swift concurrency: suspends while the pool is full.
    func admitSuspending(chunks: Int) async throws -> Bool {
        guard let gate = core.gate else { return false }
        try core.checkAcceptingWork()
        try await gate.acquire(chunks)
        return true
    }
}
