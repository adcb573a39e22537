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
        XCTAssertTrue(try ArgumentParser.parse(["--help"]).help)
        XCTAssertTrue(try ArgumentParser.parse(["map", "-h"]).help)
    }

    func testBadArgumentsAreUsageErrors() {
        let bad: [[String]] = [
            ["--bogus"], ["frobnicate"], ["map", "chunks"], ["--items"], ["--items", "0"], ["--items", "-5"],
            ["--items", "ten"], ["--repeat", "1.5"], ["--workers", "0"], ["--workers", "100000"], ["--shape", "square"],
            ["--codec", "xml"], ["--csv"], ["--items", "--json"],
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
        for section in ["per-task overhead", "round-trip latency", "async path", "map x*2", "parallel efficiency", "round trip of", "chunks: heavy-tail"] {
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
    }
}
