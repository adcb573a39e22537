import Foundation
import WorkerPool

/// The codecs by their command-line names.
enum Codecs {
    static let names = ["binary", "json", "passthrough", "plist", "all"]

    static func named(_ name: String) -> [TaskCodec] {
        switch name {
        case "json": return [.json]
        case "passthrough": return [.passthrough]
        case "plist": return [.custom(PropertyListTaskCoder())]
        case "all": return [.binary, .json, .custom(PropertyListTaskCoder()), .passthrough]
        default: return [.binary]
        }
    }

    /// The coders `pool-bench codec` times for a `--codec` name (`passthrough` has nothing to time).
    static func coders(named name: String) -> [(String, any TaskCoder)] {
        let all: [(String, String, any TaskCoder)] = [
            ("binary", "binary (WorkerPool)", BinaryTaskCoder()),
            ("json", "JSON (Foundation)", JSONTaskCoder()),
            ("plist", "binary property list (Foundation)", PropertyListTaskCoder()),
        ]
        return all.filter { name == "all" || $0.0 == name }.map { ($0.1, $0.2) }
    }
}

/// The record of the codec benchmark: `{id: Int, name: String, score: Double}`.
struct BenchRecord: Codable, Sendable, Equatable {
    var id: Int
    var name: String
    var score: Double

    /// The `i`th record; `pool_peer.py` builds the same ones as dicts.
    init(_ i: Int) {
        id = i
        name = "name-\(i)"
        score = Double(i) * 0.5
    }
}

/// A record with a list, a nested record and an optional: `pool_peer.py`'s twin is a dict holding a
/// list and a dict, and `None` where the note is nil.
struct BenchNestedRecord: Codable, Sendable, Equatable {
    struct Point: Codable, Sendable, Equatable {
        var x: Double
        var y: Double
    }

    var id: Int
    var name: String
    var tags: [String]
    var point: Point
    var note: String?

    init(_ i: Int) {
        id = i
        name = "name-\(i)"
        tags = (0..<(i % 4)).map { "tag-\((i + $0) % 10)" }
        point = Point(x: Double(i) * 0.25, y: Double(i) * -0.5)
        note = i % 2 == 0 ? "note \(i)" : nil
    }
}

/// What a word count's map step returns: `pool_peer.py`'s twin is a `(str, int)` tuple.
struct BenchWordCount: Codable, Sendable, Equatable {
    var word: String
    var count: Int

    /// Words of 2 to 8 letters (5 on average) made of syllables, counts from 1 to 100.
    init(_ i: Int) {
        let syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "so", "vi"]
        word = (0..<(1 + i % 4)).map { syllables[(i >> (3 * $0)) & 7] }.joined()
        count = 1 + (i * 7) % 100
    }
}

/// `pool-bench codec`: the round trip (encode, then decode) of chunks of Ints and of three record
/// shapes through each codec, the work a pool does per chunk and direction, next to CPython's pickle.
struct CodecBench {
    let ints: Int
    let records: Int
    let workers: Int
    let repeats: Int
    /// `--codec`: which coders to time (`all`, or one name).
    var codec = "all"
    let python: PythonPeer?

    func run(into report: Report) throws {
        let intSection = "round trip of \(ints) Ints in heuristic chunks (encode + decode), per Int"
        let recordSection = "round trip of \(records) records {id: Int, name: String, score: Double} in heuristic chunks, per record"
        let nestedSection = "round trip of \(records) nested records {id: Int, name: String, tags: [String], point: {x: Double, y: Double}, note: String?}, per record"
        let pairSection = "round trip of \(records) pairs {word: String, count: Int} in heuristic chunks, per pair"
        let intChunks = chunked(Array(0..<ints))
        let recordChunks = chunked((0..<records).map(BenchRecord.init))
        let nestedChunks = chunked((0..<records).map(BenchNestedRecord.init))
        let pairChunks = chunked((0..<records).map(BenchWordCount.init))

        var recordRoundTrip: Measurement?
        for (name, coder) in Codecs.coders(named: codec) {
            report.status("codec: \(name)")
            report.add(try measurement(intSection, name, intChunks, coder, roundTripInts))
            let records = try measurement(recordSection, name, recordChunks, coder, roundTripRecords)
            if coder is BinaryTaskCoder { recordRoundTrip = records }
            report.add(records)
            report.add(try measurement(nestedSection, name, nestedChunks, coder, roundTripNestedRecords))
            report.add(try measurement(pairSection, name, pairChunks, coder, roundTripPairs))
        }
        if let recordRoundTrip { try mapRecords(into: report, roundTrip: recordRoundTrip) }
        report.addPython(python, section: intSection,
                         sections: ["ints": intSection, "records": recordSection, "nested": nestedSection, "pairs": pairSection],
                         ["codec", "--ints", "\(ints)", "--records", "\(records)", "--workers", "\(workers)", "--repeat", "\(repeats)"])
    }

