/// Builds an array of exactly `count` elements that `fill` initializes in place.
///
/// A wrapper around `Array(unsafeUninitializedCapacity:initializingWith:)` that
/// returns `[]` without calling it when `count` is zero. With a capacity of zero
/// the standard library writes the new count into the process-wide empty-array
/// singleton (`_swiftEmptyArrayStorage`); two worker threads doing that at the
/// same moment is a race ThreadSanitizer reports (harmless, both write 0, but
/// the suite must stay TSan-clean, and so must users' suites).
///
/// `fill` receives the first of `count` uninitialized elements and must
/// initialize all of them unless it throws; when it throws, the array is
/// discarded with no element counted as initialized, so callers only let it
/// throw before initializing anything or for trivial element types.
/// Runs on the calling thread.
@inline(__always)
func makeArray<Element>(
    count: Int,
    initializingWith fill: (UnsafeMutablePointer<Element>) throws -> Void
) rethrows -> [Element] {
    guard count > 0 else { return [] }
    return try [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
        // A buffer of capacity > 0 always has a base address.
        try fill(buffer.baseAddress!)
        initialized = count
    }
}
