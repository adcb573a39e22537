/// What a sizer knows about its job when it is made.
public struct ChunkingContext: Sendable {
    /// The pool's number of workers.
    public var workers: Int
    /// How many items the job has, or nil when it is read lazily (imap).
    public var count: Int?

    /// The context of a job on `workers` workers with `count` items (nil: a lazy input).
    public init(workers: Int, count: Int?) {
        self.workers = workers
        self.count = count
    }
}

/// Decides one job's chunk sizes. The pool calls a job's sizer from one thread at a time (whichever
/// worker cuts the next chunk), never while holding a lock, so a sizer needs no locking of its own.
///
/// A sizer is a value: the pool makes one per job (`ChunkingStrategy.makeSizer(for:)`), and a
/// simulator can drive the same sizer with times of its own (`pool-bench simulate` does).
public protocol ChunkSizer: Sendable {
    /// The size of the next chunk. `remaining` is the number of items not yet cut, or nil when
    /// the input is lazy. A result below 1 is taken as 1; the pool never cuts more than remains.
    mutating func nextChunkSize(remaining: Int?) -> Int
    /// A chunk of `items` items took `duration` on its worker (decoding its arguments, running the
    /// bodies, encoding the results). Reported before the next cut that follows the chunk's end.
    mutating func chunkFinished(items: Int, duration: Duration)
    /// What the pool measured about a finished chunk. Reported before the next cut that follows
    /// the chunk's end, in the order the chunks finished. The default passes `items` and
    /// `duration` on to `chunkFinished(items:duration:)`.
    mutating func chunkFinished(_ measurement: ChunkMeasurement)
    /// Whether the pool should time chunks for `chunkFinished` (reading the clock twice per chunk).
    var measuresTime: Bool { get }
    /// Whether the pool should also time each chunk's stages (`ChunkMeasurement.stages`: about
    /// five clock reads per chunk instead of two). Implies `measuresTime`.
    var measuresStages: Bool { get }
}

extension ChunkSizer {
    public mutating func chunkFinished(items: Int, duration: Duration) {}
    public mutating func chunkFinished(_ measurement: ChunkMeasurement) {
        chunkFinished(items: measurement.items, duration: measurement.duration)
    }
    public var measuresTime: Bool { false }
    public var measuresStages: Bool { false }
}

/// One finished chunk as its job's sizer hears of it.
public struct ChunkMeasurement: Sendable, Equatable {
    /// The chunk's number of items.
    public var items: Int
    /// From the start of the chunk on its worker to the hand-over of its results: arguments through
    /// the codec, the bodies, results through the codec and into their place.
    public var duration: Duration
    /// The same time split by stage, with the dispatch before it; nil unless the sizer's
    /// `measuresStages` is true or the job is traced.
    public var stages: ChunkStages?

    /// A chunk of `items` items that took `duration`, with its stage times when they were taken.
    public init(items: Int, duration: Duration, stages: ChunkStages? = nil) {
        self.items = items
        self.duration = duration
        self.stages = stages
    }
}

/// Where one chunk's time went, stage by stage, on the worker that ran it.
public struct ChunkStages: Sendable, Equatable {
    /// From taking the job's feed token to starting the chunk: asking the sizer, reading the
    /// input, putting the token back for the next worker. Per-chunk overhead.
    public var dispatch: Duration
    /// Encoding and decoding the chunk's arguments (zero with `.passthrough`).
    public var arguments: Duration
    /// The bodies, back to back.
    public var bodies: Duration
    /// Encoding and decoding the results and handing them over (into the map's array, or to the
    /// imap iterator).
    public var results: Duration

    /// One chunk's time, stage by stage.
    public init(dispatch: Duration, arguments: Duration, bodies: Duration, results: Duration) {
        self.dispatch = dispatch
        self.arguments = arguments
        self.bodies = bodies
        self.results = results
    }

    /// Everything but the bodies: the chunk's overhead.
    public var overhead: Duration { dispatch + arguments + results }
}
