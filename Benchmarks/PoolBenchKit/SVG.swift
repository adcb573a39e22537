import Foundation
import WorkerPool

/// Charts as SVG text, written by hand (no packages).
enum SVGChart {
    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    /// The chunking lab's chart: time per item relative to each line's best, against chunk size on a
    /// log axis; one line per shape (or codec) of fixed chunk sizes, the strategies as marked points at
    /// their mean chunk size, CPython's pick circled.
    static func chunks(_ report: Report) -> String {
        let points = report.measurements.filter { $0.x != nil && $0.series != nil }
        let seriesNames = points.compactMap(\.series).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let best = Dictionary(grouping: points, by: { $0.series! }).mapValues { $0.map(\.perItem).min() ?? 1 }
        func ratio(_ m: Measurement) -> Double { m.perItem / best[m.series!]! }
        let xs = points.map { $0.x! }
        let maxRatio = min(max(points.map(ratio).max() ?? 2, 2), 1000)
        let plot = Plot(width: 760, height: 460, left: 70, right: 190, top: 40, bottom: 60,
                        xRange: (log2(max(xs.min() ?? 1, 1)), log2(max(xs.max() ?? 2, 2))), yRange: (0, log10(maxRatio)))
        var svg = plot.header(title: report.title, xLabel: "items per chunk (log scale)", yLabel: "time / best of its line (log scale)")
        // Axes ticks.
        var tick = 1.0
        while tick <= (xs.max() ?? 1) {
            let x = plot.x(log2(tick))
            svg += "<line x1='\(x)' y1='\(plot.top)' x2='\(x)' y2='\(plot.height - plot.bottom)' stroke='#eee'/>"
            svg += "<text x='\(x)' y='\(plot.height - plot.bottom + 16)' font-size='11' text-anchor='middle'>\(Int(tick))</text>"
            tick *= 4
        }
        var lastLabelY = Double.infinity
        for value in [1.0, 1.1, 1.5, 2, 5, 10, 100, 1000] where value <= maxRatio {
            let y = plot.y(log10(value))
            if lastLabelY - y < 14 { continue }  // too close to the label below it to be read
            lastLabelY = y
            svg += "<line x1='\(plot.left)' y1='\(y)' x2='\(plot.width - plot.right)' y2='\(y)' stroke='#eee'/>"
            svg += "<text x='\(plot.left - 6)' y='\(y + 4)' font-size='11' text-anchor='end'>\(value == value.rounded() ? "\(Int(value))" : "\(value)")x</text>"
        }
        for (index, name) in seriesNames.enumerated() {
            let color = palette[index % palette.count]
            let fixed = points.filter { $0.series == name && $0.marker == nil }.sorted { $0.x! < $1.x! }
            let path = fixed.map { "\(plot.x(log2($0.x!))),\(plot.y(log10(ratio($0))))" }.joined(separator: " ")
            svg += "<polyline fill='none' stroke='\(color)' stroke-width='2' points='\(path)'/>"
            for m in fixed {
                svg += "<circle cx='\(plot.x(log2(m.x!)))' cy='\(plot.y(log10(ratio(m))))' r='2.5' fill='\(color)'><title>\(name) \(m.peer): \(formatNanoseconds(m.perItem))/item</title></circle>"
            }
            for m in points where m.series == name && m.marker != nil {
                let x = plot.x(log2(max(m.x!, 1))), y = plot.y(log10(ratio(m)))
                let title = "<title>\(name) \(m.marker == "cpython" ? "CPython heuristic" : m.peer): \(formatNanoseconds(m.perItem))/item</title>"
                if m.marker == "cpython" {
                    svg += "<circle cx='\(x)' cy='\(y)' r='7' fill='none' stroke='\(color)' stroke-width='2.5'>\(title)</circle>"
                } else {
                    svg += strategyMarker(m.peer, x: x, y: y, color: color, title: title)
                    if seriesNames.count == 1 {
                        svg += "<text x='\(x + 7)' y='\(y - 7)' font-size='9' fill='\(color)'>\(m.peer)</text>"
                    }
                }
            }
            let legendY = plot.top + 18 * Double(index)
            svg += "<line x1='\(plot.width - plot.right + 12)' y1='\(legendY)' x2='\(plot.width - plot.right + 32)' y2='\(legendY)' stroke='\(color)' stroke-width='2'/>"
            svg += "<text x='\(plot.width - plot.right + 36)' y='\(legendY + 4)' font-size='11'>\(name)</text>"
        }
        var legendY = plot.top + 18 * Double(seriesNames.count) + 10
        let legendX = plot.width - plot.right + 22
        svg += "<circle cx='\(legendX)' cy='\(legendY)' r='6' fill='none' stroke='#333' stroke-width='2'/>"
        svg += "<text x='\(legendX + 14)' y='\(legendY + 4)' font-size='11'>CPython heuristic</text>"
        for (kind, sample) in [("guided (mean chunk)", "guided"), ("adaptive (mean chunk)", "adaptive"), ("other strategy", "other")] {
            legendY += 18
            svg += strategyMarker(sample, x: legendX, y: legendY, color: "#333", title: "")
            svg += "<text x='\(legendX + 14)' y='\(legendY + 4)' font-size='11'>\(kind)</text>"
        }
        return svg + "</svg>\n"
    }

