import Foundation

/// CPython's `multiprocessing.Pool` and `ThreadPool` as peers: `Benchmarks/python/pool_peer.py` runs
/// the same workloads and prints its timings as JSON.
struct PythonPeer {
    let executable: String
    let script: String

    /// One measured peer from the script.
    struct Row: Decodable {
        let peer: String
        let items: Int
        let seconds: [Double]
        let note: String?
        /// Which part of a multi-part workload (codec: "ints" or "records").
        let section: String?
    }

    private struct Output: Decodable {
        let python: String
        let rows: [Row]
    }

    /// The peer, or nil with the reason to print when `python3` or the script is missing.
    static func locate() -> (peer: PythonPeer?, reason: String?) {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let python = path.split(separator: ":").map({ "\($0)/python3" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return (nil, "python3 is not on the PATH: CPython peers skipped")
        }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            here.appendingPathComponent("python/pool_peer.py").path,
            FileManager.default.currentDirectoryPath + "/Benchmarks/python/pool_peer.py",
        ]
        guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return (nil, "Benchmarks/python/pool_peer.py not found: CPython peers skipped")
        }
        return (PythonPeer(executable: python, script: script), nil)
    }

    /// Runs one workload of the script and returns its rows and the Python version.
    func run(_ arguments: [String]) throws -> (version: String, rows: [Row]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [script] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(message: "pool_peer.py \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): \(errorText.suffix(500))")
        }
        let decoded = try JSONDecoder().decode(Output.self, from: data)
        return (decoded.python, decoded.rows)
    }
}

struct PythonFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension Report {
    /// Runs a CPython workload and adds its rows to `section` (or, for a row that names its part,
    /// to `sections[part]`); on failure, adds a note instead.
    func addPython(_ python: PythonPeer?, section: String, sections: [String: String] = [:], _ arguments: [String]) {
        guard let python else { return }
        status("CPython: \(arguments.joined(separator: " "))…")
        do {
            let (version, rows) = try python.run(arguments)
            for row in rows {
                add(Measurement(section: row.section.flatMap { sections[$0] } ?? section, peer: row.peer, items: row.items,
                                timing: Timing(seconds: row.seconds),
                                note: [row.note, "CPython \(version)"].compactMap { $0 }.joined(separator: ", ")))
            }
        } catch {
            note("CPython peer failed: \(error)")
        }
    }
}
