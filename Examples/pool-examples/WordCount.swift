// Port of PyMOTW's multiprocessing word count (Examples/python/multiprocessing_wordcount.py and
// multiprocessing_mapreduce.py, after dhellmann/pymotw-3, source/multiprocessing/): one
// `Pool.map` over the files with chunksize 1, a partition in the main thread, then one task per
// distinct word. The output is the Python program's, byte for byte.

import Foundation
import WorkerPool

/// Python's `(word, 1)`. A tuple result is fine (`pool.map(xs) { ($0, 1) }`), but an *array* of
/// tuples is not `Codable`, so the list that `file_to_words` returns becomes an array of this.
struct WordOccurrence: Codable, Sendable {
    var word: String
    var count: Int
}

enum WordCount {
    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "be", "by", "for", "if", "in",
        "is", "it", "of", "or", "py", "rst", "that", "the", "to", "with",
    ]

    /// `file_to_words`: the file's words, lowercased, without punctuation, stop words, or words
    /// that are not all letters. Runs on a worker.
    ///
    /// It works on UTF-8 bytes, not `Character`s: a `Character`-by-`Character` port of Python's
    /// `translate`/`split`/`lower`/`isalpha` spends most of its time in grapheme breaking. Letters
    /// are ASCII letters here, so a word with a non-ASCII letter is dropped, where Python keeps it.
    static func fileToWords(_ filename: String) throws -> [WordOccurrence] {
        // Python prints this on stdout; both print it on stderr, as worker names differ.
        FileHandle.standardError.write(Data("\(Pool.currentWorkerName ?? "MainProcess") reading \(filename)\n".utf8))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: filename)))
        var output: [WordOccurrence] = []
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            words(in: bytes[lineStart..<lineEnd], into: &output)
            lineStart = lineEnd + 1
        }
        return output
    }

    /// One line's words, appended to `output`; nothing for a comment line (`..` after blanks).
    static func words(in line: ArraySlice<UInt8>, into output: inout [WordOccurrence]) {
        let text = line.drop(while: isSpace)
        if text.starts(with: [UInt8(ascii: "."), UInt8(ascii: ".")]) { return }
        var word: [UInt8] = []
        var allLetters = true
        func finishWord() {
            defer { word.removeAll(keepingCapacity: true); allLetters = true }
            guard !word.isEmpty, allLetters else { return }
            let string = String(decoding: word, as: UTF8.self)
            if !stopWords.contains(string) { output.append(WordOccurrence(word: string, count: 1)) }
        }
        for byte in text {
            if isSpace(byte) || isPunctuation(byte) {
                finishWord()
            } else {
                let lowered = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
                allLetters = allLetters && (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(lowered)
                word.append(lowered)
            }
        }
        finishWord()
    }

    /// Python's `str.split()` whitespace, for ASCII.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte) || (0x1C...0x1F).contains(byte)
    }

    /// Python's `string.punctuation`.
    static func isPunctuation(_ byte: UInt8) -> Bool {
        (0x21...0x2F).contains(byte) || (0x3A...0x40).contains(byte) || (0x5B...0x60).contains(byte) || (0x7B...0x7E).contains(byte)
    }

    /// `SimpleMapReduce.__call__` and the program's main block.
    static func main(files: [String]) throws {
        print("input_files: [\(files.map { "'\($0)'" }.joined(separator: ", "))]")
        let wordCounts = try withPool(codec: codecFromEnvironment()) { pool in
            // map: one file per task (chunksize=1), as the original.
            let mapResponses = try pool.map(files, chunksize: 1) { try fileToWords($0) }
            // partition: the words in the order they first appear, as a Python dict keeps them.
            var order: [String] = []
            var occurrences: [String: [Int]] = [:]
            for response in mapResponses {
                for item in response {
                    if occurrences[item.word] == nil { order.append(item.word) }
                    occurrences[item.word, default: []].append(item.count)
                }
            }
            // reduce: `pool.map(count_words, partitioned_data.items())` over (key, values) pairs
            // is `starmap` here: each pair is spread over the body's parameters, and the body
            // returns a tuple.
            return try pool.starmap(order.map { ($0, occurrences[$0]!) }) { word, counts in (word, counts.reduce(0, +)) }
        }
        // `sort(key=itemgetter(1))` is stable, then `reverse()`: ties end up in reverse order of
        // first appearance.
        let sorted = wordCounts.indices.sorted { (wordCounts[$0].1, $0) < (wordCounts[$1].1, $1) }.reversed().map { wordCounts[$0] }
        print("\nTOP 20 WORDS BY FREQUENCY\n")
        let top20 = sorted.prefix(20)
        let longest = top20.map(\.0.count).max() ?? 0
        for (word, count) in top20 {
            let padded = word + String(repeating: " ", count: longest + 1 - word.count)
            let number = String(count)
            print("\(padded): \(String(repeating: " ", count: max(0, 5 - number.count)))\(number)")
        }
    }
}
