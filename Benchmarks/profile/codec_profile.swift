// A single-threaded driver for counting the binary codec's instructions per record with callgrind
// (pool-bench itself runs on Swift's async runtime, which valgrind cannot follow). The record
// shapes and values are pool-bench codec's: see Benchmarks/PoolBenchKit/CodecBench.swift.
// Built and run by codec-instructions.sh beside it.
import Foundation
import WorkerPool

struct Record: Codable, Equatable {
    var id: Int
    var name: String
    var score: Double
    init(_ i: Int) { id = i; name = "name-\(i)"; score = Double(i) * 0.5 }
}

struct NestedRecord: Codable, Equatable {
    struct Point: Codable, Equatable {
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

struct WordCount: Codable, Equatable {
    var word: String
    var count: Int
    init(_ i: Int) {
        let syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "so", "vi"]
        word = (0..<(1 + i % 4)).map { syllables[(i >> (3 * $0)) & 7] }.joined()
        count = 1 + (i * 7) % 100
    }
}

/// pool-bench's chunks: 100,000 records on 2 workers are chunks of 12,500.
let chunkSize = 12_500
let records = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 25_000

func chunks<T>(_ make: (Int) -> T) -> [[T]] {
    stride(from: 0, to: records, by: chunkSize).map { start in (start..<min(start + chunkSize, records)).map(make) }
}

nonisolated(unsafe) var sink = 0

func roundTrip<T: Codable>(_ chunks: [[T]]) throws {
    for chunk in chunks {
        let data = try BinaryEncoder().encode(chunk)
        sink &+= try BinaryDecoder().decode([T].self, from: data).count
    }
}

// The measured passes: callgrind collects inside these functions only.
@inline(never) func measureRecords(_ chunks: [[Record]]) throws { try roundTrip(chunks) }
@inline(never) func measureNested(_ chunks: [[NestedRecord]]) throws { try roundTrip(chunks) }
@inline(never) func measurePairs(_ chunks: [[WordCount]]) throws { try roundTrip(chunks) }

/// A warm-up on the first chunk, so one-time costs (metadata, first allocations) are not counted.
/// Its body differs from the measured functions', so the optimizer cannot merge them into one
/// function that callgrind would then count twice.
@inline(never) func warmUp<T: Codable>(_ chunks: [[T]]) throws { try roundTrip(Array(chunks.prefix(1))) }

let flat = chunks(Record.init), nested = chunks(NestedRecord.init), pairs = chunks(WordCount.init)
try warmUp(flat); try measureRecords(flat)
try warmUp(nested); try measureNested(nested)
try warmUp(pairs); try measurePairs(pairs)
print("round-tripped \(sink) values")
