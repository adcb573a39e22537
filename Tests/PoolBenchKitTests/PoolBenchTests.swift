import Foundation
import XCTest
@testable import PoolBenchKit

final class ArgumentParserTests: XCTestCase {
    func testDefaultsAndCommands() throws {
        XCTAssertEqual(try ArgumentParser.parse([]).command, .tour)
        for command in BenchOptions.Command.allCases {
            XCTAssertEqual(try ArgumentParser.parse([command.rawValue]).command, command)
        }
        let options = try ArgumentParser.parse(["chunks", "--shape", "heavy-tail", "--items", "500", "--workers", "3",
                                                "--codec", "binary", "--repeat", "2", "--csv", "out.csv", "--svg", "out.svg", "--json", "--no-python"])
        XCTAssertEqual(options.command, .chunks)
        XCTAssertEqual(options.shape, "heavy-tail")
        XCTAssertEqual(options.items, 500)
        XCTAssertEqual(options.workers, 3)
        XCTAssertEqual(options.codec, "binary")
        XCTAssertEqual(options.repeats, 2)
        XCTAssertEqual(options.csvPath, "out.csv")
        XCTAssertEqual(options.svgPath, "out.svg")
        XCTAssertTrue(options.json)
        XCTAssertFalse(options.python)
        let simulate = try ArgumentParser.parse(["simulate", "--costs", "c.csv", "--svg", "s.svg"])
        XCTAssertEqual(simulate.command, .simulate)
        XCTAssertEqual(simulate.costsPath, "c.csv")
        XCTAssertTrue(try ArgumentParser.parse(["simulate", "--shape", "ramp,step", "--validate"]).validate)
        let lab = try ArgumentParser.parse(["chunks", "--shape", "ramp-down,step-down,periodic,bimodal", "--timeline", "t.svg", "--trace", "t.json"])
        XCTAssertEqual(lab.timelinePath, "t.svg")
        XCTAssertEqual(lab.tracePath, "t.json")
        XCTAssertTrue(try ArgumentParser.parse(["--help"]).help)
        XCTAssertTrue(try ArgumentParser.parse(["map", "-h"]).help)
    }

    func testBadArgumentsAreUsageErrors() {
        let bad: [[String]] = [
            ["--bogus"], ["frobnicate"], ["map", "chunks"], ["--items"], ["--items", "0"], ["--items", "-5"],
            ["--items", "ten"], ["--repeat", "1.5"], ["--workers", "0"], ["--workers", "100000"], ["--shape", "square"],
            ["--codec", "xml"], ["--csv"], ["--items", "--json"],
            ["map", "--timeline", "t.svg"], ["chunks", "--validate"], ["chunks", "--costs", "c.csv"],
            ["simulate", "--trace", "t.json", "--costs", "c.csv"], ["simulate", "--shape", "ramp", "--trace", "t.json"],
            ["simulate", "--validate", "--trace", "t.json"], ["--timeline"],
        ]
        for arguments in bad {
            XCTAssertThrowsError(try ArgumentParser.parse(arguments), "\(arguments)") { error in
                XCTAssertTrue(error is UsageError, "\(arguments): \(error)")
            }
        }
    }

    func testExitCodes() async {
        let usage = await poolBench(["--bogus"], progress: false)
        XCTAssertEqual(usage, 2)
        let help = await poolBench(["--help"], progress: false)
        XCTAssertEqual(help, 0)
    }
}

final class PoolBenchSmokeTests: XCTestCase {
    /// The whole tour at its tiny sizes, every command and every peer but CPython: the main job
    /// cannot rot without this failing.
    func testTinyTourRuns() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pool-bench-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("tour.csv").path
        let svg = directory.appendingPathComponent("tour.svg").path
        let status = await poolBench(["--tiny", "--no-python", "--csv", csv, "--svg", svg], progress: false)
        XCTAssertEqual(status, 0)
        let table = try String(contentsOfFile: csv, encoding: .utf8)
        for section in ["per-task overhead", "round-trip latency", "async path", "map x*2", "imap x*2", "parallel efficiency", "round trip of", "chunks: heavy-tail"] {
            XCTAssertTrue(table.contains(section), "no \(section) rows in the CSV")
        }
        XCTAssertTrue(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg"))
    }

    func testChunksCommandWritesAChart() async throws {
        let svg = FileManager.default.temporaryDirectory.appendingPathComponent("chunks-\(UUID()).svg").path
        defer { try? FileManager.default.removeItem(atPath: svg) }
        let status = await poolBench(["chunks", "--shape", "all", "--items", "64", "--repeat", "1", "--no-python", "--svg", svg, "--json"], progress: false)
        XCTAssertEqual(status, 0)
        let chart = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(chart.contains("polyline"))
        XCTAssertTrue(chart.contains("CPython heuristic"))
        for shape in Shape.allCases { XCTAssertTrue(chart.contains(shape.rawValue), shape.rawValue) }
    }

    /// The lab's timeline and trace, then the simulator reading that trace, a CSV, and the shapes
    /// with its validation: every new piece of the lab at its smallest.
    func testTimelineTraceAndSimulate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pool-bench-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let timeline = directory.appendingPathComponent("timeline.svg").path
        let trace = directory.appendingPathComponent("trace.json").path
        let csv = directory.appendingPathComponent("table.csv").path
        var status = await poolBench(["chunks", "--tiny", "--no-python", "--shape", "ramp,bimodal", "--timeline", timeline,
                                      "--trace", trace, "--csv", csv], progress: false)
        XCTAssertEqual(status, 0)
        let chart = try String(contentsOfFile: timeline, encoding: .utf8)
        for name in ["ramp (binary)", "bimodal (binary)", "best fixed", "adaptive(1ms)", "factoring(1)", "trapezoid", "measured-fixed(8)"] {
            XCTAssertTrue(chart.contains(name), name)
        }
        XCTAssertTrue(try String(contentsOfFile: csv, encoding: .utf8).contains(",bodies,codec,dispatch,idle,imbalance"))

