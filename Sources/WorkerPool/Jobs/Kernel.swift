/// A body's failure at one position of a chunk.
@usableFromInline
struct ItemFailure: @unchecked Sendable {  // immutable; the error crosses threads as CPython's exceptions cross processes
    @usableFromInline let index: Int
    @usableFromInline let error: any Error

    @inlinable
    init(index: Int, error: any Error) {
        self.index = index
        self.error = error
    }
}

/// Runs a body over one chunk of arguments. Results of the items that succeed are written
/// compactly from `out`, in input order; each failure is appended to `failures` with its position.
/// With `stopAtFirstError` (map, starmap: CPython's `mapstar` stops at the first exception) the
/// loop ends at the first failure. Returns the number of results written.
@usableFromInline
typealias Kernel<T, R> = @Sendable (
    _ arguments: UnsafeBufferPointer<T>,
    _ out: UnsafeMutablePointer<R>,
    _ stopAtFirstError: Bool,
    _ failures: inout [ItemFailure]
) -> Int

/// The kernels of the pool's calls.
///
/// Kernels are made in `@inlinable` entry points, so the compiler specializes the per-item loop
/// for the caller's concrete types: no generic value-witness calls and no reabstraction thunks
/// per item, which would otherwise cost more than a cheap body itself.
@usableFromInline
enum Kernels {
    /// The kernel of `apply`, `map` and `imap`: one argument per item.
    @inlinable
    static func unary<T, R>(_ body: @escaping @Sendable (T) throws -> R) -> Kernel<T, R> {
        return { arguments, out, stopAtFirstError, failures in
            var produced = 0
            for index in 0..<arguments.count {
                do {
                    (out + produced).initialize(to: try body(arguments[index]))
                    produced += 1
                } catch {
                    failures.append(ItemFailure(index: index, error: error))
                    if stopAtFirstError { break }
                }
            }
            return produced
        }
    }

    /// The kernel of `starmap`: each item is a tuple spread over the body's parameters.
    @inlinable
    static func spread<each A, R>(_ body: @escaping @Sendable (repeat each A) throws -> R) -> Kernel<(repeat each A), R> {
        return { arguments, out, stopAtFirstError, failures in
            var produced = 0
            for index in 0..<arguments.count {
                do {
                    // Binding the tuple first: spreading `arguments[index]` directly crashes Swift 6.3.
                    let row = arguments[index]
                    (out + produced).initialize(to: try body(repeat each row))
                    produced += 1
                } catch {
                    failures.append(ItemFailure(index: index, error: error))
                    if stopAtFirstError { break }
                }
            }
            return produced
        }
    }
}

