import Foundation
import WorkerPool

/// One measured peer in one section of a report.
public struct Measurement: Codable, Sendable {
    /// The table section, e.g. "map x*2 over 1000000 Ints".
    public var section: String
    /// What was measured, e.g. "WorkerPool map (binary)".
    public var peer: String
    /// Items per run; per-item figures divide by it.
    public var items: Int
    public var timing: Timing
    public var note: String?
    /// The serial floor of its section: the `×serial` column divides by it.
    public var isSerial = false
    /// For charts: the x value (chunk size) and the line it belongs to.
    public var x: Double?
    public var series: String?
    /// For charts: "strategy" or "cpython" marks a point instead of a line.
    public var marker: String?
    /// Where a traced run's worker time went (chunks: every size and strategy).
    public var breakdown: Breakdown?

    public init(section: String, peer: String, items: Int, timing: Timing, note: String? = nil, isSerial: Bool = false,
                x: Double? = nil, series: String? = nil, marker: String? = nil, breakdown: Breakdown? = nil) {
        self.section = section
        self.peer = peer
        self.items = items
        self.timing = timing
        self.note = note
        self.isSerial = isSerial
        self.x = x
        self.series = series
        self.marker = marker
        self.breakdown = breakdown
    }

    /// Median nanoseconds per item.
    public var perItem: Double { timing.median / Double(max(items, 1)) * 1e9 }
    public var perItemMin: Double { timing.min / Double(max(items, 1)) * 1e9 }
    public var perItemMax: Double { timing.max / Double(max(items, 1)) * 1e9 }
}

/// Where a traced run's worker time went: shares of `workers × span` in bodies, codec, dispatch and
/// idle, and the imbalance of the workers' busy time (max over mean), from
/// `ChunkTrace.Job.breakdown`.
public struct Breakdown: Codable, Sendable, Equatable {
    public var bodies: Double
    public var codec: Double
    public var dispatch: Double
    public var idle: Double
    public var imbalance: Double

    public init(_ breakdown: ChunkTrace.Job.Breakdown) {
        bodies = breakdown.bodies
        codec = breakdown.codec
        dispatch = breakdown.dispatch
        idle = breakdown.idle
        imbalance = breakdown.imbalance
    }
}

/// Everything one `pool-bench` run measured, with the notes to print under it.
public final class Report: @unchecked Sendable {  // only touched by the thread running the command
    public let title: String
    public private(set) var measurements: [Measurement] = []
    public private(set) var notes: [String] = []
    private var sectionOrder: [String] = []
    /// Writes progress to stderr (the table goes to stdout), when it was asked for and stderr is a
    /// terminal: a status line rewritten in place with `\r` and `ESC[K`, which a file or a pipe
    /// would keep as garbage, so nothing at all is written to one.
    let progress: Bool
    /// Steps announced with `expectSteps` and taken with `step`, for the `[k/n]` counter.
    private var stepsExpected = 0
    private var stepsTaken = 0
    private let started = now()
    private var statusShown = false

    public init(title: String, progress: Bool = true) {
        self.title = title
        self.progress = progress && isatty(STDERR_FILENO) == 1
    }

    public func add(_ measurement: Measurement) {
        if !sectionOrder.contains(measurement.section) { sectionOrder.append(measurement.section) }
        measurements.append(measurement)
    }

    public func note(_ text: String) { notes.append(text) }

    /// Announces `count` more steps (each reported with `step`), so the status line can count them.
    func expectSteps(_ count: Int) { stepsExpected += count }

    /// One step of those announced: counts it and shows `text`.
    func step(_ text: String) {
        stepsTaken += 1
        status(text)
    }

    /// A progress line on stderr, overwritten by the next one: `[k/n] text, 1m05s`.
    func status(_ text: String) {
        guard progress else { return }
        let counter = stepsExpected > 0 ? "[\(min(stepsTaken, stepsExpected))/\(stepsExpected)] " : ""
        let elapsed = Int(now() - started)
        let clock = elapsed >= 60 ? "\(elapsed / 60)m\(String(format: "%02d", elapsed % 60))s" : "\(elapsed)s"
        FileHandle.standardError.write(Data("\r\u{1B}[K\(counter)\(text), \(clock)".utf8))
        statusShown = true
    }

