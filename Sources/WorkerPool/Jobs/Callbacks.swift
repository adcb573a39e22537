/// A job's optional callbacks (Python's `callback` and `error_callback`).
@usableFromInline
struct Callbacks<Value: Sendable>: Sendable {
    @usableFromInline let onSuccess: (@Sendable (Value) -> Void)?
    @usableFromInline let onFailure: (@Sendable (any Error) -> Void)?

    @inlinable
    init(onSuccess: (@Sendable (Value) -> Void)?, onFailure: (@Sendable (any Error) -> Void)?) {
        self.onSuccess = onSuccess
        self.onFailure = onFailure
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
