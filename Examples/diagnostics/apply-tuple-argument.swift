// `apply` with a tuple argument, as Python's `apply(f, (a, b))`.
// expect: is unavailable: a tuple is not Codable, so apply cannot take one
import WorkerPool

func area(_ pool: Pool) throws -> Int {
    try pool.apply((3, 4)) { size in size.0 * size.1 }
}
