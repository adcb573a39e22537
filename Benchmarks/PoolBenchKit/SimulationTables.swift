import Foundation

/// The text tables of `pool-bench simulate`.
enum SimulationTables {
    /// Per workload: the best fixed size's predicted time per item and its size at each worker
    /// count, then every strategy as a ratio to it.
    static func predictions(_ report: Report) -> String {
        var out = "\(report.title)\n\(Machine.line)\n"
        for section in report.sections {
            let rows = report.rows(in: section)
            let counts = rows.compactMap(\.x).reduce(into: [Double]()) { if !$0.contains($1) { $0.append($1) } }
            let peers = rows.map(\.peer).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            func row(_ peer: String, _ count: Double) -> Measurement? { rows.first { $0.peer == peer && $0.x == count } }
            var table: [[String]] = [["workers"] + counts.map { "\(Int($0))" }]
            table.append(["best fixed, per item"] + counts.map { row("best fixed", $0).map { formatNanoseconds($0.perItem) } ?? "" })
            table.append(["  its chunk size"] + counts.map { row("best fixed", $0)?.note?.replacingOccurrences(of: "fixed", with: "") ?? "" })
            for peer in peers where peer != "best fixed" {
                table.append([peer] + counts.map { count in
                    guard let m = row(peer, count), let best = row("best fixed", count) else { return "" }
                    return String(format: "%.2f", m.perItem / best.perItem)
                })
            }
            out += "\n\(section)\npredicted time as a ratio to the best fixed size at the same number of workers\n" + align(table)
        }
        return out + notes(report)
    }

    /// Per workload: each strategy's measured and predicted time at 1 and 2 workers and the error;
    /// then how many predictions were within 10 %.
    static func validation(_ report: Report) -> String {
        var out = "\(report.title)\n\(Machine.line)\n"
        var errors: [(error: Double, what: String)] = []
        for section in report.sections {
            var table: [[String]] = [["", "workers", "measured", "min-max", "predicted", "error"]]
            for m in report.rows(in: section) {
                guard let predicted = m.marker.flatMap(Double.init), let workers = m.x else { continue }
                let error = (predicted - m.timing.median) / m.timing.median
                let name = m.peer.components(separatedBy: " @").first ?? m.peer
                errors.append((error, "\(m.series ?? section): \(name) at \(Int(workers))"))
                table.append([name, "\(Int(workers))", formatNanoseconds(m.perItem),
                              "\(formatNanoseconds(m.perItemMin))-\(formatNanoseconds(m.perItemMax))",
                              formatNanoseconds(predicted * 1e9 / Double(max(m.items, 1))), String(format: "%+.1f%%", error * 100)])
            }
            out += "\n\(section)\n" + align(table)
        }
        if let worst = errors.max(by: { abs($0.error) < abs($1.error) }) {
            let within = errors.filter { abs($0.error) <= 0.10 }.count
            out += String(format: "\n%d of %d predictions within 10 %% of the measured median; the largest error %+.1f %% (%@)\n",
                          within, errors.count, worst.error * 100, worst.what)
        }
        return out + notes(report)
    }

    private static func notes(_ report: Report) -> String {
        report.notes.isEmpty ? "" : "\n" + report.notes.map { "note: \($0)" }.joined(separator: "\n") + "\n"
    }

    private static func align(_ table: [[String]]) -> String {
        let widths = (0..<table[0].count).map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { row in
            row.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
