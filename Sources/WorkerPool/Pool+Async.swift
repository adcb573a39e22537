// The async twins of the blocking calls. They never block a thread of Swift's cooperative pool:
// a bounded pool's admission suspends, and results are awaited through continuations that the
// pool's result path resumes. `await pool.apply/map/starmap` own their job: cancelling the awaiting
// task cancels it (chunks not yet started are skipped) and the await throws `CancellationError`.

extension Pool {
    /// `apply` for Swift concurrency: suspends until the result is ready.
    ///
    /// - Throws: as `apply`, and `CancellationError` if the awaiting task is cancelled first.
    @inlinable
    public func apply<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> R
    ) async throws -> R {
        try await applyAsync(argument, body).value
    }

    /// `applyAsync` for Swift concurrency: in a bounded pool, suspends (instead of blocking) while
    /// the pool is full.
    @inlinable
    public func applyAsync<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> R,
        callback: (@Sendable (R) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> AsyncResult<R> {
        let reserved = try await core.reserveSuspending()
        return try submitApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: reserved)
    }

    /// `map` for Swift concurrency: suspends until every result is ready.
    ///
    /// - Throws: as `map`, and `CancellationError` if the awaiting task is cancelled first.
    @inlinable
    public func map<S: Sequence, R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R
    ) async throws -> [R] where S.Element: Codable & Sendable {
        try await mapAsync(items, chunksize: chunksize, chunking: chunking, body).value
    }

    /// `mapAsync` for Swift concurrency: in a bounded pool, suspends while the pool is full.
    @inlinable
    public func mapAsync<S: Sequence, R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R,
        callback: (@Sendable ([R]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> MapResult<R> where S.Element: Codable & Sendable {
        try await mapAsync(countedSource(items), chunksize: chunksize, chunking: chunking, kernel: Kernels.unary(body),
                           callback: callback, errorCallback: errorCallback)
    }

    /// `mapAsync` over a source made where the input's type was known (`countedSource`).
    @usableFromInline
    func mapAsync<T: Codable & Sendable, R: Codable & Sendable>(
        _ input: (source: any ItemSource<T>, count: Int),
        chunksize: Int?,
        chunking: ChunkingStrategy?,
        kernel: @escaping Kernel<T, R>,
        callback: (@Sendable ([R]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)?
    ) async throws -> MapResult<R> {
        let plan = try planMap(input, chunksize: chunksize, chunking: chunking)
        let reserved = try await core.reserveSuspending()
        return try submitMap(plan, pipeline: pipeline(T.self, R.self, kernel),
                             callbacks: Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: reserved)
    }

    /// `starmap` for Swift concurrency.
    @inlinable
    public func starmap<each A: Codable & Sendable, R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> R
    ) async throws -> [R] {
        try await starmapAsync(items, chunksize: chunksize, chunking: chunking, body).value
    }

    /// `starmapAsync` for Swift concurrency: in a bounded pool, suspends while the pool is full.
    @inlinable
    public func starmapAsync<each A: Codable & Sendable, R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> R,
        callback: (@Sendable ([R]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> MapResult<R> {
        try await starmapAsync(items, chunksize: chunksize, chunking: chunking, kernel: Kernels.spread(body), callback: callback, errorCallback: errorCallback)
    }

    @usableFromInline
    func starmapAsync<each A: Codable & Sendable, R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int?,
        chunking: ChunkingStrategy?,
        kernel: @escaping Kernel<(repeat each A), R>,
        callback: (@Sendable ([R]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)?
    ) async throws -> MapResult<R> {
        let plan = try planMap((ArraySource(items), items.count), chunksize: chunksize, chunking: chunking)
        let reserved = try await core.reserveSuspending()
        return try submitMap(plan, pipeline: starPipeline(for: repeat (each A).self, result: R.self, kernel: kernel),
                             callbacks: Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: reserved)
    }
}
