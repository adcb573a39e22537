extension ChunkTrace.Job {
    /// Where a job's worker time went, as shares of `workers × span`.
    public struct Breakdown: Sendable, Equatable {
        /// From submission to the last chunk's end.
        public var span: Duration
        /// The shares of the workers' time (`workers × span`) spent in bodies, in the codec
        /// (arguments and results, with the results' hand-over), in dispatch (cutting chunks and
        /// handing the feed token on), and idle: waiting for work or for the token, before the
        /// first chunk and after a worker's last. They add up to 1.
        public var bodies: Double
        public var codec: Double
        public var dispatch: Double
        public var idle: Double
        /// The busiest worker's busy time (from each cut to its chunk's end) over the mean of all
        /// the pool's workers: 1 when every worker was busy equally long, `workers` when one
        /// worker did everything.
        public var imbalance: Double
        /// The number of chunks and their mean size.
        public var chunks: Int
        public var meanChunk: Double
    }

    /// The job's breakdown, from the chunks recorded so far.
    public var breakdown: Breakdown {
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let end = chunks.map(\.finished).max() ?? submitted
        let span = end - submitted
        let capacity = max(seconds(span) * Double(max(workers, 1)), .leastNonzeroMagnitude)
        var bodies = 0.0, codec = 0.0, dispatch = 0.0
        var busy: [Int: Double] = [:]
        for chunk in chunks {
            bodies += seconds(chunk.bodies)
            codec += seconds(chunk.arguments) + seconds(chunk.results)
            dispatch += seconds(chunk.dispatch)
            busy[chunk.worker, default: 0] += seconds(chunk.finished - chunk.cut)
        }
        let meanBusy = busy.values.reduce(0, +) / Double(max(workers, busy.count, 1))
        let items = chunks.reduce(0) { $0 + $1.items }
        let bodyShare = bodies / capacity, codecShare = codec / capacity, dispatchShare = dispatch / capacity
        return Breakdown(span: span, bodies: bodyShare, codec: codecShare, dispatch: dispatchShare,
                         idle: max(0, 1 - bodyShare - codecShare - dispatchShare),
                         imbalance: meanBusy > 0 ? (busy.values.max() ?? 0) / meanBusy : 1,
                         chunks: chunks.count, meanChunk: chunks.isEmpty ? 0 : Double(items) / Double(chunks.count))
    }
}