    /// A strategy's point: a diamond for guided, a square for adaptive, a triangle for anything else.
    private static func strategyMarker(_ name: String, x: Double, y: Double, color: String, title: String) -> String {
        if name.hasPrefix("guided") {
            return "<polygon points='\(x),\(y - 5) \(x + 5),\(y) \(x),\(y + 5) \(x - 5),\(y)' fill='white' stroke='\(color)' stroke-width='2'>\(title)</polygon>"
        }
        if name.hasPrefix("adaptive") {
            return "<rect x='\(x - 4)' y='\(y - 4)' width='8' height='8' fill='white' stroke='\(color)' stroke-width='2'>\(title)</rect>"
        }
        return "<polygon points='\(x),\(y - 5) \(x + 5),\(y + 4) \(x - 5),\(y + 4)' fill='white' stroke='\(color)' stroke-width='2'>\(title)</polygon>"
    }

    /// Every other command: per section, a horizontal bar per peer (time per item, log scale).
    static func bars(_ report: Report) -> String {
        let rowHeight = 18.0, sectionGap = 34.0
        let height = 60 + Double(report.sections.count) * sectionGap + Double(report.measurements.count) * rowHeight
        let values = report.measurements.map(\.perItem).filter { $0 > 0 && $0.isFinite }
        let low = log10(max(values.min() ?? 1, 0.1)) - 0.2, high = log10(max(values.max() ?? 10, 1)) + 0.1
        let plot = Plot(width: 900, height: height, left: 360, right: 120, top: 40, bottom: 20, xRange: (low, high), yRange: (0, 1))
        var svg = plot.header(title: report.title, xLabel: "", yLabel: "")
        var y = plot.top + 10
        for section in report.sections {
            svg += "<text x='10' y='\(y)' font-size='12' font-weight='bold'>\(escape(String(section.prefix(110))))</text>"
            y += 8
            for (index, m) in report.rows(in: section).enumerated() {
                y += rowHeight
                let width = max(plot.x(log10(max(m.perItem, 0.1))) - plot.left, 1)
                svg += "<text x='\(plot.left - 6)' y='\(y)' font-size='11' text-anchor='end'>\(escape(m.peer))</text>"
                svg += "<rect x='\(plot.left)' y='\(y - 11)' width='\(width)' height='13' fill='\(m.isSerial ? "#999" : palette[index % palette.count])'/>"
                svg += "<text x='\(plot.left + width + 4)' y='\(y)' font-size='11'>\(formatNanoseconds(m.perItem))</text>"
            }
            y += sectionGap - 8
        }
        return svg + "</svg>\n"
    }

