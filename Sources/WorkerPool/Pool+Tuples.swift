// Tuples in and out. Swift's tuples cannot conform to `Codable`, so a body returning
// `(word, count)` (Python's `return (word, 1)`) or an input of `(y, n)` pairs fed to `imap` (the
// `istarmap` recipe) would not type-check against the one-value forms. These overloads take
// tuples of two or more `Codable & Sendable` elements through parameter packs, and each element
// crosses the codec on its own, as `starmap`'s arguments do.
//
// Why "two or more": a pack of one element is the element itself, so `(repeat each R)` would also
// match every body that returns one value, and each call would have two candidates. Spelling the
// first two elements out, `(R0, R1, repeat each R)`, keeps the tuple forms disjoint from the
// one-value forms: the type checker never weighs both, and no existing call changes meaning.
//
// Threads: as in the one-value forms. Arguments are encoded by the thread that cuts the chunk,
// bodies run on the workers, results are decoded before delivery, callbacks run on the pool's
// callback queue.

extension Pool {
    // MARK: apply

    /// `apply` for a body that returns a tuple: `let (q, r) = try pool.apply(17) { ($0 / 5, $0 % 5) }`.
    /// Each element of the result crosses the codec.
    ///
    /// - Throws: as `apply`.
    @available(*, noasync, message: "apply blocks its thread; use `try await pool.apply(...)`")
    public func apply<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, repeat each R)
    ) throws -> (R0, R1, repeat each R) {
        try apply(argument) { PackRows([try body($0)]) }.rows[0]
    }

    /// `applyAsync` for a body that returns a tuple (Python's `apply_async` of a function that
    /// returns a tuple). The callbacks run on the pool's callback queue, before the result is ready.
    ///
    /// - Throws: as `applyAsync`.
    public func applyAsync<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, repeat each R),
        callback: (@Sendable ((R0, R1, repeat each R)) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> AsyncResult<(R0, R1, repeat each R)> {
        try submitTupleApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: try core.reserve())
    }

    /// `apply` for Swift concurrency, for a body that returns a tuple.
    ///
    /// - Throws: as `apply`, and `CancellationError` if the awaiting task is cancelled first (which
    ///   cancels the task).
    public func apply<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, repeat each R)
    ) async throws -> (R0, R1, repeat each R) {
        // Through the relay rather than `await apply(argument) { PackRows(...) }.rows[0]`: Swift
        // 6.3 miscompiles that one (the task allocator aborts with "freed pointer was not the last
        // allocation"). Cancelling the awaiting task cancels the relay, which cancels the task.
        try await applyAsync(argument, body).value
    }

    /// `applyAsync` for Swift concurrency, for a body that returns a tuple: in a bounded pool,
    /// suspends while the pool is full.
    ///
    /// - Throws: as `applyAsync`.
    public func applyAsync<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, repeat each R),
        callback: (@Sendable ((R0, R1, repeat each R)) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> AsyncResult<(R0, R1, repeat each R)> {
        try submitTupleApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback),
                             reserved: try await core.reserveSuspending())
    }

    /// Submits a tuple-returning apply through a relay (the rows cross the codec; the caller gets
    /// the tuple). `reserved` says whether room was taken for it.
    func submitTupleApply<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, repeat each R),
        _ callbacks: Callbacks<(R0, R1, repeat each R)>,
        reserved: Bool
    ) throws -> AsyncResult<(R0, R1, repeat each R)> {
        let relay = RelayResult<(R0, R1, repeat each R), PackRows<R0, R1, repeat each R>>(core: core)
        relay.source = try submitApply(argument, { PackRows([try body($0)]) }, relay.sourceCallbacks(callbacks), reserved: reserved)
        return relay
    }

    // MARK: map

    /// `map` for a body that returns a tuple: `let counts = try pool.map(words) { ($0, 1) }` gives
    /// `[(String, Int)]`. Each element of each result crosses the codec.
    ///
    /// - Throws: as `map`; an element that cannot cross the codec fails its item with
    ///   `.encodingFailed`.
    @available(*, noasync, message: "map blocks its thread; use `try await pool.map(...)`")
    public func map<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, repeat each R)
    ) throws -> [(R0, R1, repeat each R)] where S.Element: Codable & Sendable {
        try mapAsync(items, chunksize: chunksize, chunking: chunking, body).get()
    }

    /// `mapAsync` for a body that returns a tuple.
    ///
    /// - Throws: as `mapAsync`.
    public func mapAsync<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, repeat each R),
        callback: (@Sendable ([(R0, R1, repeat each R)]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<(R0, R1, repeat each R)> where S.Element: Codable & Sendable {
        try submitTupleMap(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `map` for Swift concurrency, for a body that returns a tuple.
    ///
    /// - Throws: as `map`, and `CancellationError` if the awaiting task is cancelled first.
    public func map<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, repeat each R)
    ) async throws -> [(R0, R1, repeat each R)] where S.Element: Codable & Sendable {
        try await mapAsync(items, chunksize: chunksize, chunking: chunking, body).value
    }

    /// `mapAsync` for Swift concurrency, for a body that returns a tuple: in a bounded pool,
    /// suspends while the pool is full.
    ///
    /// - Throws: as `mapAsync`.
    public func mapAsync<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, repeat each R),
        callback: (@Sendable ([(R0, R1, repeat each R)]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> MapResult<(R0, R1, repeat each R)> where S.Element: Codable & Sendable {
        try await submitTupleMapSuspending(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `mapAsync` of tuples: plans, takes room (blocking in a full bounded pool), submits.
    func submitTupleMap<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S, _ chunksize: Int?, _ chunking: ChunkingStrategy?,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, repeat each R),
        _ callbacks: Callbacks<[(R0, R1, repeat each R)]>
    ) throws -> MapResult<(R0, R1, repeat each R)> where S.Element: Codable & Sendable {
        let plan = try planMap(countedSource(items), chunksize: chunksize, chunking: chunking)
        let reserved = try core.reserve()
        return try submitMap(plan, pipeline: unaryPipeline(S.Element.self, results: tupleCoder(R0.self, R1.self, repeat (each R).self),
                                                           Kernels.unary(body)),
                             callbacks: callbacks, reserved: reserved)
    }

    /// `mapAsync` of tuples for Swift concurrency: as `submitTupleMap`, suspending for room.
    func submitTupleMapSuspending<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S, _ chunksize: Int?, _ chunking: ChunkingStrategy?,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, repeat each R),
        _ callbacks: Callbacks<[(R0, R1, repeat each R)]>
    ) async throws -> MapResult<(R0, R1, repeat each R)> where S.Element: Codable & Sendable {
        let plan = try planMap(countedSource(items), chunksize: chunksize, chunking: chunking)
        let reserved = try await core.reserveSuspending()
        return try submitMap(plan, pipeline: unaryPipeline(S.Element.self, results: tupleCoder(R0.self, R1.self, repeat (each R).self),
                                                           Kernels.unary(body)),
                             callbacks: callbacks, reserved: reserved)
    }

    // MARK: starmap

    /// `starmap` for a body that returns a tuple: tuples in (spread over the body's parameters),
    /// tuples out. Each element of each argument and result crosses the codec.
    ///
    /// - Throws: as `map`.
    @available(*, noasync, message: "starmap blocks its thread; use `try await pool.starmap(...)`")
    public func starmap<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1, repeat each R)
    ) throws -> [(R0, R1, repeat each R)] {
        try starmapAsync(items, chunksize: chunksize, chunking: chunking, body).get()
    }

    /// `starmapAsync` for a body that returns a tuple.
    ///
    /// - Throws: as `mapAsync`.
    public func starmapAsync<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1, repeat each R),
        callback: (@Sendable ([(R0, R1, repeat each R)]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<(R0, R1, repeat each R)> {
        try submitTupleStarmap(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `starmap` for Swift concurrency, for a body that returns a tuple.
    ///
    /// - Throws: as `map`, and `CancellationError` if the awaiting task is cancelled first.
    public func starmap<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1, repeat each R)
    ) async throws -> [(R0, R1, repeat each R)] {
        try await starmapAsync(items, chunksize: chunksize, chunking: chunking, body).value
    }

    /// `starmapAsync` for Swift concurrency, for a body that returns a tuple: in a bounded pool,
    /// suspends while the pool is full.
    ///
    /// - Throws: as `mapAsync`.
    public func starmapAsync<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1, repeat each R),
        callback: (@Sendable ([(R0, R1, repeat each R)]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> MapResult<(R0, R1, repeat each R)> {
        try await submitTupleStarmapSuspending(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `starmapAsync` of tuples: plans, takes room (blocking in a full bounded pool), submits.
    func submitTupleStarmap<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: [(repeat each A)], _ chunksize: Int?, _ chunking: ChunkingStrategy?,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1, repeat each R),
        _ callbacks: Callbacks<[(R0, R1, repeat each R)]>
    ) throws -> MapResult<(R0, R1, repeat each R)> {
        let plan = try planMap((ArraySource(items), items.count), chunksize: chunksize, chunking: chunking)
        let reserved = try core.reserve()
        return try submitMap(plan, pipeline: spreadPipeline(repeat (each A).self, results: tupleCoder(R0.self, R1.self, repeat (each R).self),
                                                            Kernels.spread(body)),
                             callbacks: callbacks, reserved: reserved)
    }

    /// `starmapAsync` of tuples for Swift concurrency: as `submitTupleStarmap`, suspending for room.
    func submitTupleStarmapSuspending<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable,
                                              each R: Codable & Sendable>(
        _ items: [(repeat each A)], _ chunksize: Int?, _ chunking: ChunkingStrategy?,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1, repeat each R),
        _ callbacks: Callbacks<[(R0, R1, repeat each R)]>
    ) async throws -> MapResult<(R0, R1, repeat each R)> {
        let plan = try planMap((ArraySource(items), items.count), chunksize: chunksize, chunking: chunking)
        let reserved = try await core.reserveSuspending()
        return try submitMap(plan, pipeline: spreadPipeline(repeat (each A).self, results: tupleCoder(R0.self, R1.self, repeat (each R).self),
                                                            Kernels.spread(body)),
                             callbacks: callbacks, reserved: reserved)
    }

    // MARK: imap, imapUnordered: tuple results

    /// `imap` for a body that returns a tuple: `for try await (y, row) in try pool.imap(ys) { ($0, render($0)) }`.
    /// Lazy and bounded by `buffersize` as `imap`. Each element of each result crosses the codec.
    ///
    /// - Throws: as `imap`. The iterator throws an item's error (the body's, or `.encodingFailed`
    ///   for an element that cannot cross) at that item's position.
    public func imap<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, repeat each R)
    ) throws -> IMapIterator<(R0, R1, repeat each R)> where S.Element: Codable & Sendable {
        try imap(source: makeItemSource(items), ordered: true, chunksize: chunksize, chunking: chunking, buffersize: buffersize,
                 pipeline: unaryPipeline(S.Element.self, results: tupleCoder(R0.self, R1.self, repeat (each R).self), Kernels.unary(body)))
    }

    /// `imapUnordered` for a body that returns a tuple: results in completion order, so the tuple
    /// can carry the item's key (`(y, row)`) for the consumer to put it in its place.
    ///
    /// - Throws: as `imap`.
    public func imapUnordered<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, repeat each R)
    ) throws -> IMapIterator<(R0, R1, repeat each R)> where S.Element: Codable & Sendable {
        try imap(source: makeItemSource(items), ordered: false, chunksize: chunksize, chunking: chunking, buffersize: buffersize,
                 pipeline: unaryPipeline(S.Element.self, results: tupleCoder(R0.self, R1.self, repeat (each R).self), Kernels.unary(body)))
    }

    // MARK: imap, imapUnordered: tuple arguments (istarmap)

    /// `imap` over a sequence of tuples, each spread over the body's parameters: the `istarmap`
    /// that Python's Pool lacks. `try pool.imap(rows.lazy.map { ($0, width) }) { y, width in ... }`.
    ///
    /// The input is read lazily, as `imap` reads it, and never more than `workers + buffersize`
    /// chunks ahead of the consumer. Each element of each tuple crosses the codec.
    ///
    /// - Throws: as `imap`.
    public func imap<S: Sequence, A0: Codable & Sendable, A1: Codable & Sendable, each A: Codable & Sendable, R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (A0, A1, repeat each A) throws -> R
    ) throws -> IMapIterator<R> where S.Element == (A0, A1, repeat each A) {
        try imap(source: makeItemSource(items), ordered: true, chunksize: chunksize, chunking: chunking, buffersize: buffersize,
                 pipeline: spreadPipeline(A0.self, A1.self, repeat (each A).self, results: core.configuration.codec.chunkCoder(for: R.self),
                                          Kernels.spread(body)))
    }

    /// `imapUnordered` over a sequence of tuples, each spread over the body's parameters: results
    /// in completion order.
    ///
    /// - Throws: as `imap`.
    public func imapUnordered<S: Sequence, A0: Codable & Sendable, A1: Codable & Sendable, each A: Codable & Sendable, R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (A0, A1, repeat each A) throws -> R
    ) throws -> IMapIterator<R> where S.Element == (A0, A1, repeat each A) {
        try imap(source: makeItemSource(items), ordered: false, chunksize: chunksize, chunking: chunking, buffersize: buffersize,
                 pipeline: spreadPipeline(A0.self, A1.self, repeat (each A).self, results: core.configuration.codec.chunkCoder(for: R.self),
                                          Kernels.spread(body)))
    }

    /// `imap` over a sequence of tuples, each spread over the body's parameters, for a body that
    /// returns a tuple: `try pool.imap(rows) { y, n in (y, render(y, n)) }`.
    ///
    /// - Throws: as `imap`.
    public func imap<S: Sequence, A0: Codable & Sendable, A1: Codable & Sendable, each A: Codable & Sendable,
                     R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (A0, A1, repeat each A) throws -> (R0, R1, repeat each R)
    ) throws -> IMapIterator<(R0, R1, repeat each R)> where S.Element == (A0, A1, repeat each A) {
        try imap(source: makeItemSource(items), ordered: true, chunksize: chunksize, chunking: chunking, buffersize: buffersize,
                 pipeline: spreadPipeline(A0.self, A1.self, repeat (each A).self, results: tupleCoder(R0.self, R1.self, repeat (each R).self),
                                          Kernels.spread(body)))
    }

    /// `imapUnordered` over a sequence of tuples, each spread over the body's parameters, for a
    /// body that returns a tuple: Python's `imap_unordered(f, ((y, n) for y in ...))` where `f`
    /// returns `(y, row)` for the consumer to put each row in its place.
    ///
    /// - Throws: as `imap`.
    public func imapUnordered<S: Sequence, A0: Codable & Sendable, A1: Codable & Sendable, each A: Codable & Sendable,
                              R0: Codable & Sendable, R1: Codable & Sendable, each R: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (A0, A1, repeat each A) throws -> (R0, R1, repeat each R)
    ) throws -> IMapIterator<(R0, R1, repeat each R)> where S.Element == (A0, A1, repeat each A) {
        try imap(source: makeItemSource(items), ordered: false, chunksize: chunksize, chunking: chunking, buffersize: buffersize,
                 pipeline: spreadPipeline(A0.self, A1.self, repeat (each A).self, results: tupleCoder(R0.self, R1.self, repeat (each R).self),
                                          Kernels.spread(body)))
    }

    // MARK: Errors that name the fix

    /// Not available: tuples are not `Codable`, so `map` cannot take pairs. Use
    /// `starmap(pairs) { key, value in ... }`, which spreads each tuple over the body's parameters.
    @available(*, unavailable, message: "a tuple is not Codable, so map cannot take pairs: use `pool.starmap(pairs) { key, value in ... }`, which spreads each tuple over the body's parameters (for a lazy input, `pool.imap(pairs) { key, value in ... }`)")
    public func map<S: Sequence, K, V, R>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R
    ) throws -> [R] where S.Element == (K, V) {
        fatalError("unavailable")
    }

    /// Not available: a dictionary's `(key:, value:)` elements are tuples, which are not `Codable`.
    /// Use `starmap(dictionary.map { ($0.key, $0.value) }) { key, value in ... }`.
    @available(*, unavailable, message: "a dictionary's (key:, value:) elements are tuples, which are not Codable: use `pool.starmap(dictionary.map { ($0.key, $0.value) }) { key, value in ... }`")
    public func map<S: Sequence, K, V, R>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R
    ) throws -> [R] where S.Element == (key: K, value: V) {
        fatalError("unavailable")
    }

    /// Not available: a tuple is not `Codable`, so it cannot be `apply`'s argument. Wrap the values
    /// in a `Codable` struct, or spread them over the body's parameters with `starmap`.
    @available(*, unavailable, message: "a tuple is not Codable, so apply cannot take one: wrap the values in a Codable struct, or spread them over the body's parameters with `try pool.starmap([(a, b)]) { a, b in ... }[0]`")
    public func apply<A, B, R>(
        _ argument: (A, B),
        _ body: @escaping @Sendable ((A, B)) throws -> R
    ) throws -> R {
        fatalError("unavailable")
    }

    /// Not available: tuples are not `Codable`, so `mapAsync` cannot take pairs. Use
    /// `starmapAsync(pairs) { key, value in ... }`.
    @available(*, unavailable, message: "a tuple is not Codable, so mapAsync cannot take pairs: use `pool.starmapAsync(pairs) { key, value in ... }`, which spreads each tuple over the body's parameters")
    public func mapAsync<S: Sequence, K, V, R>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R,
        callback: (@Sendable ([R]) -> Void)? = nil,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<R> where S.Element == (K, V) {
        fatalError("unavailable")
    }

    /// Not available: a body with one parameter cannot take a tuple, which is not `Codable`.
    /// Give the body one parameter per element: `pool.imap(pairs) { key, value in ... }`.
    @available(*, unavailable, message: "a tuple is not Codable, so it cannot be one parameter: give the body one parameter per element, `pool.imap(pairs) { key, value in ... }`")
    public func imap<S: Sequence, K, V, R>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R
    ) throws -> IMapIterator<R> where S.Element == (K, V) {
        fatalError("unavailable")
    }

    /// Not available: a body with one parameter cannot take a tuple, which is not `Codable`.
    /// Give the body one parameter per element: `pool.imapUnordered(pairs) { key, value in ... }`.
    @available(*, unavailable, message: "a tuple is not Codable, so it cannot be one parameter: give the body one parameter per element, `pool.imapUnordered(pairs) { key, value in ... }`")
    public func imapUnordered<S: Sequence, K, V, R>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        buffersize: Int? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> R
    ) throws -> IMapIterator<R> where S.Element == (K, V) {
        fatalError("unavailable")
    }

    // MARK: Shared by the tuple forms

    /// The coder for chunks of result tuples: each element crosses the codec in order; nil for
    /// `.passthrough`.
    func tupleCoder<each R: Codable & Sendable>(_ types: repeat (each R).Type) -> ChunkCoder<(repeat each R)>? {
        core.configuration.codec.packCoder(for: repeat each types)
    }

    /// The pipeline for one argument per item and the given result coder.
    func unaryPipeline<T: Codable & Sendable, R>(_ argument: T.Type, results: ChunkCoder<R>?, _ kernel: @escaping Kernel<T, R>) -> ChunkPipeline<T, R> {
        let codec = core.configuration.codec
        return ChunkPipeline(arguments: codec.chunkCoder(for: T.self), results: results, kernel: kernel, codecName: codec.name)
    }

    /// The pipeline for tuples spread over the body's parameters and the given result coder.
    func spreadPipeline<each A: Codable & Sendable, R>(
        _ types: repeat (each A).Type, results: ChunkCoder<R>?, _ kernel: @escaping Kernel<(repeat each A), R>
    ) -> ChunkPipeline<(repeat each A), R> {
        let codec = core.configuration.codec
        return ChunkPipeline(arguments: codec.packCoder(for: repeat each types), results: results, kernel: kernel, codecName: codec.name)
    }
}

