import WorkerPool

/// What the simulator needs to know about a pool's costs, all in nanoseconds.
///
/// The model of one chunk, as the pool runs it: a worker takes the job's feed token (at once if
/// the token is waiting; `handoff` after it was put back if the worker was waiting for it), spends
/// `dispatch` cutting the chunk and putting the token back (the next worker can only cut after
/// that: cutting is serial), then runs the chunk on its own: `perChunk + items × perItem` of codec
/// and hand-over, plus the items' own costs. A job adds `perJob` (waking the first worker, and the
/// caller at the end).
public struct OverheadModel: Sendable, Codable, Equatable {
    public var dispatch: Double
    public var handoff: Double
    public var perChunk: Double
    public var perItem: Double
    public var perJob: Double

    public init(dispatch: Double, handoff: Double, perChunk: Double, perItem: Double, perJob: Double) {
        self.dispatch = dispatch
        self.handoff = handoff
        self.perChunk = perChunk
        self.perItem = perItem
        self.perJob = perJob
    }

    /// No overhead at all: the closed-form cases of the tests.
    public static let zero = OverheadModel(dispatch: 0, handoff: 0, perChunk: 0, perItem: 0, perJob: 0)
}

/// A workload to simulate: every item's cost (nanoseconds of body) and the pool's overheads.
public struct WorkloadModel: Sendable, Equatable {
    public var name: String
    public var costs: [Double]
    public var overhead: OverheadModel

    public init(name: String, costs: [Double], overhead: OverheadModel) {
        self.name = name
        self.costs = costs
        self.overhead = overhead
    }
}

/// One simulated chunk.
public struct SimulatedChunk: Sendable, Equatable {
    public var worker: Int
    public var start: Int
    public var items: Int
    public var cut: Double
    public var started: Double
    public var finished: Double
    public var bodies: Double
}

/// The outcome of one simulated job.
public struct SimulatedRun: Sendable {
    /// From submission to the caller's return, in nanoseconds.
    public var makespan: Double
    public var chunks: [SimulatedChunk]

    public var sizes: [Int] { chunks.map(\.items) }
}

/// A discrete-event simulation of one `map` on a pool of `workers` workers: the strategy's own
/// sizer (`ChunkingStrategy.makeSizer`) cuts the chunks, hearing of each chunk's time before the
/// first cut after its end, as in the pool; time is virtual.
public enum Simulator {
    public static func run(_ strategy: ChunkingStrategy, workers: Int, model: WorkloadModel, keepChunks: Bool = true) -> SimulatedRun {
        let count = model.costs.count
        let overhead = model.overhead
        var sizer = strategy.makeSizer(for: ChunkingContext(workers: workers, count: count))
        // Prefix sums, so a chunk's cost is one subtraction.
        var prefix = [0.0]
        prefix.reserveCapacity(count + 1)
        for cost in model.costs { prefix.append(prefix.last! + cost) }

        var free = MinHeap<Double>()
        for worker in 0..<workers { free.push(0, worker) }
        var unreported = MinHeap<Double>()
        var pendingChunks: [Int: ChunkMeasurement] = [:]
        var token = 0.0  // when the token is next on the channel
        var next = 0
        var chunks: [SimulatedChunk] = []
        var end = 0.0
        var serial = 0
        while next < count {
            let (freeAt, worker) = free.pop()!
            let cut = freeAt >= token ? freeAt : token + overhead.handoff
            while let (finished, id) = unreported.peek(), finished <= cut {
                _ = unreported.pop()
                sizer.chunkFinished(pendingChunks.removeValue(forKey: id)!)
            }
            let size = min(max(sizer.nextChunkSize(remaining: count - next), 1), count - next)
            let started = cut + overhead.dispatch
            token = started
            let bodies = prefix[next + size] - prefix[next]
            let codec = overhead.perChunk + Double(size) * overhead.perItem
            let finished = started + codec + bodies
            let id = serial
            serial += 1
            pendingChunks[id] = ChunkMeasurement(
                items: size, duration: .nanoseconds(Int64(codec + bodies)),
                stages: ChunkStages(dispatch: .nanoseconds(Int64(overhead.dispatch)), arguments: .nanoseconds(Int64(codec / 2)),
                                    bodies: .nanoseconds(Int64(bodies)), results: .nanoseconds(Int64(codec - codec / 2))))
            unreported.push(finished, id)
            if keepChunks {
                chunks.append(SimulatedChunk(worker: worker, start: next, items: size, cut: cut, started: started,
                                             finished: finished, bodies: bodies))
            }
            end = max(end, finished)
            free.push(finished, worker)
            next += size
        }
        return SimulatedRun(makespan: end + overhead.perJob, chunks: chunks)
    }

    /// The worker counts `simulate` predicts: 1, 2, 4, … 1,024.
    public static let workerCounts = (0...10).map { 1 << $0 }
}

/// A binary min-heap of (key, id) pairs; ties go to the smaller id, so runs are reproducible.
struct MinHeap<Key: Comparable> {
    private var items: [(key: Key, id: Int)] = []

    var isEmpty: Bool { items.isEmpty }

    func peek() -> (Key, Int)? { items.first.map { ($0.key, $0.id) } }

    private func less(_ a: Int, _ b: Int) -> Bool {
        items[a].key < items[b].key || (items[a].key == items[b].key && items[a].id < items[b].id)
    }

    mutating func push(_ key: Key, _ id: Int) {
        items.append((key, id))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (Key, Int)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && less(left, smallest) { smallest = left }
            if right < items.count && less(right, smallest) { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return (top.key, top.id)
    }
}