    /// The chunking lab's timeline: per section, one Gantt chart per traced run (the best fixed
    /// size and every strategy), one row per worker, on one time axis per section. Each chunk is
    /// drawn as its stages: dispatch (grey), arguments (light), bodies (dark, alternating shades so
    /// neighbouring chunks show), results (light); white is idle.
    static func timeline(_ sections: [ChunksBench.Traces], title: String) -> String {
        let width = 960.0, left = 200.0, right = 150.0, rowHeight = 11.0, panelGap = 8.0
        let plotWidth = width - left - right
        var body = ""
        var y = 64.0
        let shades = ["#1f77b4", "#0b4f80"], light = "#9ecae1", results = "#fdae6b", dispatch = "#999"
        for section in sections {
            let counts = section.timeline.first.map { "\($0.job.count.map { "\($0) items, " } ?? "")\($0.job.workers) workers" } ?? ""
            body += "<text x='10' y='\(y)' font-size='13' font-weight='bold'>\(escape(section.section)), \(counts)</text>"
            y += 8
            let spans = section.timeline.map { seconds($0.job.breakdown.span) }
            let scale = plotWidth / max(spans.max() ?? 1, 1e-9)
            // A time axis for the section.
            let axisSpan = spans.max() ?? 0
            let tick = niceTick(axisSpan / 6)
            var t = 0.0
            while tick > 0 && t <= axisSpan {
                let x = left + t * scale
                body += "<text x='\(rounded(x))' y='\(y + 8)' font-size='9' text-anchor='middle' fill='#555'>\(formatNanoseconds(t * 1e9))</text>"
                t += tick
            }
            y += 12
            for (name, job) in section.timeline {
                let workers = job.chunks.map(\.worker).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }.sorted()
                let rows = max(job.workers, workers.count)
                let height = Double(rows) * rowHeight
                let breakdown = job.breakdown
                body += "<text x='\(left - 6)' y='\(y + height / 2 + 4)' font-size='11' text-anchor='end'>\(escape(name))</text>"
                body += "<rect x='\(left)' y='\(y)' width='\(plotWidth)' height='\(height)' fill='white' stroke='#ccc'/>"
                for chunk in job.chunks {
                    let row = Double(workers.firstIndex(of: chunk.worker) ?? 0)
                    let top = y + row * rowHeight + 1, h = rowHeight - 2
                    var x = left + seconds(chunk.cut - job.submitted) * scale
                    for (duration, color) in [(chunk.dispatch, dispatch), (chunk.arguments, light),
                                              (chunk.bodies, shades[chunk.index % 2]), (chunk.results, results)] {
                        let w = seconds(duration) * scale
                        if w >= 0.05 {
                            body += "<rect x='\(rounded(x))' y='\(top)' width='\(rounded(max(w, 0.2)))' height='\(h)' fill='\(color)'/>"
                        }
                        x += w
                    }
                }
                body += "<text x='\(left + plotWidth + 6)' y='\(y + height / 2 + 4)' font-size='10'>"
                    + "\(formatNanoseconds(seconds(breakdown.span) * 1e9)), imbalance \(String(format: "%.2f", breakdown.imbalance))</text>"
                y += height + panelGap
            }
            y += 16
        }
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(y + 30))' font-family='sans-serif'>"
        svg += "<rect width='100%' height='100%' fill='white'/>"
        svg += "<text x='\(width / 2)' y='20' font-size='13' text-anchor='middle'>\(escape(title)): timeline of one traced run each</text>"
        var legendX = left
        for (label, color) in [("dispatch", dispatch), ("arguments", light), ("bodies", shades[0]), ("results", results), ("idle", "white")] {
            svg += "<rect x='\(legendX)' y='32' width='12' height='10' fill='\(color)' stroke='#999'/>"
            svg += "<text x='\(legendX + 16)' y='41' font-size='11'>\(label)</text>"
            legendX += 90
        }
        svg += "<text x='\(width / 2)' y='\(Int(y + 18))' font-size='11' text-anchor='middle' fill='#555'>\(escape(Machine.line))</text>"
        return svg + body + "</svg>\n"
    }

    /// `pool-bench simulate`'s chart: per workload, each strategy's predicted time as a ratio to
    /// the best fixed size, against the number of workers (both on log scales).
    static func simulation(_ report: Report) -> String {
        let panelHeight = 300.0, width = 760.0
        var svg = ""
        var top = 40.0
        for section in report.sections {
            let rows = report.rows(in: section)
            let counts = rows.compactMap(\.x).reduce(into: [Double]()) { if !$0.contains($1) { $0.append($1) } }
            let peers = rows.map(\.peer).reduce(into: [String]()) { if !$0.contains($1) && $1 != "best fixed" { $0.append($1) } }
            func ratio(_ peer: String, _ count: Double) -> Double? {
                guard let m = rows.first(where: { $0.peer == peer && $0.x == count }),
                      let best = rows.first(where: { $0.peer == "best fixed" && $0.x == count }) else { return nil }
                return m.perItem / best.perItem
            }
            let maxRatio = min(max(peers.flatMap { p in counts.compactMap { ratio(p, $0) } }.max() ?? 2, 2), 1000)
            let plot = Plot(width: width, height: panelHeight, left: 70, right: 190, top: 30, bottom: 50,
                            xRange: (0, log2(max(counts.max() ?? 2, 2))), yRange: (0, log10(maxRatio)))
            svg += "<g transform='translate(0,\(top))'>"
            svg += "<text x='\(width / 2)' y='16' font-size='12' text-anchor='middle'>\(escape(String(section.prefix(120))))</text>"
            svg += "<rect x='\(plot.left)' y='\(plot.top)' width='\(width - plot.left - plot.right)' height='\(panelHeight - plot.top - plot.bottom)' fill='none' stroke='#999'/>"
            for count in counts {
                let x = plot.x(log2(count))
                svg += "<line x1='\(x)' y1='\(plot.top)' x2='\(x)' y2='\(panelHeight - plot.bottom)' stroke='#eee'/>"
                svg += "<text x='\(x)' y='\(panelHeight - plot.bottom + 14)' font-size='10' text-anchor='middle'>\(Int(count))</text>"
            }
            svg += "<text x='\((plot.left + width - plot.right) / 2)' y='\(panelHeight - plot.bottom + 30)' font-size='11' text-anchor='middle'>workers (log scale)</text>"
            var lastLabelY = Double.infinity
            for value in [1.0, 1.1, 1.5, 2, 5, 10, 100, 1000] where value <= maxRatio {
                let y = plot.y(log10(value))
                if lastLabelY - y < 14 { continue }
                lastLabelY = y
                svg += "<line x1='\(plot.left)' y1='\(y)' x2='\(width - plot.right)' y2='\(y)' stroke='#eee'/>"
                svg += "<text x='\(plot.left - 6)' y='\(y + 4)' font-size='10' text-anchor='end'>\(value == value.rounded() ? "\(Int(value))" : "\(value)")x</text>"
            }
            svg += "<text transform='translate(16,\((plot.top + panelHeight - plot.bottom) / 2)) rotate(-90)' font-size='11' text-anchor='middle'>time / best fixed size</text>"
            for (index, peer) in peers.enumerated() {
                let color = palette[index % palette.count]
                let dash = index >= palette.count ? " stroke-dasharray='4 3'" : ""
                let points = counts.compactMap { count in ratio(peer, count).map { "\(plot.x(log2(count))),\(plot.y(log10(max($0, 1))))" } }
                svg += "<polyline fill='none' stroke='\(color)' stroke-width='2'\(dash) points='\(points.joined(separator: " "))'><title>\(escape(peer))</title></polyline>"
                let legendY = plot.top + 16 * Double(index)
                svg += "<line x1='\(width - plot.right + 12)' y1='\(legendY)' x2='\(width - plot.right + 32)' y2='\(legendY)' stroke='\(color)' stroke-width='2'\(dash)/>"
                svg += "<text x='\(width - plot.right + 36)' y='\(legendY + 4)' font-size='11'>\(escape(peer))</text>"
            }
            svg += "</g>"
            top += panelHeight + 10
        }
        let header = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(top + 30))' font-family='sans-serif'>"
            + "<rect width='100%' height='100%' fill='white'/>"
            + "<text x='\(width / 2)' y='20' font-size='13' text-anchor='middle'>\(escape(report.title))</text>"
            + "<text x='\(width / 2)' y='\(Int(top + 16))' font-size='11' text-anchor='middle' fill='#555'>\(escape(Machine.line)), predicted</text>"
        return header + svg + "</svg>\n"
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    private static func niceTick(_ raw: Double) -> Double {
        guard raw > 0 else { return 0 }
        let power = pow(10, floor(log10(raw)))
        for step in [1.0, 2, 5, 10] where step * power >= raw { return step * power }
        return 10 * power
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    private struct Plot {
        let width: Double, height: Double, left: Double, right: Double, top: Double, bottom: Double
        let xRange: (Double, Double), yRange: (Double, Double)

        func x(_ value: Double) -> Double {
            let span = max(xRange.1 - xRange.0, 1e-9)
            return (left + (value - xRange.0) / span * (width - left - right)).rounded(toPlaces: 1)
        }
        func y(_ value: Double) -> Double {
            let span = max(yRange.1 - yRange.0, 1e-9)
            return (height - bottom - (value - yRange.0) / span * (height - top - bottom)).rounded(toPlaces: 1)
        }
        func header(title: String, xLabel: String, yLabel: String) -> String {
            var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(height))' font-family='sans-serif'>"
            svg += "<rect width='100%' height='100%' fill='white'/>"
            svg += "<text x='\(width / 2)' y='20' font-size='13' text-anchor='middle'>\(escape(title))</text>"
            svg += "<text x='\(width / 2)' y='\(height - 12)' font-size='11' text-anchor='middle' fill='#555'>\(escape(Machine.line))</text>"
            if !xLabel.isEmpty {
                svg += "<text x='\((left + width - right) / 2)' y='\(height - bottom + 34)' font-size='12' text-anchor='middle'>\(xLabel)</text>"
                svg += "<text transform='translate(16,\((top + height - bottom) / 2)) rotate(-90)' font-size='12' text-anchor='middle'>\(yLabel)</text>"
                svg += "<rect x='\(left)' y='\(top)' width='\(width - left - right)' height='\(height - top - bottom)' fill='none' stroke='#999'/>"
            }
            return svg
        }
    }
}

private extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
