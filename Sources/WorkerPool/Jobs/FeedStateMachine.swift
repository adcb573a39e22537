/// The rules for feeding one bulk job (map or imap) to the workers, as a value.
///
/// A job has one *feed token*: while the token is on the task channel (`queued`) the job has a
/// chunk ready to be cut; the worker that takes it (`held`) cuts one chunk and, if the job has
/// more, puts the token back. An imap whose consumer is `window` chunks behind parks its token
/// (`parked`) until the consumer catches up. When the input ends or reading stops, the token
/// retires; the job is finished when the token has retired and every cut chunk is done.
///
/// Only the token's holder reads the input and calls the chunk sizer, so neither needs a lock;
/// this state is what the holder shares with everyone else, under the job's lock.
struct FeedStateMachine {
    enum Token: Equatable {
        case queued, held, parked, retired
    }

    /// Why reading stopped before the input ended.
    enum Stop: Equatable {
        /// `close()` on an imap: chunks already read still run and are delivered.
        case keepRead
        /// Cancelled, failed or terminated: nothing more runs.
        case dropAll
    }

    private(set) var token: Token = .queued
    private(set) var stop: Stop?
    private(set) var chunksCut = 0
    private(set) var itemsCut = 0
    private(set) var chunksDone = 0
    private(set) var chunksConsumed = 0
    /// Whether the input itself ended (as opposed to reading stopping before its end).
    private(set) var inputExhausted = false
    /// The most chunks that may be cut and not yet consumed (imap's `workers + buffersize`); nil
    /// for no bound (a map, or an imap whose window was lifted).
    private(set) var window: Int?
    private var pendingTimings: [ChunkMeasurement] = []
    private var reportedFinished = false

    init(window: Int?) {
        self.window = window
    }

    var isDropping: Bool { stop == .dropAll }

    /// Whether reading stopped before the input ended (`close()` on an imap with `buffersize`).
    var endedEarly: Bool { stop != nil && !inputExhausted }

    enum TakeAction {
        /// Cut a chunk; first tell the sizer these timings.
        case cut(timings: [ChunkMeasurement])
        /// Reading has stopped: the token retired without a chunk.
        case retired
    }

    /// A worker took the token from the channel.
    mutating func take() -> TakeAction {
        precondition(token == .queued, "feed token taken while \(token)")
        if stop != nil {
            token = .retired
            return .retired
        }
        token = .held
        defer { pendingTimings.removeAll() }
        return .cut(timings: pendingTimings)
    }

    struct CutResult {
        /// The new chunk's index, or nil if nothing was read or what was read is dropped.
        let chunkIndex: Int?
        /// Items read and then dropped because the job stopped meanwhile.
        let droppedItems: Int
        /// Whether the holder must put the token back on the channel.
        let requeue: Bool
    }

    /// The holder read `items` items; `inputEnded` if the input has no more.
    mutating func cut(items: Int, inputEnded: Bool) -> CutResult {
        precondition(token == .held, "cut without holding the feed token")
        var chunkIndex: Int?
        var dropped = 0
        if items > 0 {
            if stop == .dropAll {
                dropped = items
            } else {
                chunkIndex = chunksCut
                chunksCut += 1
                itemsCut += items
            }
        }
        if inputEnded { inputExhausted = true }
        if inputEnded || stop != nil {
            token = .retired
        } else if let window, chunksCut - chunksConsumed >= window {
            token = .parked
        } else {
            token = .queued
        }
        return CutResult(chunkIndex: chunkIndex, droppedItems: dropped, requeue: token == .queued)
    }

    /// Stops reading. Returns whether the token was parked (then it retires here, and the caller
    /// checks whether the job is finished); a queued or held token retires at its next step.
    mutating func requestStop(_ reason: Stop) -> Bool {
        if stop == nil || reason == .dropAll { stop = reason }
        if token == .parked {
            token = .retired
            return true
        }
        return false
    }

    /// The holder gives the token up without cutting (the input lied about its length).
    mutating func retireHeldToken() {
        precondition(token == .held, "retiring a token that is not held")
        token = .retired
    }

    /// A chunk finished (delivered, failed or skipped); `timing` feeds the sizer's next cut.
    mutating func chunkDone(timing: ChunkMeasurement?) {
        chunksDone += 1
        if let timing { pendingTimings.append(timing) }
    }

    /// The consumer finished `chunks` more chunks. Returns whether the parked token must go back
    /// on the channel.
    mutating func consumed(chunks: Int) -> Bool {
        chunksConsumed += chunks
        if token == .parked, let window, chunksCut - chunksConsumed < window {
            token = .queued
            return true
        }
        return false
    }

    /// Removes the window: the holder never parks again, and a parked token goes back on the channel
    /// (returns true: the caller re-queues it).
    mutating func liftWindow() -> Bool {
        window = nil
        if token == .parked {
            token = .queued
            return true
        }
        return false
    }

    /// Whether every chunk the job will ever have is done: the token retired and nothing is running.
    var isFinished: Bool { token == .retired && chunksDone == chunksCut }

    /// True exactly once: the first time the job is found finished.
    mutating func claimFinish() -> Bool {
        guard isFinished, !reportedFinished else { return false }
        reportedFinished = true
        return true
    }
}