/// The `AsyncResult` of an `applyAsync` whose body returns a tuple: the task itself returns the
/// tuple in a `Codable` box (`source`), whose callbacks settle this result with the tuple and then
/// run the caller's callbacks. Cancelling this result cancels the task.
final class RelayResult<Value: Sendable, Source: Sendable>: AsyncResult<Value>, @unchecked Sendable {  // `source` is written once, before the result is handed to the caller
    /// The task's own result. Weak: the task holds this result (through its callbacks) until it is
    /// delivered, and a finished task has nothing left to cancel.
    weak var source: AsyncResult<Source>?

    override func cancelJob() { source?.cancel() }

    /// The task's callbacks, which settle this result and then queue `callbacks` on the pool's
    /// callback queue. They run on the thread that delivers the task (`runsInline`): the caller
    /// gave this result no callback, or one that runs later on the queue, so this result must not
    /// wait for the callback queue itself (a caller blocked on it, `callbackQueue: .main` and a
    /// `get()` on the main thread, would never see it ready).
    func sourceCallbacks<each R>(_ callbacks: Callbacks<Value>) -> Callbacks<PackRows<repeat each R>> where Value == (repeat each R) {
        Callbacks(onSuccess: relaySuccess(callbacks: callbacks), onFailure: relayFailure(callbacks: callbacks), runsInline: true)
    }

    /// The task's callback: settles this result with the unboxed value, then runs `callbacks`.
    func relaySuccess<each R>(callbacks: Callbacks<Value>) -> @Sendable (PackRows<repeat each R>) -> Void where Value == (repeat each R) {
        { [self] box in _ = core?.deliver(.success(box.rows[0]), to: self, callbacks: callbacks, job: nil) }
    }

    /// The task's error callback: settles this result with the error, then runs `callbacks`.
    func relayFailure(callbacks: Callbacks<Value>) -> @Sendable (any Error) -> Void {
        { [self] error in _ = core?.deliver(.failure(error), to: self, callbacks: callbacks, job: nil) }
    }
}
