/// `pool-bench`'s command line, parsed by hand (no package dependencies).
public struct BenchOptions: Equatable, Sendable {
    public enum Command: String, CaseIterable, Sendable {
        case tour, overhead, map, chunks, codec, server, simulate
    }

    public var command: Command = .tour
    public var repeats: Int?
    public var items: Int?
    public var workers: Int?
    public var codec: String?
    public var shape: String?
    public var csvPath: String?
    public var svgPath: String?
    /// chunks: the Gantt chart of every strategy's traced run.
    public var timelinePath: String?
    /// chunks: where to write the traced runs; simulate: the trace to read.
    public var tracePath: String?
    /// simulate: a CSV of item costs in microseconds.
    public var costsPath: String?
    /// simulate: measure the lab's shapes at 1 and 2 workers and compare with the predictions.
    public var validate = false
    public var json = false
    public var tiny = false
    public var python = true
    public var help = false
    /// `server`: which mode, how many concurrent tasks, for how long.
    public var mode: String?
    public var tasks: Int?
    public var seconds: Double?

    public init() {}
}

/// A command line that `pool-bench` cannot run: printed with the usage, exit code 2.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public enum ArgumentParser {
    public static let usage = """
    usage: pool-bench [COMMAND] [OPTIONS]

    Measures WorkerPool next to its peers (a serial loop, DispatchQueue, OperationQueue, TaskGroup,
    a plain mutex+condition thread pool, CPython's multiprocessing.Pool and ThreadPool when python3
    is on the PATH) in one run, and reports medians with min-max over repeats.

    commands:
      (none)     a short tour of everything below at small sizes (under a minute)
      overhead   per-task overhead of applyAsync+get, apply round-trip latency p50/p99, the async path
      map        map throughput per codec vs serial, concurrentPerform, TaskGroup, CPython; imap read item by
                 item vs CPython's imap; parallel efficiency
      chunks     sweep of fixed chunk sizes (powers of two) and every chunking strategy on one workload shape
      codec      round trip of Ints and three record shapes through binary, JSON, property lists and pickle
      server     a pool in a server: N concurrent tasks, cancellation storms, tiny requests behind a big map,
                 an overloaded bounded pool, the cost of statistics; ticker lag, RSS and threads over time
      simulate   predicts every chunking strategy at 1, 2, 4, ... 1024 workers from a recorded trace
                 (--trace), a CSV of item costs (--costs) or the lab's shapes (--shape); --validate
                 measures the shapes at 1 and 2 workers and prints prediction against measurement

    options:
      --repeat N        repeats per measurement (default: 5; the tour uses 3)
      --items N         items per run (command-specific default)
      --workers W       pool workers (default: active processor count)
      --codec NAME      binary | json | passthrough | plist | all (map, codec: default all; chunks: default binary)
      --shape NAMES     cheap | uniform | ramp | ramp-down | step | step-down | periodic | bimodal |
                        heavy-tail | one-slow | all, or several joined by commas (chunks, simulate;
                        default heavy-tail)
      --csv FILE        also write every measurement as CSV
      --svg FILE        also write a chart (chunks: time vs chunk size; simulate: predicted time
                        against workers; others: per-item times)
      --timeline FILE   chunks: also draw each strategy's traced run as a Gantt chart (SVG), one row
                        per worker
      --trace FILE      chunks: also write every traced run (JSON, for simulate); simulate: the
                        trace to read (that file, or a ChunkTrace encoded as JSON)
      --costs FILE      simulate: item costs in microseconds, one per line
      --validate        simulate: record, predict and measure the shapes at 1 and 2 workers
      --json            print JSON instead of the text table
      --tiny            the smallest sizes (CI's smoke run)
      --no-python       skip the CPython peers
      --mode NAME       server: mixed | cancel | bigmap | overload | statistics | all (default mixed)
      --tasks N         server: concurrent tasks (default 1000)
      --seconds S       server: how long each load runs (default 5)
      -h, --help        this text
    """

    /// Parses `arguments` (without the program name).
    ///
    /// - Throws: `UsageError` for an unknown command or option, a missing or malformed value.
    public static func parse(_ arguments: [String]) throws -> BenchOptions {
        var options = BenchOptions()
        var index = 0
        var sawCommand = false

        func value(for flag: String) throws -> String {
            index += 1
            guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                throw UsageError(message: "\(flag) needs a value")
            }
            return arguments[index]
        }
        func positive(_ flag: String) throws -> Int {
            let text = try value(for: flag)
            guard let number = Int(text), number >= 1 else {
                throw UsageError(message: "\(flag) needs a whole number of at least 1, got \"\(text)\"")
            }
            return number
        }
        func oneOf(_ flag: String, _ choices: [String]) throws -> String {
            let text = try value(for: flag)
            guard choices.contains(text) else {
                throw UsageError(message: "\(flag) must be one of \(choices.joined(separator: ", ")), got \"\(text)\"")
            }
            return text
        }

        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "-h", "--help": options.help = true
            case "--repeat": options.repeats = try positive(argument)
            case "--items": options.items = try positive(argument)
            case "--workers": options.workers = try positive(argument)
            case "--codec": options.codec = try oneOf(argument, Codecs.names)
            case "--shape":
                let text = try value(for: argument)
                let names = Shape.allCases.map(\.rawValue) + ["all"]
                guard !text.isEmpty, text.split(separator: ",").allSatisfy({ names.contains(String($0)) }) else {
                    throw UsageError(message: "--shape must be one or more of \(names.joined(separator: ", ")), separated by commas, got \"\(text)\"")
                }
                options.shape = text
            case "--csv": options.csvPath = try value(for: argument)
            case "--svg": options.svgPath = try value(for: argument)
            case "--timeline": options.timelinePath = try value(for: argument)
            case "--trace": options.tracePath = try value(for: argument)
            case "--costs": options.costsPath = try value(for: argument)
            case "--validate": options.validate = true
            case "--json": options.json = true
            case "--tiny": options.tiny = true
            case "--no-python": options.python = false
            case "--mode": options.mode = try oneOf(argument, ServerModes.names)
            case "--tasks": options.tasks = try positive(argument)
            case "--seconds":
                let text = try value(for: argument)
                guard let seconds = Double(text), seconds > 0, seconds <= 3600 else {
                    throw UsageError(message: "--seconds needs a number of seconds above 0 and at most 3600, got \"\(text)\"")
                }
                options.seconds = seconds
            default:
                if argument.hasPrefix("-") {
                    throw UsageError(message: "unknown option \(argument)")
                }
                guard !sawCommand, let command = BenchOptions.Command(rawValue: argument) else {
                    throw UsageError(message: sawCommand ? "unexpected argument \(argument)" : "unknown command \(argument)")
                }
                options.command = command
                sawCommand = true
            }
            index += 1
        }
        if let workers = options.workers, workers > 4096 {
            throw UsageError(message: "--workers must be at most 4096, got \(workers)")
        }
        if options.timelinePath != nil && options.command != .chunks {
            throw UsageError(message: "--timeline goes with the chunks command")
        }
        if options.costsPath != nil || options.validate, options.command != .simulate {
            throw UsageError(message: "\(options.validate ? "--validate" : "--costs") goes with the simulate command")
        }
        if options.command == .simulate {
            let sources = [options.tracePath != nil, options.costsPath != nil, options.shape != nil].filter { $0 }.count
            if sources > 1 { throw UsageError(message: "simulate reads one of --trace, --costs or --shape") }
            if options.validate && (options.tracePath != nil || options.costsPath != nil) {
                throw UsageError(message: "--validate measures the lab's shapes: give --shape, not --trace or --costs")
            }
        }
        return options
    }
}

/// The modes of `pool-bench server`.
enum ServerModes {
    static let names = ["mixed", "cancel", "bigmap", "overload", "statistics", "all"]
}
