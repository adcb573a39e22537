// Tuple-result forms with a callback, for tuples of fixed arity.
//
// The variadic forms in Pool+Tuples.swift take their callback as `((R0, R1, repeat each R)) -> Void`
// (or an array of those). Swift 6.3.1 handles a closure literal of that type badly:
// - with three or more elements it crashes the compiler (SILGen, signal 11) on any callback
//   literal of `applyAsync`;
// - with a single-expression body that hands an element to an `Any` parameter (`{ print($0.0) }`,
//   `{ print($0.count) }`), the call fails to type-check and the compiler blames the tuple:
//   "type '(Int, Int)' cannot conform to 'Decodable'".
// These overloads spell the callback's tuple type out, so the caller's closure literal has a
// concrete type. `callback:` has no default here: calls without one keep using the variadic forms.
// Beyond the arities below, give the callback a type first (docs/porting.md).

extension Pool {
    // MARK: applyAsync

    /// `applyAsync` for a body that returns two values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `applyAsync`.
    public func applyAsync<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1),
        callback: (@Sendable ((R0, R1)) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> AsyncResult<(R0, R1)> {
        try submitTupleApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: try core.reserve())
    }

    /// `applyAsync` for Swift concurrency for a body that returns two values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `applyAsync`.
    public func applyAsync<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1),
        callback: (@Sendable ((R0, R1)) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> AsyncResult<(R0, R1)> {
        try submitTupleApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: try await core.reserveSuspending())
    }

    /// `applyAsync` for a body that returns three values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `applyAsync`.
    public func applyAsync<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, R2: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, R2),
        callback: (@Sendable ((R0, R1, R2)) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> AsyncResult<(R0, R1, R2)> {
        try submitTupleApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: try core.reserve())
    }

    /// `applyAsync` for Swift concurrency for a body that returns three values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `applyAsync`.
    public func applyAsync<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, R2: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, R2),
        callback: (@Sendable ((R0, R1, R2)) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> AsyncResult<(R0, R1, R2)> {
        try submitTupleApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: try await core.reserveSuspending())
    }

    /// `applyAsync` for a body that returns four values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `applyAsync`.
    public func applyAsync<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, R2: Codable & Sendable, R3: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, R2, R3),
        callback: (@Sendable ((R0, R1, R2, R3)) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> AsyncResult<(R0, R1, R2, R3)> {
        try submitTupleApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: try core.reserve())
    }

    /// `applyAsync` for Swift concurrency for a body that returns four values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `applyAsync`.
    public func applyAsync<T: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, R2: Codable & Sendable, R3: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> (R0, R1, R2, R3),
        callback: (@Sendable ((R0, R1, R2, R3)) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> AsyncResult<(R0, R1, R2, R3)> {
        try submitTupleApply(argument, body, Callbacks(onSuccess: callback, onFailure: errorCallback), reserved: try await core.reserveSuspending())
    }

    // MARK: mapAsync

    /// `mapAsync` for a body that returns two values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `mapAsync`.
    public func mapAsync<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1),
        callback: (@Sendable ([(R0, R1)]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<(R0, R1)> where S.Element: Codable & Sendable {
        try submitTupleMap(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `mapAsync` for Swift concurrency for a body that returns two values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `mapAsync`.
    public func mapAsync<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1),
        callback: (@Sendable ([(R0, R1)]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> MapResult<(R0, R1)> where S.Element: Codable & Sendable {
        try await submitTupleMapSuspending(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `mapAsync` for a body that returns three values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `mapAsync`.
    public func mapAsync<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, R2: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, R2),
        callback: (@Sendable ([(R0, R1, R2)]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<(R0, R1, R2)> where S.Element: Codable & Sendable {
        try submitTupleMap(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `mapAsync` for Swift concurrency for a body that returns three values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `mapAsync`.
    public func mapAsync<S: Sequence, R0: Codable & Sendable, R1: Codable & Sendable, R2: Codable & Sendable>(
        _ items: sending S,
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (S.Element) throws -> (R0, R1, R2),
        callback: (@Sendable ([(R0, R1, R2)]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> MapResult<(R0, R1, R2)> where S.Element: Codable & Sendable {
        try await submitTupleMapSuspending(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    // MARK: starmapAsync

    /// `starmapAsync` for a body that returns two values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `mapAsync`.
    public func starmapAsync<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1),
        callback: (@Sendable ([(R0, R1)]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<(R0, R1)> {
        try submitTupleStarmap(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `starmapAsync` for Swift concurrency for a body that returns two values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `mapAsync`.
    public func starmapAsync<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1),
        callback: (@Sendable ([(R0, R1)]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> MapResult<(R0, R1)> {
        try await submitTupleStarmapSuspending(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `starmapAsync` for a body that returns three values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `mapAsync`.
    public func starmapAsync<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, R2: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1, R2),
        callback: (@Sendable ([(R0, R1, R2)]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) throws -> MapResult<(R0, R1, R2)> {
        try submitTupleStarmap(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }

    /// `starmapAsync` for Swift concurrency for a body that returns three values, with callbacks (see the variadic form).
    ///
    /// - Throws: as `mapAsync`.
    public func starmapAsync<each A: Codable & Sendable, R0: Codable & Sendable, R1: Codable & Sendable, R2: Codable & Sendable>(
        _ items: [(repeat each A)],
        chunksize: Int? = nil,
        chunking: ChunkingStrategy? = nil,
        _ body: @escaping @Sendable (repeat each A) throws -> (R0, R1, R2),
        callback: (@Sendable ([(R0, R1, R2)]) -> Void)?,
        errorCallback: (@Sendable (any Error) -> Void)? = nil
    ) async throws -> MapResult<(R0, R1, R2)> {
        try await submitTupleStarmapSuspending(items, chunksize, chunking, body, Callbacks(onSuccess: callback, onFailure: errorCallback))
    }
}
