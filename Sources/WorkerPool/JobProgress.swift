/// How far a job has got: `done` items of `total` (Python's pools have no such reading).
///
/// Read it from `MapResult.progress` or `IMapIterator.progress` while the job runs, from any
/// thread, as often as a progress bar needs: reading never slows the workers down.
public struct JobProgress: Sendable, Equatable, CustomStringConvertible {
    /// Items finished: their bodies ran (`map`), or their results reached the iterator (`imap`).
    public var done: Int
    /// The job's number of items, or nil while it is not known (an `imap` whose input has not
    /// been read to its end).
    public var total: Int?

    /// A reading of `done` items of `total` (nil while the total is unknown).
    public init(done: Int, total: Int?) {
        self.done = done
        self.total = total
    }

    /// `done / total` from 0 to 1 (1 for an empty job), or nil while `total` is not known.
    public var fraction: Double? {
        guard let total else { return nil }
        return total == 0 ? 1 : Double(done) / Double(total)
    }

    /// `1200/20000`, or `1200/?` while the total is unknown.
    public var description: String { "\(done)/\(total.map(String.init) ?? "?")" }
}

/// The result of a map with an empty input: ready at once with `[]`, and `progress` says 0 of 0.
final class EmptyMapResult<R: Sendable>: AsyncResult<[R]>, @unchecked Sendable {  // no state of its own; AsyncResult's rules apply
    init() { super.init(core: nil) }

    override func currentProgress() -> JobProgress { JobProgress(done: 0, total: 0) }
}