    func clearStatus() {
        guard progress, statusShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        statusShown = false
    }

    public var sections: [String] { sectionOrder }

    public func rows(in section: String) -> [Measurement] { measurements.filter { $0.section == section } }

    // MARK: Text

    /// The aligned text table: per section, each peer's median per item, min-max, ratio to the
    /// best peer and to the serial floor; the best is starred.
    public func text() -> String {
        var out = "\(title)\n\(Machine.line)\n"
        for section in sectionOrder {
            let rows = rows(in: section)
            let best = rows.map(\.perItem).min() ?? .nan
            let serial = rows.first(where: \.isSerial)?.perItem
            let breakdowns = rows.contains { $0.breakdown != nil }
            var header = ["", "per item", "min-max", "x best", serial == nil ? "" : "x serial"]
            if breakdowns { header += ["bodies", "codec", "dispatch", "idle", "imbalance"] }
            var table: [[String]] = [header + [""]]
            for row in rows {
                var cells = [
                    (row.perItem == best ? "* " : "  ") + row.peer,
                    formatNanoseconds(row.perItem),
                    "\(formatNanoseconds(row.perItemMin))-\(formatNanoseconds(row.perItemMax))",
                    String(format: "%.2f", row.perItem / best),
                    serial.map { String(format: "%.2f", row.perItem / $0) } ?? "",
                ]
                if breakdowns {
                    if let b = row.breakdown {
                        cells += [b.bodies, b.codec, b.dispatch, b.idle].map { String(format: "%.1f%%", $0 * 100) }
                            + [String(format: "%.2f", b.imbalance)]
                    } else {
                        cells += ["", "", "", "", ""]
                    }
                }
                table.append(cells + [row.note ?? ""])
            }
            out += "\n\(section)\n" + align(table)
        }
        if !notes.isEmpty { out += "\n" + notes.map { "note: \($0)" }.joined(separator: "\n") + "\n" }
        return out
    }

    private func align(_ table: [[String]]) -> String {
        let widths = (0..<table[0].count).map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { row in
            row.enumerated().map { column, cell in
                column == 0 || column == row.count - 1
                    ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
    }

    // MARK: CSV and JSON

    public func csv() -> String {
        var lines = ["section,peer,items,median_s,min_s,max_s,per_item_ns,x,series,marker,note,bodies,codec,dispatch,idle,imbalance"]
        for m in measurements {
            let shares = m.breakdown.map { b in [b.bodies, b.codec, b.dispatch, b.idle, b.imbalance].map { String(format: "%.4f", $0) } }
                ?? ["", "", "", "", ""]
            let fields: [String] = [m.section, m.peer, "\(m.items)", "\(m.timing.median)", "\(m.timing.min)", "\(m.timing.max)",
                                    String(format: "%.3f", m.perItem), m.x.map { "\($0)" } ?? "", m.series ?? "", m.marker ?? "", m.note ?? ""]
                + shares
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func csvField(_ text: String) -> String {
        guard text.contains(",") || text.contains("\"") || text.contains("\n") else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public func json() throws -> String {
        struct Document: Encodable {
            let title: String
            let machine: String
            let measurements: [Measurement]
            let notes: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Document(title: title, machine: Machine.line, measurements: measurements, notes: notes))
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// `12.3ns`, `4.56µs`, `7.89ms`, `1.23s`.
public func formatNanoseconds(_ nanoseconds: Double) -> String {
    guard nanoseconds.isFinite else { return "-" }
    if nanoseconds >= 1e9 { return String(format: "%.2fs", nanoseconds / 1e9) }
    if nanoseconds >= 1e6 { return String(format: "%.2fms", nanoseconds / 1e6) }
    if nanoseconds >= 1e3 { return String(format: "%.2fµs", nanoseconds / 1e3) }
    return String(format: "%.1fns", nanoseconds)
}
