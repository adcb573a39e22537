// A generic helper passing a (Key, Value) tuple where one Codable value is expected.
// expect: error: type '(Key, Value)' cannot conform to 'Decodable'
// expect: note: only concrete types such as structs, enums and classes can conform to protocols
import WorkerPool

func size<Key: Codable & Sendable, Value: Codable & Sendable>(_ pool: Pool, _ pair: (Key, Value)) throws -> AsyncResult<Int> {
    try pool.applyAsync(pair) { _ in 1 }
}
