/// The same size every time (`.fixed`, `.cpython`).
public struct FixedChunkSizer: ChunkSizer {
    /// Items per chunk (at least 1).
    public let size: Int
    /// Chunks of `size` items; a size below 1 is taken as 1.
    public init(size: Int) { self.size = max(size, 1) }
    public mutating func nextChunkSize(remaining: Int?) -> Int { size }
}

/// `ceil(dividend / divisor)` for a non-negative dividend and a positive divisor, without the
/// overflow of `(dividend + divisor - 1) / divisor` near `Int.max`.
func ceilDivide(_ dividend: Int, _ divisor: Int) -> Int {
    dividend / divisor + (dividend % divisor == 0 ? 0 : 1)
}

/// `a * b`, or `Int.max` when that overflows (both non-negative).
func saturatingMultiply(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? .max : product
}
