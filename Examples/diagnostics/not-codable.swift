// An argument type that is not Codable.
// expect: error: instance method 'map(_:chunksize:chunking:_:)' requires that 'Row' conform to 'Decodable'
import WorkerPool

struct Row: Sendable { var y: Int }

func tally(_ pool: Pool, _ rows: [Row]) throws -> [Int] {
    try pool.map(rows) { $0.y }
}
