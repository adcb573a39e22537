extension Pool {
    /// Runs `body(argument)` on a worker and waits for its result (Python's `apply`).
    ///
    /// The argument and the result cross the pool's codec.
    ///
    /// - Throws: the error `body` threw, unwrapped; `.notRunning`/`.broken` if the pool does not
    ///   accept work; `.encodingFailed`, `.terminated`, `CancellationError` as `get()` does.
    @available(*, noasync, message: "apply blocks its thread; use `try await pool.apply(...)`")
    @inlinable
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
    ///   In a pool with `maxQueuedChunks`, blocks while the pool is full (on one of the pool's own
    ///   workers, runs queued work instead of blocking).
    @inlinable
    public func applyAsync<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> R,
        callback: (@Sendable (R) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> AsyncResult<R> {
        let reserved = try core.reserve()
        return try submitApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: reserved)
    }
}