    /// `map` over the records through a pool with the default (binary) codec and with
    /// `.passthrough`: what the pool adds on top of the codec. Two bodies: one returns an `Int`
    /// (the records cross once, as arguments; an `Int` result crosses as a bulk copy), one returns
    /// the record (the records cross twice). The notes compare each binary map with as many binary
    /// round trips (timed above, on one thread) plus the same passthrough map.
    private func mapRecords(into report: Report, roundTrip: Measurement) throws {
        let section = "map of \(records) records through a pool, \(workers) workers, per record"
        let input = (0..<records).map(BenchRecord.init)
        let roundTripPerRecord = roundTrip.timing.median / Double(max(roundTrip.items, 1))
        try mapRecords(input, section, "body returns an Int", crossings: 1, roundTripPerRecord, into: report) { $0.id &+ $0.name.utf8.count }
        try mapRecords(input, section, "body returns the record", crossings: 2, roundTripPerRecord, into: report) { $0 }
    }

    private func mapRecords<R: Codable & Sendable & Equatable>(
        _ input: [BenchRecord], _ section: String, _ shape: String, crossings: Int, _ roundTripPerRecord: Double,
        into report: Report, _ body: @escaping @Sendable (BenchRecord) -> R
    ) throws {
        let expected = input.map(body)
        var medians: [Double] = []
        for (codecName, codec) in [("binary", TaskCodec.binary), ("passthrough", TaskCodec.passthrough)] {
            let name = "WorkerPool map (\(codecName)), \(shape)"
            report.status("codec: \(name)")
            let pool = try Pool(workers: workers, codec: codec)
            defer {
                pool.close()
                try? pool.join()
            }
            guard try pool.map(input, body) == expected else { throw PythonFailure(message: "\(name) returned wrong results") }
            let timing = try measure(repeats: repeats) { blackHole(try pool.map(input, body)) }
            medians.append(timing.median / Double(input.count))
            report.add(Measurement(section: section, peer: name, items: input.count, timing: timing))
        }
        let (binary, passthrough) = (medians[0], medians[1])
        report.note(String(format: "map of records, %@: binary %.0f ns per record = %.2f× (%d binary round trip%@ of %.0f ns, one thread, + passthrough map %.0f ns)",
                           shape, binary * 1e9, binary / (Double(crossings) * roundTripPerRecord + passthrough), crossings,
                           crossings == 1 ? "" : "s", roundTripPerRecord * 1e9, passthrough * 1e9))
    }

    private func chunked<T>(_ values: [T]) -> [[T]] {
        let size = ChunkingStrategy.cpythonChunkSize(count: values.count, workers: workers)
        return stride(from: 0, to: values.count, by: size).map { Array(values[$0..<min($0 + size, values.count)]) }
    }

    /// Checks once that the round trip is faithful, then times it; the note gives the encoded size.
    private func measurement<T: Codable & Equatable>(_ section: String, _ name: String, _ chunks: [[T]], _ coder: any TaskCoder,
                                                      _ roundTrip: ([[T]], any TaskCoder) throws -> Void) throws -> Measurement {
        var bytes = 0
        for chunk in chunks {
            let data = try coder.encode(chunk)
            bytes += data.count
            if chunk == chunks.first, try coder.decode([T].self, from: data) != chunk {
                throw PythonFailure(message: "\(coder.name) did not round-trip \(T.self)")
            }
        }
        let items = chunks.reduce(0) { $0 + $1.count }
        let timing = try measure(repeats: repeats) { try roundTrip(chunks, coder) }
        return Measurement(section: section, peer: name, items: items, timing: timing,
                           note: String(format: "%.1f bytes per item", Double(bytes) / Double(max(items, 1))))
    }
}

// One function per shape, never inlined, so a profiler can count each shape's instructions alone:
// `valgrind --tool=callgrind --toggle-collect='*roundTripRecords*' pool-bench codec --codec binary`.

@inline(never)
func roundTripInts(_ chunks: [[Int]], _ coder: any TaskCoder) throws { try roundTrip(chunks, coder) }

@inline(never)
func roundTripRecords(_ chunks: [[BenchRecord]], _ coder: any TaskCoder) throws { try roundTrip(chunks, coder) }

@inline(never)
func roundTripNestedRecords(_ chunks: [[BenchNestedRecord]], _ coder: any TaskCoder) throws { try roundTrip(chunks, coder) }

@inline(never)
func roundTripPairs(_ chunks: [[BenchWordCount]], _ coder: any TaskCoder) throws { try roundTrip(chunks, coder) }

private func roundTrip<T: Codable>(_ chunks: [[T]], _ coder: any TaskCoder) throws {
    for chunk in chunks {
        blackHole(try coder.decode([T].self, from: coder.encode(chunk)))
    }
}

/// The binary codec as a `TaskCoder`, to time it the way the other coders are timed.
struct BinaryTaskCoder: TaskCoder {
    var name: String { "binary" }
    func encode<T: Encodable>(_ value: T) throws -> Data { try BinaryEncoder().encode(value) }
    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T { try BinaryDecoder().decode(type, from: data) }
}
