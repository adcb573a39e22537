// `map` over a dictionary: its elements are (key:, value:) tuples.
// expect: is unavailable: a dictionary's (key:, value:) elements are tuples, which are not Codable
import WorkerPool

func totals(_ pool: Pool, _ counts: [String: [Int]]) throws -> [Int] {
    try pool.map(counts) { entry in entry.value.reduce(0, +) }
}
