// `map` over (key, value) pairs: the error names `starmap`.
// expect: is unavailable: a tuple is not Codable, so map cannot take pairs: use `pool.starmap(pairs) { key, value in ... }`
import WorkerPool

func totals(_ pool: Pool, _ pairs: [(String, [Int])]) throws -> [Int] {
    try pool.map(pairs) { pair in pair.1.reduce(0, +) }
}
