import Foundation
import WorkerPool

/// Turns what was recorded (a `ChunkTrace` of one workload, or a CSV of item costs) into the
/// simulator's `WorkloadModel`.
public enum TraceReader {
    /// A model from the traced jobs of one workload (all jobs run the same items on the same pool,
    /// with different chunk sizes, as `pool-bench chunks --trace` records them).
    ///
    /// - Item costs: from the job with the smallest chunks among those whose chunks' bodies take
    ///   at least 2 µs (the median chunk; below that, the clock reads around the bodies would
    ///   show), each chunk's body time spread evenly over its items; with several recordings of
    ///   that size, each item's lowest.
    /// - `perChunk` and `perItem`: a least-squares line through the codec time (arguments and
    ///   results) of the chunks against their size, one point per job and size (the median).
    /// - `dispatch`: the median time from cut to start; `handoff`: the median time from one
    ///   chunk's start (when the token went back) to the next chunk's cut by a worker that was
    ///   waiting for it; `perJob`: the median of each call's time (`walls`, seconds, one per job,
    ///   when the recording has them) outside its chunks' span, or else twice the median time from
    ///   submission to the first cut.
    ///
    /// - Throws: `TraceError` when no job of the trace covers its whole input.
    public static func model(name: String, trace: ChunkTrace, walls: [Double]? = nil) throws -> WorkloadModel {
        let complete = trace.jobs.filter { job in
            guard let count = job.count, count > 0 else { return false }
            return job.chunks.reduce(0) { $0 + $1.items } == count
        }
        guard let first = complete.first, let count = first.count else {
            throw TraceError(message: "the trace of \(name) has no job whose chunks cover its whole input (a map of a known count)")
        }
        let sameInput = complete.filter { $0.count == count }
        func ns(_ d: Duration) -> Double { Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9 }
        func median(_ values: [Double]) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        // Item costs.
        let ranked = sameInput.map { job in (job: job, meanSize: Double(count) / Double(job.chunks.count),
                                             medianBodies: median(job.chunks.map { ns($0.bodies) })) }
        let fine = ranked.filter { $0.medianBodies >= 2_000 }.min { $0.meanSize < $1.meanSize }
            ?? ranked.max { $0.medianBodies < $1.medianBodies }!
        // Every recording of that size: an item's cost is its lowest (a body can only be slowed,
        // by another thread taking its core, never sped up).
        var costs = Array(repeating: Double.infinity, count: count)
        for job in sameInput where job.strategy == fine.job.strategy {
            for chunk in job.chunks where chunk.items > 0 {
                let each = ns(chunk.bodies) / Double(chunk.items)
                for index in chunk.start..<min(chunk.start + chunk.items, count) { costs[index] = min(costs[index], each) }
            }
        }
        // Codec line.
        var points: [(size: Double, codec: Double)] = []
        for job in trace.jobs {
            for (size, chunks) in Dictionary(grouping: job.chunks, by: \.items) where size > 0 {
                points.append((Double(size), median(chunks.map { ns($0.arguments) + ns($0.results) })))
            }
        }
        let (perChunk, perItem) = fitLine(points)
        // Dispatch, hand-off, per job.
        let allChunks = trace.jobs.flatMap(\.chunks)
        let dispatch = median(allChunks.map { ns($0.started) - ns($0.cut) })
        var handoffs: [Double] = []
        for job in trace.jobs {
            let ordered = job.chunks.sorted { $0.index < $1.index }
            var lastFinish: [Int: Double] = [:]
            for (previous, chunk) in zip(ordered, ordered.dropFirst()) {
                lastFinish[previous.worker] = ns(previous.finished)
                // A worker that has not run a chunk of this job yet has been waiting since the submission.
                let idleSince = lastFinish[chunk.worker] ?? ns(job.submitted)
                if idleSince < ns(previous.started), chunk.worker != previous.worker {
                    let gap = ns(chunk.cut) - ns(previous.started)
                    if gap > 0 { handoffs.append(gap) }
                }
            }
        }
        // Per job: the time outside the chunks' schedule, from the first cut back to the call and
        // from the last chunk's end to the caller's return; without the callers' times, twice the
        // wait for the first cut.
        var perJob: Double
        if let walls, walls.count == trace.jobs.count {
            perJob = median(zip(trace.jobs, walls).compactMap { job, wall in
                guard let first = job.chunks.map({ ns($0.cut) }).min(), let last = job.chunks.map({ ns($0.finished) }).max() else { return nil }
                return wall * 1e9 - (last - first)
            })
        } else {
            perJob = 2 * median(trace.jobs.compactMap { job in job.chunks.map { ns($0.cut) }.min().map { $0 - ns(job.submitted) } })
        }
        return WorkloadModel(name: name, costs: costs,
                             overhead: OverheadModel(dispatch: max(dispatch, 0), handoff: median(handoffs), perChunk: perChunk,
                                                     perItem: perItem, perJob: max(perJob, 0)))
    }

    /// Least squares `y = a + b x`, both clamped at 0; a flat line through the mean with one x.
    static func fitLine(_ points: [(size: Double, codec: Double)]) -> (Double, Double) {
        guard !points.isEmpty else { return (0, 0) }
        let n = Double(points.count)
        let meanX = points.reduce(0) { $0 + $1.size } / n, meanY = points.reduce(0) { $0 + $1.codec } / n
        var sxy = 0.0, sxx = 0.0
        for (x, y) in points {
            sxy += (x - meanX) * (y - meanY)
            sxx += (x - meanX) * (x - meanX)
        }
        let slope = sxx > 0 ? max(sxy / sxx, 0) : 0
        return (max(meanY - slope * meanX, 0), slope)
    }

    /// Item costs from a CSV: one cost per line in microseconds (the first column when a line has
    /// several); blank lines, lines starting with `#` and a header line are skipped.
    ///
    /// - Throws: `TraceError` naming the line of a value that is not a non-negative number, or
    ///   for a file without any cost.
    public static func costs(csv text: String) throws -> [Double] {
        var costs: [Double] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let field = line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if field.isEmpty || field.hasPrefix("#") { continue }
            guard let value = Double(field), value.isFinite, value >= 0 else {
                if costs.isEmpty && Double(field) == nil { continue }  // a header
                throw TraceError(message: "line \(number + 1): \"\(field)\" is not a cost in microseconds")
            }
            costs.append(value * 1_000)
        }
        guard !costs.isEmpty else { throw TraceError(message: "no item costs in the CSV") }
        return costs
    }
}

/// A trace or cost file that `pool-bench simulate` cannot use.
public struct TraceError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