        let predictions = directory.appendingPathComponent("predictions.csv").path
        let svg = directory.appendingPathComponent("predictions.svg").path
        status = await poolBench(["simulate", "--trace", trace, "--csv", predictions, "--svg", svg], progress: false)
        XCTAssertEqual(status, 0)
        let rows = try String(contentsOfFile: predictions, encoding: .utf8)
        XCTAssertTrue(rows.contains("ramp (binary), recorded at"), rows.prefix(300).description)
        XCTAssertTrue(rows.contains("measured-fixed(8)"))
        XCTAssertTrue(try String(contentsOfFile: svg, encoding: .utf8).contains("1024"))

        let costs = directory.appendingPathComponent("costs.csv").path
        try "cost_us\n" .appending((0..<300).map { "\(1 + $0 % 7)" }.joined(separator: "\n")).write(toFile: costs, atomically: true, encoding: .utf8)
        status = await poolBench(["simulate", "--costs", costs, "--tiny"], progress: false)
        XCTAssertEqual(status, 0)
        status = await poolBench(["simulate", "--validate", "--shape", "uniform", "--tiny", "--csv", predictions], progress: false)
        XCTAssertEqual(status, 0)
        XCTAssertTrue(try String(contentsOfFile: predictions, encoding: .utf8).contains("predicted"))
        status = await poolBench(["simulate", "--trace", costs], progress: false)
        XCTAssertEqual(status, 1, "a CSV is not a trace")
    }

    func testStatusWritesNothingWithoutATerminal() {
        let report = Report(title: "t", progress: true)
        XCTAssertEqual(report.progress, isatty(STDERR_FILENO) == 1, "progress only on a terminal")
        XCTAssertFalse(Report(title: "t", progress: false).progress)
    }

    /// The server modes' throughput counts only the requests that finished within the window: a
    /// request that ends after it (or while the task group that holds the clients is being torn
    /// down) and a request that failed do not count, and the last end is kept for the note.
    func testServerSamplesCountOnlyRequestsFinishedInTheWindow() throws {
        let samples = Samples(windowEnd: 10)
        samples.add(begin: 1, end: 2, counted: true)
        samples.add(begin: 9, end: 10, counted: true)     // ends exactly at the window's end
        samples.add(begin: 3, end: 4, counted: false)     // failed
        samples.add(begin: 9.5, end: 12.5, counted: true) // finished after the window
        let window = try XCTUnwrap(samples.window)
        XCTAssertEqual(window.finished, 2)
        XCTAssertEqual(window.end, 10)
        XCTAssertEqual(window.lastEnd, 12.5)
        XCTAssertEqual(samples.values, [1, 1, 1, 3], "every request's latency is kept")
        XCTAssertNil(Samples().window, "no window: the row divides by the whole run")
    }

    func testShapesCostWhatTheirNamesSay() {
        let items = 1000
        XCTAssertEqual(Shape.cheap.costs(items: items).reduce(0, +), 0)
        XCTAssertEqual(Shape.uniform.costs(items: items).allSatisfy { $0 == 10_000 }, true)
        let ramp = Shape.ramp.costs(items: items)
        XCTAssertEqual(ramp.first, 0)
        XCTAssertEqual(ramp.last, 20_000)
        let heavy = Shape.heavyTail.costs(items: items)
        XCTAssertEqual(heavy.filter { $0 == 200_000 }.count, 10, "1 % of the items")
        let slow = Shape.oneSlow.costs(items: items)
        let total = slow.reduce(0, +)
        XCTAssertEqual(slow.max()! / total, 0.1, accuracy: 0.001, "one item is 10 % of the total")
        let down = Shape.rampDown.costs(items: items)
        XCTAssertEqual(down.first, 20_000)
        XCTAssertEqual(down.last, 0)
        XCTAssertEqual(Shape.step.costs(items: items).prefix(500).allSatisfy { $0 == 2_000 }, true)
        XCTAssertEqual(Shape.step.costs(items: items).suffix(500).allSatisfy { $0 == 18_000 }, true)
        XCTAssertEqual(Shape.stepDown.costs(items: items), Shape.step.costs(items: items).reversed())
        let periodic = Shape.periodic.costs(items: 2_000)
        XCTAssertEqual(periodic.reduce(0, +) / 2_000, 10_000, accuracy: 1)
        XCTAssertEqual(periodic[250], 19_000, accuracy: 1, "the sine's top, a quarter period in")
        let bimodal = Shape.bimodal.costs(items: 20_000)
        XCTAssertEqual(Double(bimodal.filter { $0 == 55_000 }.count) / 20_000, 0.1, accuracy: 0.01, "10 % slow, at random")
        XCTAssertEqual(Shape.bimodal.costs(items: 100), Shape.bimodal.costs(items: 100), "the same pick every run")
        for shape in Shape.allCases where shape != .cheap && shape != .heavyTail {
            XCTAssertEqual(shape.costs(items: 20_000).reduce(0, +) / 20_000, 10_000, accuracy: 1_200, shape.rawValue)
        }
    }
}
