import Foundation
import WorkerPool

/// `pool-bench`'s entry point: parses `arguments` (without the program name), runs the command,
/// prints the table (or JSON) and writes the CSV and SVG files asked for.
///
/// - Returns: the exit code: 0, 1 when a benchmark failed, 2 for a usage error.
public func poolBench(_ arguments: [String], progress: Bool = true) async -> Int32 {
    let options: BenchOptions
    do {
        options = try ArgumentParser.parse(arguments)
    } catch {
        FileHandle.standardError.write(Data("pool-bench: \(error)\n\n\(ArgumentParser.usage)\n".utf8))
        return 2
    }
    if options.help {
        print(ArgumentParser.usage)
        return 0
    }
    do {
        let (report, traces) = try await run(options, progress: progress)
        report.clearStatus()
        if options.json {
            print(try report.json(), terminator: "")
        } else if options.command == .simulate {
            print(options.validate ? SimulationTables.validation(report) : SimulationTables.predictions(report), terminator: "")
        } else {
            print(report.text(), terminator: "")
        }
        if let path = options.csvPath { try report.csv().write(toFile: path, atomically: true, encoding: .utf8) }
        if let path = options.svgPath {
            let svg: String
            switch options.command {
            case .chunks: svg = SVGChart.chunks(report)
            case .simulate: svg = options.validate ? SVGChart.bars(report) : SVGChart.simulation(report)
            default: svg = SVGChart.bars(report)
            }
            try svg.write(toFile: path, atomically: true, encoding: .utf8)
        }
        if let path = options.timelinePath {
            try SVGChart.timeline(traces, title: report.title).write(toFile: path, atomically: true, encoding: .utf8)
        }
        if let path = options.tracePath, options.command == .chunks {
            let file = RecordedWorkloads(workloads: traces.map { RecordedWorkloads.Workload(name: $0.section, trace: $0.all, walls: $0.walls) })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(file).write(to: URL(fileURLWithPath: path))
        }
        return 0
    } catch {
        FileHandle.standardError.write(Data("\npool-bench: \(error)\n".utf8))
        return 1
    }
}

/// The sizes of each command: its defaults, the tour's, and the tiny ones CI runs.
struct Sizes {
    var tasks = 100_000, latencySamples = 20_000
    var mapItems = 1_000_000, efficiencyItems = 20_000
    var ints = 1_000_000, records = 100_000
    var chunkItems = 20_000
    var repeats = 5

    static let tour = Sizes(tasks: 10_000, latencySamples: 2_000, mapItems: 200_000, efficiencyItems: 4_000,
                            ints: 200_000, records: 20_000, chunkItems: 4_000, repeats: 3)
    static let tiny = Sizes(tasks: 500, latencySamples: 200, mapItems: 20_000, efficiencyItems: 400,
                            ints: 10_000, records: 2_000, chunkItems: 256, repeats: 1)
}

func run(_ options: BenchOptions, progress: Bool) async throws -> (Report, [ChunksBench.Traces]) {
    var sizes = options.tiny ? Sizes.tiny : (options.command == .tour ? Sizes.tour : Sizes())
    if let repeats = options.repeats { sizes.repeats = repeats }
    if let items = options.items {
        sizes.tasks = items
        sizes.mapItems = items
        sizes.ints = items
        sizes.chunkItems = items
    }
    let workers = options.workers ?? ProcessInfo.processInfo.activeProcessorCount
    let (python, reason) = options.python ? PythonPeer.locate() : (nil, "CPython peers skipped (--no-python)")
    var title = "pool-bench \(options.command.rawValue)" + (options.tiny ? " (tiny)" : "")
    if options.command == .chunks {
        let codec = options.codec ?? "binary"
        let codecs = codec == "all" || codec.contains(",") ? "\(codec) codecs" : "\(codec) codec"
        title += ": \(options.shape ?? "heavy-tail"), \(sizes.chunkItems) items, \(codecs), \(workers) workers"
    }
    if options.command == .simulate {
        if let path = options.tracePath {
            title += ": trace \(path)"
        } else if let path = options.costsPath {
            title += ": costs \(path), \(options.codec ?? "binary") codec"
        } else {
            title += (options.validate ? " --validate" : "") + ": \(options.shape ?? "heavy-tail"), \(sizes.chunkItems) items, "
                + "\(options.codec ?? "binary") codec" + (options.validate ? ", recorded at \(workers) workers" : "")
        }
    }
    let report = Report(title: title, progress: progress)
    if let reason { report.note(reason) }

    let overhead = OverheadBench(tasks: sizes.tasks, latencySamples: sizes.latencySamples, workers: workers, repeats: sizes.repeats, python: python)
    let map = MapBench(items: sizes.mapItems, efficiencyItems: sizes.efficiencyItems, workers: workers, repeats: sizes.repeats,
                       codecs: Codecs.named(options.codec ?? "all"), python: python)
    let codec = CodecBench(ints: sizes.ints, records: sizes.records, workers: workers, repeats: sizes.repeats,
                           codec: options.codec ?? "all", python: python)
    let shapes = options.shape.map { text in
        text.split(separator: ",").flatMap { $0 == "all" ? Shape.allCases : [Shape(rawValue: String($0))!] }
    } ?? [.heavyTail]
    let chunks = ChunksBench(shapes: shapes, items: sizes.chunkItems, workers: workers, repeats: sizes.repeats,
                             codecs: Codecs.named(options.codec ?? "binary"), python: python,
                             keepTraces: options.tracePath != nil)
    let source: SimulateBench.Source = options.tracePath.map { .trace(path: $0) }
        ?? options.costsPath.map { .costs(path: $0) } ?? .shapes(shapes)
    let simulate = SimulateBench(source: source, items: sizes.chunkItems, workers: workers, repeats: sizes.repeats,
                                 codecs: Codecs.named(options.codec ?? "binary"), validate: options.validate)

    var traces: [ChunksBench.Traces] = []
    switch options.command {
    case .overhead: try await overhead.run(into: report)
    case .map: try await map.run(into: report)
    case .codec: try codec.run(into: report)
    case .chunks: traces = try chunks.run(into: report)
    case .simulate: try simulate.run(into: report)
    case .server:
        let server = ServerBench(mode: ServerBench.Mode(rawValue: options.mode ?? "mixed")!,
                                 tasks: options.tasks ?? (options.tiny ? 100 : 1_000),
                                 seconds: options.seconds ?? (options.tiny ? 0.5 : 5), workers: workers, tiny: options.tiny)
        try await server.run(into: report)
    case .tour:
        try await overhead.run(into: report)
        try await map.run(into: report)
        try codec.run(into: report)
        traces = try chunks.run(into: report)
    }
    if let note = QuietMeasure.note { report.note(note) }
    return (report, traces)
}
