/// The errors that the pool itself raises. A body's own error is never wrapped in one of these:
/// `get()`, `map` and `next()` rethrow it as the body threw it.
public enum PoolError: Error, Equatable, Sendable {
    /// A submission to a pool that is closed or terminated (a broken pool answers `.broken`); also
    /// a submitter still waiting for room in a bounded pool when `close()` or `terminate()` comes,
    /// and an imap with `buffersize` that `close()` cut short, after the items it read.
    /// Python: `ValueError("Pool not running")`.
    case notRunning
    /// `join()` was called before `close()` or `terminate()`. Python: `ValueError("Pool is still running")`.
    case stillRunning
    /// `get(timeout:)`, `next(timeout:)`, `Channel.send(_:timeout:)` or `Channel.receive(timeout:)`
    /// ran out of time (`wait(timeout:)` returns `false` instead). The object stays usable.
    /// Python: `multiprocessing.TimeoutError`.
    case timeout
    /// `isSuccessful` was asked before the result was ready. Python: `ValueError` from `successful()`.
    case notReady
    /// The pool was terminated before this result was ready.
    case terminated
    /// An initializer threw; the text names the worker and the error. Every pending and later
    /// submission fails with it.
    case broken(String)
    /// An argument was out of range (the text names the argument and the value), a collection's
    /// iteration ended before its `count`, or `join()` was called from one of the pool's own
    /// workers or callbacks, or on the queue its callbacks target.
    case invalidArgument(String)
    /// An argument or a result could not be encoded or decoded by the pool's codec; the text says
    /// which side, which type and why (`underlyingError` gives the codec's own error). Only the job
    /// that owns the value fails. Python: `MaybeEncodingError`.
    case encodingFailed(String)
}

extension PoolError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notRunning: return "PoolError.notRunning: the pool is not running (closed or terminated)"
        case .stillRunning: return "PoolError.stillRunning: join() needs close() or terminate() first"
        case .timeout: return "PoolError.timeout: no result within the timeout"
        case .notReady: return "PoolError.notReady: the result is not ready yet"
        case .terminated: return "PoolError.terminated: the pool was terminated before the result was ready"
        case .broken(let reason): return "PoolError.broken: \(reason)"
        case .invalidArgument(let message): return "PoolError.invalidArgument: \(message)"
        case .encodingFailed(let message): return "PoolError.encodingFailed: \(message)"
        }
    }
}

extension PoolError {
    /// Builds `.invalidArgument` for `name` unless `value` is at least `minimum`.
    static func require(_ name: String, _ value: Int?, atLeast minimum: Int) throws {
        if let value, value < minimum {
            throw PoolError.invalidArgument("\(name) must be at least \(minimum), got \(value)")
        }
    }
}

extension PoolError {
    /// For `.encodingFailed`, the codec's own error, whole: an `EncodingError` or `DecodingError`
    /// with its coding path and context, or what a custom coder threw. The case's text names it;
    /// this keeps the value, for code that inspects it. Nil for the other cases.
    ///
    /// `PoolError` is `Equatable` and its cases carry text only, so the pool keeps the most recent
    /// underlying errors (up to 1,024) in a table keyed by the failure's text: an error whose text
    /// repeats an earlier failure's gives the most recent value with that text.
    public var underlyingError: (any Error)? {
        guard case .encodingFailed(let message) = self else { return nil }
        return UnderlyingErrors.table.withLockedValue { $0.errors[message]?.error }
    }

    /// Makes `.encodingFailed(message)` and records `underlying` for `underlyingError`.
    @usableFromInline
    static func encodingFailure(_ message: String, underlying: any Error) -> PoolError {
        UnderlyingErrors.table.withLockedValue { $0.record(underlying, for: message) }
        return .encodingFailed(message)
    }
}

/// The table behind `PoolError.underlyingError`: bounded, oldest entries go first.
enum UnderlyingErrors {
    struct Table {
        static let capacity = 1024
        var errors: [String: (error: any Error, serial: Int)] = [:]
        var order = RingBuffer<(message: String, serial: Int)>()
        var serial = 0

        mutating func record(_ error: any Error, for message: String) {
            serial += 1
            errors[message] = (error, serial)
            order.append((message, serial))
            while order.count > Table.capacity, let oldest = order.popFirst() {
                // Only the entry that is still the oldest recording of its text goes.
                if errors[oldest.message]?.serial == oldest.serial { errors[oldest.message] = nil }
            }
        }
    }

    static let table = LockedBox.make(Table())
}
