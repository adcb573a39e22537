import XCTest
@testable import WorkerPool

final class SmokeTests: XCTestCase {
    func testSmoke() throws {
        let pool = try Pool(workers: 2)
        XCTAssertEqual(try pool.apply(21) { $0 * 2 }, 42)
        XCTAssertEqual(try pool.map(Array(0..<1000)) { $0 * 2 }, (0..<1000).map { $0 * 2 })
        XCTAssertEqual(try pool.map(0..<1000, chunksize: 7) { $0 * 2 }, (0..<1000).map { $0 * 2 })
        XCTAssertEqual(try pool.starmap([(1, "a"), (2, "b")]) { n, s in "\(n)\(s)" }, ["1a", "2b"])
        let it = try pool.imap(0..<100, chunksize: 3) { $0 + 1 }
        var got: [Int] = []
        while let x = try it.next() { got.append(x) }
        XCTAssertEqual(got, Array(1...100))
        let it2 = try pool.imapUnordered(0..<100) { $0 + 1 }
        var got2: [Int] = []
        while let x = try it2.next() { got2.append(x) }
        XCTAssertEqual(got2.sorted(), Array(1...100))
        pool.close()
        try pool.join()
        print(pool.statistics)
    }
}
