// A body returning an array of tuples, Python's `[(word, 1), ...]`: a tuple is a fine result, an
// array of them is not Codable. The compiler's own message; docs/porting.md quotes it.
// expect: error: type '(String, Int)' cannot conform to 'Decodable'
// expect: note: only concrete types such as structs, enums and classes can conform to protocols
// expect: note: requirement from conditional conformance of '[(String, Int)]' to 'Decodable'
import WorkerPool

func fileToWords(_ pool: Pool, _ files: [String]) throws {
    _ = try pool.map(files, chunksize: 1) { file in [(file, 1)] }
}
