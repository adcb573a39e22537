extension Pool {
    /// Applies `body` to every item on the workers and returns the results in input order
    /// (Python's `map`).
    ///
    /// The input is cut into chunks of consecutive items; each chunk's arguments are encoded
    /// together, run back to back on one worker, and its results come back together. An array is
    /// sliced in place; another collection is read lazily, chunk by chunk, as workers need work;
    /// any other sequence is first collected into an array (its count decides the chunk size).
    ///
    /// - Parameters:
    ///   - chunksize: items per chunk; `nil` lets `chunking` (or the pool's strategy, by default
    ///     CPython's `ceil(count / (workers * 4))`) decide. Must be at least 1.
    ///   - chunking: the strategy for this call when `chunksize` is nil.
    /// - Throws: the first error to arrive from a body, unwrapped (the chunks that had not started
    ///   are skipped; the call returns once the started ones have finished); `.invalidArgument`
    ///   for a bad `chunksize` or `chunking`, or a collection whose iteration ends before its
    ///   `count` (naming both numbers); `.notRunning`, `.broken`, `.encodingFailed`, `.terminated`.
    @available(*, noasync, message: "map blocks its thread; use `try await pool.map(...)`")
    @inlinable
    public func map<S: Sequence, R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R
    ) throws -> [R] where S.Element: Codable & Sendable {
        try mapAsync(items, chunksize: chunksize, chunking: chunking, body).get()
    }

    /// `map` without waiting (Python's `map_async`): returns a `MapResult` whose value is the array
    /// of results in input order.
    ///
    /// An empty input gives a result that is ready at once with `[]` (its callback runs with `[]`).
    ///
    /// - Parameters:
    ///   - callback: runs with the full array on the pool's callback queue, before the result is ready.
    ///   - errorCallback: runs with the first error instead.
    /// - Throws: `.invalidArgument`, `.notRunning`, `.broken`. In a pool with `maxQueuedChunks`,
    ///   blocks while the pool is full.
    @inlinable
    public func mapAsync<S: Sequence, R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R,
        callback: (@Sendable ([R]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<R> where S.Element: Codable & Sendable {
        try mapAsync(countedSource(items), chunksize: chunksize, chunking: chunking, kernel: Kernels.unary(body),
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
    ) throws -> MapResult<R> {
        let plan = try planMap(input, chunksize: chunksize, chunking: chunking)
        let reserved = try core.reserve()
        return try submitMap(plan, pipeline: pipeline(T.self, R.self, kernel),
                             callbacks: Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: reserved)
    }

    /// Applies `body` to the elements of each tuple, spread over its parameters (Python's
    /// `starmap`): `pool.starmap([(1, "a"), (2, "b")]) { n, s in ... }`. Any arity. Each element of
    /// each tuple crosses the codec.
    ///
    /// - Throws: as `map`.
    @available(*, noasync, message: "starmap blocks its thread; use `try await pool.starmap(...)`")
    @inlinable
    public func starmap<each A: Codable & Sendable, R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> R
    ) throws -> [R] {
        try starmapAsync(items, chunksize: chunksize, chunking: chunking, body).get()
    }

    /// `starmap` without waiting (Python's `starmap_async`).
    ///
    /// - Throws: as `mapAsync`.
    @inlinable
    public func starmapAsync<each A: Codable & Sendable, R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> R,
        callback: (@Sendable ([R]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<R> {
        try starmapAsync(items, chunksize: chunksize, chunking: chunking, kernel: Kernels.spread(body), callback: callback, errorCallback: errorCallback)
    }

    @usableFromInline
    func starmapAsync<each A: Codable & Sendable, R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int?,
        chunking: ChunkingStrategy?,
        kernel: @escaping Kernel<(repeat each A), R>,
        callback: (@Sendable ([R]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)?
    ) throws -> MapResult<R> {
        let plan = try planMap((ArraySource(items), items.count), chunksize: chunksize, chunking: chunking)
        let reserved = try core.reserve()
        return try submitMap(plan, pipeline: starPipeline(for: repeat (each A).self, result: R.self, kernel: kernel),
                             callbacks: Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: reserved)
    }

    // MARK: Shared by the map family

    /// A map job before submission: its input, count and chunk sizer, and its tracer if the
    /// strategy carries a recorder.
    struct MapPlan<T> {
        let source: any ItemSource<T>
        let count: Int
        let sizer: any ChunkSizer
        /// The recorder of a traced call and its strategy's name: the job is traced once the pool
        /// takes it (`submitMap`), so that a refused call leaves no job in the trace.
        var recorder: ChunkTraceRecorder? = nil
        var strategyName = ""

        func beginTrace(workers: Int) -> JobTracer? {
            recorder?.beginJob(strategy: strategyName, count: count, workers: workers)
        }
    }

    func planMap<T>(_ input: (source: any ItemSource<T>, count: Int), chunksize: Int?, chunking: ChunkingStrategy?) throws -> MapPlan<T> {
        try PoolError.require("chunksize", chunksize, atLeast: 1)
        try chunking?.validate(argument: "chunking")
        let strategy = chunksize.map { ChunkingStrategy.fixed($0) } ?? chunking ?? core.configuration.chunking
        let sizer = strategy.makeSizer(for: ChunkingContext(workers: workerCount, count: input.count))
        return MapPlan(source: input.source, count: input.count, sizer: sizer,
                       recorder: (chunking ?? core.configuration.chunking).recorder, strategyName: strategy.description)
    }

    func submitMap<T, R: Sendable>(_ plan: MapPlan<T>, pipeline: ChunkPipeline<T, R>, callbacks: Callbacks<[R]>, reserved: Bool) throws -> MapResult<R> {
        guard plan.count > 0 else {
            if reserved { core.channel.releaseReservation() }
            try core.checkAcceptingWork()
            _ = plan.beginTrace(workers: workerCount)
            let result = EmptyMapResult<R>()
            core.deliver(.success([]), to: result, callbacks: callbacks, job: nil)
            return result
        }
        let tracer = plan.beginTrace(workers: workerCount)
        let job = MapJob(core: core, count: plan.count, source: plan.source, sizer: plan.sizer, pipeline: pipeline, callbacks: callbacks,
                         tracer: tracer)
        do {
            try core.submit(job, items: plan.count, reserved: reserved)
        } catch {
            tracer?.withdraw()
            throw error
        }
        return job
    }

    /// The pipeline for one argument per item.
    func pipeline<T: Codable & Sendable, R: Codable & Sendable>(_ argument: T.Type, _ result: R.Type, _ kernel: @escaping Kernel<T, R>) -> ChunkPipeline<T, R> {
        let codec = core.configuration.codec
        return ChunkPipeline(arguments: codec.chunkCoder(for: T.self), results: codec.chunkCoder(for: R.self), kernel: kernel, codecName: codec.name)
    }

    /// The pipeline for tuples spread over the body's parameters.
    func starPipeline<each A: Codable & Sendable, R: Codable & Sendable>(
        for types: repeat (each A).Type, result: R.Type, kernel: @escaping Kernel<(repeat each A), R>
    ) -> ChunkPipeline<(repeat each A), R> {
        let codec = core.configuration.codec
        return ChunkPipeline(arguments: codec.packCoder(for: repeat each types), results: codec.chunkCoder(for: R.self),
                             kernel: kernel, codecName: codec.name)
    }
}

/// The source and item count of a `map` input: arrays are sliced, other collections read lazily
/// (their count is exact), anything else collected first, as CPython does. Inlinable, so that
/// called from an inlinable entry point, a lazy source's loop (and the collecting) is compiled for
/// `S` (see `IteratorSource`; the tuple forms call it from generic code).
@inlinable
func countedSource<S: Sequence>(_ items: S) -> (source: any ItemSource<S.Element>, count: Int) {
    if let array = items as? [S.Element] { return (ArraySource(array), array.count) }
    if let collection = items as? any Collection { return (IteratorSource(items.makeIterator()), collection.count) }
    let array = Array(items)
    return (ArraySource(array), array.count)
}
