/// What one chunk became: `produced` results written compactly at the destination (input order,
/// skipping failed positions), the failures by position, and how many items never ran.
@usableFromInline
struct ChunkOutcome {
    @usableFromInline var produced: Int
    @usableFromInline var failures: [ItemFailure]
    @usableFromInline let count: Int

    @inlinable
    init(produced: Int, failures: [ItemFailure], count: Int) {
        self.produced = produced
        self.failures = failures
        self.count = count
    }

    /// Items that never ran (after a failure in stop-at-first-error mode, or an argument that could
    /// not cross the codec).
    @inlinable
    var skipped: Int { count - produced - failures.count }
}

/// A chunk's arguments on their way to a worker: values to be encoded now (a chunk cut from the
/// input), or bytes encoded when the task was queued (`apply`).
@usableFromInline
enum ChunkInput<T> {
    case values(UnsafeBufferPointer<T>)
    case encoded(EncodedChunk, count: Int)

    @inlinable
    var count: Int {
        switch self {
        case .values(let values): return values.count
        case .encoded(_, let count): return count
        }
    }
}

/// Calls `body` with a one-element buffer holding a copy of `value`. The buffer has the type's
/// full stride (unlike `withUnsafePointer(to:)`, whose temporary may be only `size` bytes, so a
/// coder that copies a whole element would read past it: `UInt64?` is 9 bytes with a stride of 16).
@inlinable
func withSingleElementBuffer<T, Result>(_ value: T, _ body: (UnsafeBufferPointer<T>) throws -> Result) rethrows -> Result {
    try withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer in
        buffer.baseAddress!.initialize(to: value)
        defer { buffer.baseAddress!.deinitialize(count: 1) }
        return try body(UnsafeBufferPointer(buffer))
    }
}

/// The path of one chunk through a worker: arguments cross the codec, the kernel runs, results
/// cross the codec into their destination. Built once per job (per task for `apply`).
@usableFromInline
struct ChunkPipeline<T, R>: Sendable {
    @usableFromInline let arguments: ChunkCoder<T>?
    @usableFromInline let results: ChunkCoder<R>?
    @usableFromInline let kernel: Kernel<T, R>
    @usableFromInline let codecName: String

    @inlinable
    init(arguments: ChunkCoder<T>?, results: ChunkCoder<R>?, kernel: @escaping Kernel<T, R>, codecName: String) {
        self.arguments = arguments
        self.results = results
        self.kernel = kernel
        self.codecName = codecName
    }

    /// Runs one chunk, writing results at `destination` (room for `input.count`).
    ///
    /// An argument that cannot cross the codec fails the chunk; when `stopAtFirstError` is false
    /// (imap) the chunk is then re-run item by item so only the items whose argument failed get
    /// `.encodingFailed`. A result that cannot cross fails only its own item (the bodies never run
    /// twice), in both modes, so that the failures are exact: the lowest position's error is the
    /// job's, and the items whose bodies ran are never counted as never run.
    @inlinable
    func run(_ input: ChunkInput<T>, stopAtFirstError: Bool, into destination: UnsafeMutablePointer<R>) -> ChunkOutcome {
        let count = input.count
        guard count > 0 else { return ChunkOutcome(produced: 0, failures: [], count: 0) }
        switch (input, arguments) {
        case (.values(let values), nil):
            return runBodies(values, stopAtFirstError: stopAtFirstError, into: destination)
        case (.encoded, nil):
            preconditionFailure("encoded arguments without an argument codec")
        case (_, let coder?):
            return withUnsafeTemporaryAllocation(of: T.self, capacity: count) { buffer in
                runDecoded(input, coder, into: buffer.baseAddress!, stopAtFirstError: stopAtFirstError, destination: destination)
            }
        }
    }

    /// `run` once the arguments need a codec: `decoded` is scratch room for `input.count` values.
    @inlinable
    func runDecoded(_ input: ChunkInput<T>, _ coder: ChunkCoder<T>, into decoded: UnsafeMutablePointer<T>,
                    stopAtFirstError: Bool, destination: UnsafeMutablePointer<R>) -> ChunkOutcome {
        let count = input.count
        do {
            let bytes: EncodedChunk
            switch input {
            case .values(let values):
                do { bytes = try coder.encode(values) } catch { throw failure("encode", "argument", T.self, error) }
            case .encoded(let encoded, _):
                bytes = encoded
            }
            do { try coder.decode(bytes, count, decoded) } catch { throw failure("decode", "argument", T.self, error) }
        } catch {
            if !stopAtFirstError, count > 1, case .values(let values) = input {
                return runItemByItem(values, into: destination)
            }
            return ChunkOutcome(produced: 0, failures: [ItemFailure(index: 0, error: error)], count: count)
        }
        defer { decoded.deinitialize(count: count) }
        return runBodies(UnsafeBufferPointer(start: decoded, count: count), stopAtFirstError: stopAtFirstError, into: destination)
    }

