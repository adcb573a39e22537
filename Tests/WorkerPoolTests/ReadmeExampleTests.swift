import XCTest
import WorkerPool

/// The README's examples, compiled and run, so the front page cannot drift from the API.
final class ReadmeExampleTests: PoolTestCase {
    func testBlockingExample() throws {
        var printed: [String] = []
        func print(_ items: Any...) { printed.append(items.map { "\($0)" }.joined(separator: " ")) }

        let pool = try Pool(workers: 4)                              // codec: .binary, chunking: .cpython
        let squares = try pool.map(Array(1...100_000)) { $0 * $0 }   // chunked; results in input order
        let result = try pool.applyAsync(squares) { $0.reduce(0, +) } callback: { _ in }
        print(try result.get(timeout: .seconds(10)))                 // the callback has run by now
        let words = try pool.imap(["a", "b", "c"]) { $0.uppercased() }
        while let word = try words.next() { print(word) }            // lazily read, in order
        let counts = try pool.starmap([("a", 1), ("b", 2)]) { s, n in (s, n * 10) }  // tuples in and out
        pool.close()                                                 // queued work still runs
        try pool.join()                                              // every worker thread has exited

        XCTAssertEqual(printed, ["\((1...100_000).reduce(0) { $0 + $1 * $1 })", "A", "B", "C"])
        XCTAssertEqual(counts.map(\.0), ["a", "b"])
        XCTAssertEqual(counts.map(\.1), [10, 20])
    }

    func testAsyncExample() async throws {
        let total = try await withPool(workers: 4) { pool in
            try await pool.map(Array(1...100_000)) { $0 * $0 }.reduce(0, +)
        }
        XCTAssertEqual(total, (1...100_000).reduce(0) { $0 + $1 * $1 })
    }
}
