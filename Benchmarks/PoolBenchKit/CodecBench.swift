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
}

/// The record of the codec benchmark: `{id: Int, name: String, score: Double}`.
struct BenchRecord: Codable, Sendable, Equatable {
    var id: Int
    var name: String
    var score: Double
}

/// `pool-bench codec`: the round trip (encode, then decode) of chunks of Ints and of records through
/// each codec, the work a pool does per chunk and direction, next to CPython's pickle.
struct CodecBench {
    let ints: Int
    let records: Int
    let workers: Int
    let repeats: Int
    let python: PythonPeer?

    func run(into report: Report) throws {
        let intSection = "round trip of \(ints) Ints in heuristic chunks (encode + decode), per Int"
        let recordSection = "round trip of \(records) records {id: Int, name: String, score: Double} in heuristic chunks, per record"
        let intChunks = chunked(Array(0..<ints))
        let recordChunks = chunked((0..<records).map { BenchRecord(id: $0, name: "name-\($0)", score: Double($0) * 0.5) })

        let coders: [(String, any TaskCoder)] = [
            ("binary (WorkerPool)", BinaryTaskCoder()),
            ("JSON (Foundation)", JSONTaskCoder()),
            ("binary property list (Foundation)", PropertyListTaskCoder()),
        ]
        for (name, coder) in coders {
            report.status("codec: \(name)")
            report.add(Measurement(section: intSection, peer: name, items: ints, timing: try roundTrip(intChunks, coder)))
            report.add(Measurement(section: recordSection, peer: name, items: records, timing: try roundTrip(recordChunks, coder)))
        }
        report.addPython(python, section: intSection, sections: ["ints": intSection, "records": recordSection],
                         ["codec", "--ints", "\(ints)", "--records", "\(records)", "--workers", "\(workers)", "--repeat", "\(repeats)"])
    }

    private func chunked<T>(_ values: [T]) -> [[T]] {
        let size = ChunkingStrategy.cpythonChunkSize(count: values.count, workers: workers)
        return stride(from: 0, to: values.count, by: size).map { Array(values[$0..<min($0 + size, values.count)]) }
    }

    private func roundTrip<T: Codable & Equatable>(_ chunks: [[T]], _ coder: any TaskCoder) throws -> Timing {
        // Check once that the round trip is faithful, then time it.
        for chunk in chunks.prefix(2) where try coder.decode([T].self, from: coder.encode(chunk)) != chunk {
            throw PythonFailure(message: "\(coder.name) did not round-trip \(T.self)")
        }
        return try measure(repeats: repeats) {
            for chunk in chunks {
                blackHole(try coder.decode([T].self, from: coder.encode(chunk)))
            }
        }
    }
}

/// The binary codec as a `TaskCoder`, to time it the way the other coders are timed.
struct BinaryTaskCoder: TaskCoder {
    var name: String { "binary" }
    func encode<T: Encodable>(_ value: T) throws -> Data { try BinaryEncoder().encode(value) }
    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T { try BinaryDecoder().decode(type, from: data) }
}
