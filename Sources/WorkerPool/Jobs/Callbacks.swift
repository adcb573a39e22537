/// A job's optional callbacks (Python's `callback` and `error_callback`).
@usableFromInline
struct Callbacks<Value: Sendable>: Sendable {
    @usableFromInline let onSuccess: (@Sendable (Value) -> Void)?
    @usableFromInline let onFailure: (@Sendable (any Error) -> Void)?
    /// Whether the callbacks run on the delivering thread instead of the pool's callback queue:
    /// only for the library's own short, non-blocking callbacks (the relay of a tuple
    /// `applyAsync`, which must not wait for a callback queue its caller may be blocking).
    @usableFromInline let runsInline: Bool

    @inlinable
    init(onSuccess: (@Sendable (Value) -> Void)?, onFailure: (@Sendable (any Error) -> Void)?, runsInline: Bool = false) {
        self.onSuccess = onSuccess
        self.onFailure = onFailure
        self.runsInline = runsInline
    }

    @inlinable
    var isEmpty: Bool { onSuccess == nil && onFailure == nil }

    /// Runs the callback that matches `outcome` (on the pool's callback queue).
    @inlinable
    func run(_ outcome: Result<Value, any Error>) {
        switch outcome {
        case .success(let value): onSuccess?(value)
        case .failure(let error): onFailure?(error)
        }
    }
}
