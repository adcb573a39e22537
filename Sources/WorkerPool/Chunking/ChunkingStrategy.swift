/// How a bulk call (`map`, `starmap`, `imap`, `imapUnordered`) cuts its input into chunks.
///
/// A chunk is the unit of work a worker takes: its arguments are encoded together, its body calls
/// run back to back, its results come back together. Big chunks amortize that per-chunk cost; small
/// chunks balance the load when item costs vary. Strategies cut chunks lazily, when a worker asks
/// for work, so they can use what was measured so far.
///
/// Precedence in one call: an explicit `chunksize:` wins, then the call's `chunking:`, then the
/// pool's. `imap` and `imapUnordered` keep CPython's chunk size of 1 unless the call gives
/// `chunksize:` or `chunking:`.
///
/// A strategy can also carry a trace recorder (`traced(by:)`), which records every chunk of the
/// calls that use it.
public struct ChunkingStrategy: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case cpython
        case fixed(Int)
        case guided(minimum: Int)
        case adaptive(target: Duration)
        case factoring(minimum: Int)
        case trapezoid(first: Int?, last: Int)
        case measuredFixed(probes: Int)
        case custom(name: String, make: @Sendable (ChunkingContext) -> any ChunkSizer)
    }

    let kind: Kind
    /// Where the chunks of the calls using this strategy are recorded; nil (the default) records nothing.
    let recorder: ChunkTraceRecorder?

    init(kind: Kind, recorder: ChunkTraceRecorder? = nil) {
        self.kind = kind
        self.recorder = recorder
    }

    /// CPython's heuristic: `ceil(count / (workers * 4))`, fixed for the whole job, so about four
    /// chunks per worker. One chunk per item when the count is unknown. The default.
    public static let cpython = ChunkingStrategy(kind: .cpython)

    /// Every chunk holds `size` items (the last one what is left). `size` must be at least 1.
    public static func fixed(_ size: Int) -> ChunkingStrategy { ChunkingStrategy(kind: .fixed(size)) }

    /// OpenMP's guided schedule: each new chunk is `remaining / (2 * workers)` items, never fewer
    /// than `minimum`: big chunks first, smaller ones toward the end to even out the finish.
    /// With an unknown count (imap) every chunk is `minimum` items. `minimum` must be at least 1.
    public static func guided(minimum: Int = 1) -> ChunkingStrategy { ChunkingStrategy(kind: .guided(minimum: minimum)) }

    /// Measures how long items take as the job runs and sizes the next chunks so that each takes
    /// about `target` (see `AdaptiveChunkSizer`): it starts with one item and doubles until a chunk
    /// has finished, then sizes chunks as `target / time-per-item`, growing at most 8× at a time
    /// and shrinking at once when items turn out slow. With a known count no chunk is larger than
    /// `remaining / (2 * workers)` items (guided's share) unless that would take less than a
    /// sixteenth of `target` (and then no larger than a chunk already measured), so the end of the
    /// job is cut finer and finer and the workers finish together whichever way item costs change
    /// along the input. Works with an unknown count (imap). `target` must be positive.
    public static func adaptive(target: Duration) -> ChunkingStrategy { ChunkingStrategy(kind: .adaptive(target: target)) }

    /// Factoring (Hummel, Schonberg and Flynn, "Factoring: a method for scheduling parallel loops",
    /// CACM 35(8), 1992), its FAC2 rule: chunks go out in batches of `workers` equal chunks; each
    /// batch's chunks hold `ceil(remaining / (2 * workers))` items, `remaining` counted when the
    /// batch starts, and never fewer than `minimum`. Half of what is left goes out per batch.
    /// With an unknown count (imap) every chunk is `minimum` items. `minimum` must be at least 1.
    public static func factoring(minimum: Int = 1) -> ChunkingStrategy { ChunkingStrategy(kind: .factoring(minimum: minimum)) }

    /// Trapezoid self-scheduling (Tzen and Ni, "Trapezoid self-scheduling: a practical scheduling
    /// scheme for parallel compilers", IEEE TPDS 4(1), 1993): chunk sizes fall linearly from
    /// `first` to `last` (see `TrapezoidChunkSizer` for the exact sizes). `first` defaults to
    /// `ceil(count / (2 * workers))`, the paper's choice. With an unknown count (imap) every chunk
    /// is `last` items. `last` must be at least 1, and `first`, when given, at least `last`.
    public static func trapezoid(first: Int? = nil, last: Int = 1) -> ChunkingStrategy {
        ChunkingStrategy(kind: .trapezoid(first: first, last: last))
    }

    /// A fixed size chosen from measurements: Kruskal and Weiss's fixed-size chunking
    /// ("Allocating independent subtasks on parallel processors", IEEE TSE 11(10), 1985). The first
    /// `probes` chunks (of 1, 2, 4, … items) measure the per-chunk overhead h (dispatch and
    /// codec) and the spread σ of item times; then every chunk has their optimal size
    /// `(√2 · n · h / (σ · p · √ln p))^(2/3)` for n items left and p workers (see
    /// `MeasuredFixedChunkSizer`). Its model assumes item times drawn independently from one
    /// distribution: it does well on uniform and randomly mixed costs, badly when costs trend along
    /// the input. `probes` must be at least 2.
    public static func measuredFixed(probes: Int = 8) -> ChunkingStrategy { ChunkingStrategy(kind: .measuredFixed(probes: probes)) }

    /// A strategy of your own: `makeSizer` is called once per job, on the submitting thread, and
    /// the sizer it returns then decides that job's chunk sizes (see `ChunkSizer`).
    public static func custom(name: String, _ makeSizer: @escaping @Sendable (ChunkingContext) -> any ChunkSizer) -> ChunkingStrategy {
        ChunkingStrategy(kind: .custom(name: name, make: makeSizer))
    }

    /// The same strategy, recording every chunk of the calls that use it into `recorder` (see
    /// `ChunkTraceRecorder`). A call given `chunksize:` still records into the recorder of its
    /// `chunking:` (or of the pool's strategy).
    public func traced(by recorder: ChunkTraceRecorder) -> ChunkingStrategy {
        ChunkingStrategy(kind: kind, recorder: recorder)
    }

    /// A short name for tables: `cpython`, `fixed(64)`, `guided(4)`, `adaptive(1ms)`,
    /// `factoring(1)`, `trapezoid`, `trapezoid(100…1)`, `measured-fixed(8)` or the custom name.
    public var description: String {
        switch kind {
        case .cpython: return "cpython"
        case .fixed(let size): return "fixed(\(size))"
        case .guided(let minimum): return "guided(\(minimum))"
        case .adaptive(let target): return "adaptive(\(formatDuration(target)))"
        case .factoring(let minimum): return "factoring(\(minimum))"
        case .trapezoid(nil, 1): return "trapezoid"
        case .trapezoid(let first, let last): return "trapezoid(\(first.map(String.init) ?? "auto")…\(last))"
        case .measuredFixed(let probes): return "measured-fixed(\(probes))"
        case .custom(let name, _): return name
        }
    }

    /// Checks the strategy's parameters.
    ///
    /// - Throws: `PoolError.invalidArgument` naming `argument` when a size is below 1, the
    ///   target is not positive, a trapezoid's `first` is below its `last`, or fewer than 2 probes.
    func validate(argument: String) throws {
        switch kind {
        case .cpython, .custom:
            return
        case .fixed(let size):
            if size < 1 { throw PoolError.invalidArgument("\(argument): fixed chunk size must be at least 1, got \(size)") }
        case .guided(let minimum):
            if minimum < 1 { throw PoolError.invalidArgument("\(argument): guided minimum must be at least 1, got \(minimum)") }
        case .adaptive(let target):
            if target <= .zero { throw PoolError.invalidArgument("\(argument): adaptive target must be positive, got \(target)") }
        case .factoring(let minimum):
            if minimum < 1 { throw PoolError.invalidArgument("\(argument): factoring minimum must be at least 1, got \(minimum)") }
        case .trapezoid(let first, let last):
            if last < 1 { throw PoolError.invalidArgument("\(argument): trapezoid last must be at least 1, got \(last)") }
            if let first, first < last {
                throw PoolError.invalidArgument("\(argument): trapezoid first must be at least last (\(last)), got \(first)")
            }
        case .measuredFixed(let probes):
            if probes < 2 { throw PoolError.invalidArgument("\(argument): measured-fixed probes must be at least 2, got \(probes)") }
        }
    }

    /// The sizer for one job: what the pool calls to cut that job's chunks.
    public func makeSizer(for context: ChunkingContext) -> any ChunkSizer {
        switch kind {
        case .cpython: return FixedChunkSizer(size: Self.cpythonChunkSize(count: context.count, workers: context.workers))
        case .fixed(let size): return FixedChunkSizer(size: size)
        case .guided(let minimum): return GuidedChunkSizer(minimum: minimum, workers: context.workers)
        case .adaptive(let target): return AdaptiveChunkSizer(target: target, workers: context.workers)
        case .factoring(let minimum): return FactoringChunkSizer(minimum: minimum, workers: context.workers)
        case .trapezoid(let first, let last):
            return TrapezoidChunkSizer(first: first, last: last, workers: context.workers, count: context.count)
        case .measuredFixed(let probes): return MeasuredFixedChunkSizer(probes: probes, workers: context.workers)
        case .custom(_, let make): return make(context)
        }
    }

    /// CPython's `divmod(len, workers * 4)` rounded up; 1 for an unknown or empty count.
    public static func cpythonChunkSize(count: Int?, workers: Int) -> Int {
        guard let count, count > 0 else { return 1 }
        // Without CPython's `count + per - 1`, which overflows for counts near `Int.max`.
        let workers = max(workers, 1)
        let per = workers > Int.max / 4 ? Int.max : workers * 4
        return count / per + (count % per == 0 ? 0 : 1)
    }

    /// The chunk sizes this strategy cuts for `count` items on `workers` workers when nothing is
    /// measured (every item taking no time): a quick way to see a strategy's shape. Strategies
    /// that measure (`adaptive`, `measuredFixed`) are shown as they start, before any chunk has
    /// finished.
    public func chunkSizes(count: Int, workers: Int) -> [Int] {
        var sizer = makeSizer(for: ChunkingContext(workers: workers, count: count))
        var sizes: [Int] = []
        var remaining = count
        while remaining > 0 {
            let size = min(max(sizer.nextChunkSize(remaining: remaining), 1), remaining)
            sizes.append(size)
            remaining -= size
        }
        return sizes
    }
}

/// `1ms`, `250µs`, `2s`: durations in benchmark tables and strategy names.
func formatDuration(_ duration: Duration) -> String {
    let nanoseconds = Double(duration.nanosecondsClamped)
    if nanoseconds >= 1e9 { return trimmed(nanoseconds / 1e9) + "s" }
    if nanoseconds >= 1e6 { return trimmed(nanoseconds / 1e6) + "ms" }
    if nanoseconds >= 1e3 { return trimmed(nanoseconds / 1e3) + "µs" }
    return trimmed(nanoseconds) + "ns"
}

private func trimmed(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : "\((value * 100).rounded() / 100)"
}
