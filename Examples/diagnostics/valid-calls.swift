// Calls that must keep compiling, unambiguously and quickly, next to the tuple forms and the
// unavailable overloads: every one-value form, every tuple form, and the calls the
// unavailable overloads must not capture.
// expect-no-errors
import WorkerPool

struct Point: Codable, Sendable { var x: Int; var y: Int }

func valid(_ pool: Pool) async throws {
    let words = ["a", "b"]
    let pairs = [("a", 1), ("b", 2)]
    let a: [Int] = try await pool.map(words) { $0.count }
    let b = try await pool.map(words) { ($0, 1) }
    let c = try await pool.map(words, chunksize: 1) { word in
        let upper = word.uppercased()
        return (upper, upper.count, [upper])
    }
    let d = try await pool.starmap(pairs) { word, count in word.count + count }
    let e = try await pool.starmap(pairs) { word, count in (count, word) }
    let f = try pool.imap(pairs) { word, count in word.count * count }
    let g = try pool.imapUnordered(pairs.lazy.map { ($0.0, $0.1, 2.0) }) { word, count, scale in (word, Double(count) * scale) }
    let h = try pool.imap(words) { ($0, $0.count) }
    let i = try await pool.apply(Point(x: 1, y: 2)) { ($0.x, $0.y) }
    let j = try await pool.apply(3) { $0 * 2 }
    let k = try await pool.applyAsync(3) { ($0, $0) }.value
    let l = try await pool.mapAsync(1...10) { [$0] }.value
    let m = try await pool.starmapAsync([(1, 2, 3)]) { x, y, z in x + y + z }.value
    let n = try pool.imap(0..<10, chunksize: 2, buffersize: 4) { Point(x: $0, y: $0) }
    // Three- and four-element results with callback literals (these crashed the compiler before
    // the fixed-arity overloads), and without callbacks (the variadic form, unambiguously).
    let o = try await pool.applyAsync(3) { ($0, $0, $0) } callback: { _ in }
    let p = try await pool.applyAsync(3) { ($0, "x", 0.5, [$0]) } callback: { a, b, c, d in _ = (a, b, c, d) }
    let q = try await pool.applyAsync(3) { ($0, $0, $0) }.value
    // Callback literals that hand a tuple element to an `Any` parameter (`print`): these failed to
    // type-check ("cannot conform to 'Decodable'") before the fixed-arity overloads.
    let r = try await pool.applyAsync(3) { ($0, 1) } callback: { print($0.0) }
    let s = try await pool.mapAsync(words) { ($0, 1) } callback: { print($0.count) }
    let t = try await pool.mapAsync(words) { ($0, 1, 2.5) } callback: { rows in print(rows.count) }
    let u = try await pool.starmapAsync(pairs) { w, c in (w, c) } callback: { print($0) }
    let v = try await pool.starmapAsync(pairs) { w, c in (w, c, [c]) } callback: { print($0.first?.2 ?? []) }
    _ = (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v)
}

func validBlocking(_ pool: Pool) throws {
    let a = try pool.applyAsync(3) { ($0, String($0), $0 * 2) } callback: { print($0.1) }
    let b = try pool.applyAsync(3) { ($0, $0, $0, $0) } callback: { _ in } errorCallback: { print($0) }
    let c = try pool.applyAsync(3) { ($0, $0, $0, $0, $0) }
    // Five elements and a callback: the typed constant that docs/porting.md shows.
    let done: @Sendable ((Int, Int, Int, Int, Int)) -> Void = { print($0) }
    let d = try pool.applyAsync(3, { ($0, $0, $0, $0, $0) }, callback: done)
    let e = try pool.applyAsync(3) { ($0, 1) } callback: { print($0.0) }
    let f = try pool.mapAsync(["a"]) { ($0, 1) } callback: { print($0.count) } errorCallback: { print($0) }
    let g = try pool.starmapAsync([(1, 2)]) { x, y in (x, y, x + y) } callback: { print($0.count) }
    let h = try pool.mapAsync(["a"], chunksize: 1) { ($0, 1) }
    _ = (a, b, c, d, e, f, g, h)
}
