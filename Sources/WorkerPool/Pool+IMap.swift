extension Pool {
    /// Applies `body` to every item and returns an iterator over the results in input order
    /// (Python's `imap`).
    ///
    /// The input is read lazily, chunk by chunk, as workers need work, and never more than
    /// `workers + buffersize` chunks ahead of the consumer, so an endless or huge input runs in
    /// bounded memory. After `close()`: without `buffersize`, the whole input is still read and
    /// computed (Python's behaviour; `join()` waits for the computing, never for the consumer); with
    /// `buffersize`, reading stops, and after the items read the iterator throws `.notRunning`.
    /// Submitting never blocks, even in a full bounded pool: the job's first chunk waits for room.
    ///
    /// - Parameters:
    ///   - chunksize: items per chunk; `nil` means 1 (CPython's default) unless `chunking` is given.
    ///     With chunks of more than one item the iterator still yields item by item.
    ///   - chunking: a strategy for this call (the pool's own strategy is not used by imap).
    ///   - buffersize: how many chunks, beyond one per worker, may be read ahead of the consumer;
    ///     `nil` means twice the number of workers until `close()`, and no bound after it. Must be
    ///     at least 1.
    /// - Throws: `.invalidArgument` for a bad `chunksize`, `chunking` or `buffersize`;
    ///   `.notRunning`, `.broken`.
    @inlinable
    public func imap<S: Sequence, R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R
    ) throws -> IMapIterator<R> where S.Element: Codable & Sendable {
        try imap(makeItemSource(items), ordered: true, chunksize: chunksize, chunking: chunking, buffersize: buffersize, kernel: Kernels.unary(body))
    }

    /// `imap` whose results arrive in completion order (Python's `imap_unordered`): each chunk's
    /// results are yielded as soon as the chunk is done.
    ///
    /// - Throws: as `imap`.
    @inlinable
    public func imapUnordered<S: Sequence, R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R
    ) throws -> IMapIterator<R> where S.Element: Codable & Sendable {
        try imap(makeItemSource(items), ordered: false, chunksize: chunksize, chunking: chunking, buffersize: buffersize, kernel: Kernels.unary(body))
    }

    /// `imap`/`imapUnordered` over a source made where the input's type was known (`makeItemSource`).
    @usableFromInline
    func imap<T: Codable & Sendable, R: Codable & Sendable>(
        _ source: any ItemSource<T>,
        ordered: Bool,
        chunksize: Int?,
        chunking: ChunkingStrategy?,
        buffersize: Int?,
        kernel: @escaping Kernel<T, R>
    ) throws -> IMapIterator<R> {
        try imap(source: source, ordered: ordered, chunksize: chunksize, chunking: chunking,
                 buffersize: buffersize, pipeline: pipeline(T.self, R.self, kernel))
    }

    /// Validates the arguments and submits an imap job over `source` that runs `pipeline`:
    /// shared by `imap`, `imapUnordered` and their tuple forms.
    func imap<T, R: Sendable>(
        source: any ItemSource<T>,
        ordered: Bool,
        chunksize: Int?,
        chunking: ChunkingStrategy?,
        buffersize: Int?,
        pipeline: ChunkPipeline<T, R>
    ) throws -> IMapIterator<R> {
        try PoolError.require("chunksize", chunksize, atLeast: 1)
        try PoolError.require("buffersize", buffersize, atLeast: 1)
        try chunking?.validate(argument: "chunking")
        let strategy = chunksize.map { ChunkingStrategy.fixed($0) } ?? chunking ?? .fixed(1)
        let sizer = strategy.makeSizer(for: ChunkingContext(workers: workerCount, count: nil))
        let (window, overflow) = workerCount.addingReportingOverflow(buffersize ?? 2 * workerCount)
        let iterator = IMapIterator<R>(ordered: ordered, core: core)
        let tracer = chunking?.recorder?.beginJob(strategy: strategy.description, count: nil, workers: workerCount)
        let job = IMapJob(core: core, source: source, sizer: sizer, window: overflow ? Int.max : window,
                          hasBuffersize: buffersize != nil, pipeline: pipeline, consumer: iterator, tracer: tracer)
        iterator.attach(job)
        do {
            try core.submitLazily(job)
        } catch {
            tracer?.withdraw()
            throw error
        }
        return iterator
    }
}
