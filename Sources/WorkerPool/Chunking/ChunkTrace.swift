/// What happened to every chunk of the jobs a `ChunkTraceRecorder` watched: a value, read from the
/// recorder with `recorder.trace`, and `Codable` (times in nanoseconds) so that it can be saved and
/// replayed (`pool-bench simulate` reads it).
///
/// Every time is measured on the monotonic clock from the recorder's creation.
public struct ChunkTrace: Sendable, Equatable, Codable {
    /// One traced call (`map`, `starmap`, `imap`, …).
    public struct Job: Sendable, Equatable, Codable {
        /// The strategy that cut it (`fixed(64)` for a call given `chunksize: 64`).
        public var strategy: String
        /// Its number of items when known at submission (map), nil for a lazy input (imap).
        public var count: Int?
        /// The pool's number of workers.
        public var workers: Int
        /// When it was submitted.
        public var submitted: Duration
        /// Its chunks, in the order they finished.
        public var chunks: [Chunk]

        /// A job as recorded (the pool records jobs; this is for traces built or edited by hand).
        public init(strategy: String, count: Int?, workers: Int, submitted: Duration, chunks: [Chunk]) {
            self.strategy = strategy
            self.count = count
            self.workers = workers
            self.submitted = submitted
            self.chunks = chunks
        }
    }

    /// One chunk of a traced job.
    public struct Chunk: Sendable, Equatable, Codable {
        /// Its place among the job's chunks, in cutting order.
        public var index: Int
        /// The id of the worker that cut and ran it (`Pool.currentWorkerID`).
        public var worker: Int
        /// The position of its first item in the input, and its number of items.
        public var start: Int
        public var items: Int
        /// When the worker took the job's feed token to cut it.
        public var cut: Duration
        /// When the worker started it (after cutting and handing the token on).
        public var started: Duration
        /// When its results had been handed over.
        public var finished: Duration
        /// The time from `started` to `finished`, split: arguments through the codec, the bodies,
        /// results through the codec and handed over.
        public var arguments: Duration
        public var bodies: Duration
        public var results: Duration

        /// A chunk as recorded (for traces built or edited by hand).
        public init(index: Int, worker: Int, start: Int, items: Int, cut: Duration, started: Duration, finished: Duration,
                    arguments: Duration, bodies: Duration, results: Duration) {
            self.index = index
            self.worker = worker
            self.start = start
            self.items = items
            self.cut = cut
            self.started = started
            self.finished = finished
            self.arguments = arguments
            self.bodies = bodies
            self.results = results
        }

        /// From cutting to starting: the sizer, reading the input, handing the token on.
        public var dispatch: Duration { started - cut }

        private enum CodingKeys: String, CodingKey {
            case index, worker, start, items, cut, started, finished, arguments, bodies, results
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func time(_ key: CodingKeys) throws -> Duration { .nanoseconds(try c.decode(Int64.self, forKey: key)) }
            self.init(index: try c.decode(Int.self, forKey: .index), worker: try c.decode(Int.self, forKey: .worker),
                      start: try c.decode(Int.self, forKey: .start), items: try c.decode(Int.self, forKey: .items),
                      cut: try time(.cut), started: try time(.started), finished: try time(.finished),
                      arguments: try time(.arguments), bodies: try time(.bodies), results: try time(.results))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(worker, forKey: .worker)
            try c.encode(start, forKey: .start)
            try c.encode(items, forKey: .items)
            for (key, time) in [(CodingKeys.cut, cut), (.started, started), (.finished, finished),
                                (.arguments, arguments), (.bodies, bodies), (.results, results)] {
                try c.encode(time.nanosecondsClamped, forKey: key)
            }
        }
    }

    /// The traced jobs, in the order they were submitted.
    public var jobs: [Job]

    /// A trace of `jobs` (a recorder builds one; `simulate` reads one).
    public init(jobs: [Job]) {
        self.jobs = jobs
    }
}

extension ChunkTrace.Job {
    private enum CodingKeys: String, CodingKey {
        case strategy, count, workers, submitted, chunks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(strategy: try c.decode(String.self, forKey: .strategy), count: try c.decodeIfPresent(Int.self, forKey: .count),
                  workers: try c.decode(Int.self, forKey: .workers),
                  submitted: .nanoseconds(try c.decode(Int64.self, forKey: .submitted)),
                  chunks: try c.decode([ChunkTrace.Chunk].self, forKey: .chunks))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(strategy, forKey: .strategy)
        try c.encodeIfPresent(count, forKey: .count)
        try c.encode(workers, forKey: .workers)
        try c.encode(submitted.nanosecondsClamped, forKey: .submitted)
        try c.encode(chunks, forKey: .chunks)
    }
}