    @inlinable
    func runItemByItem(_ values: UnsafeBufferPointer<T>, into destination: UnsafeMutablePointer<R>) -> ChunkOutcome {
        var outcome = ChunkOutcome(produced: 0, failures: [], count: values.count)
        for index in 0..<values.count {
            let single = UnsafeBufferPointer(rebasing: values[index..<index + 1])
            let one = run(.values(single), stopAtFirstError: true, into: destination + outcome.produced)
            outcome.produced += one.produced
            outcome.failures += one.failures.map { ItemFailure(index: index, error: $0.error) }
        }
        return outcome
    }

    @inlinable
    func runBodies(_ arguments: UnsafeBufferPointer<T>, stopAtFirstError: Bool, into destination: UnsafeMutablePointer<R>) -> ChunkOutcome {
        let count = arguments.count
        var failures: [ItemFailure] = []
        guard let coder = results else {
            let produced = kernel(arguments, destination, stopAtFirstError, &failures)
            return ChunkOutcome(produced: produced, failures: failures, count: count)
        }
        return withUnsafeTemporaryAllocation(of: R.self, capacity: count) { buffer in
            runBodies(arguments, coder, raw: buffer.baseAddress!, stopAtFirstError: stopAtFirstError, into: destination)
        }
    }

    /// `runBodies` once the results need a codec: `raw` is scratch room for the bodies' results.
    @inlinable
    func runBodies(_ arguments: UnsafeBufferPointer<T>, _ coder: ChunkCoder<R>, raw: UnsafeMutablePointer<R>,
                   stopAtFirstError: Bool, into destination: UnsafeMutablePointer<R>) -> ChunkOutcome {
        let count = arguments.count
        var failures: [ItemFailure] = []
        let produced = kernel(arguments, raw, stopAtFirstError, &failures)
        defer { raw.deinitialize(count: produced) }
        do {
            try crossResults(coder, UnsafeBufferPointer(start: raw, count: produced), into: destination)
            return ChunkOutcome(produced: produced, failures: failures, count: count)
        } catch {
            // Some result cannot cross: cross each alone below, so that only the items whose result
            // fails are lost and each failure sits at its own position.
        }
        let ran = produced + failures.count
        let bodyFailures = Set(failures.map(\.index))
        var outcome = ChunkOutcome(produced: 0, failures: failures, count: count)
        var next = 0
        for index in 0..<ran where !bodyFailures.contains(index) {
            do {
                try crossResults(coder, UnsafeBufferPointer(start: raw + next, count: 1), into: destination + outcome.produced)
                outcome.produced += 1
            } catch {
                outcome.failures.append(ItemFailure(index: index, error: error))
            }
            next += 1
        }
        outcome.failures.sort { $0.index < $1.index }
        return outcome
    }

    @inlinable
    func crossResults(_ coder: ChunkCoder<R>, _ values: UnsafeBufferPointer<R>, into destination: UnsafeMutablePointer<R>) throws {
        guard values.count > 0 else { return }
        let bytes: EncodedChunk
        do { bytes = try coder.encode(values) } catch { throw failure("encode", "result", R.self, error) }
        do { try coder.decode(bytes, values.count, destination) } catch { throw failure("decode", "result", R.self, error) }
    }

    @inlinable
    func failure(_ step: String, _ side: String, _ type: Any.Type, _ error: any Error) -> PoolError {
        encodingFailure(step: step, side: side, type: type, error)
    }

    /// The `.encodingFailed` error for a value that could not cross the codec: it names the step
    /// (encode or decode), the side (argument or result), the type and the codec's own error, which
    /// stays reachable through `PoolError.underlyingError`.
    @usableFromInline
    func encodingFailure(step: String, side: String, type: Any.Type, _ error: any Error) -> PoolError {
        PoolError.encodingFailure("could not \(step) the \(side) of type \(type) with the \(codecName) codec: \(error)", underlying: error)
    }
}
