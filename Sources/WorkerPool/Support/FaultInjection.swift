#if DEBUG
/// Deliberate bugs, armed by the stress suites to check that they catch them (a suite that cannot
/// fail proves nothing). Compiled into debug builds only. `fire` disarms a fault as it fires (a bug
/// that happens once); `isArmed` leaves it armed (a bug that happens every time, as a reverted fix
/// would).
enum FaultInjection {
    enum Fault: String, Sendable, Equatable {
        case none
        /// A map chunk's bodies run twice (breaks "every item computed exactly once").
        case runOneChunkTwice
        /// One imap chunk's results are never handed to the iterator (a lost result).
        case loseOneIMapChunk
        /// A worker that takes an entry holding room does not give the room back (a bounded
        /// pool leaks room, as when room was reserved by estimate and returned per chunk cut).
        case leakRoom
        /// Releasing the last handle terminates the pool instead of closing it.
        case releaseTerminates
        /// A collection whose iteration ends before its count is read again and again instead of
        /// failing the job (the feed requeues forever).
        case requeueShortInput
    }

    private static let armed = LockedBox.make(Fault.none)

    static func arm(_ fault: Fault) {
        armed.withLockedValue { $0 = fault }
    }

    /// True once if `fault` is armed, which disarms it.
    static func fire(_ fault: Fault) -> Bool {
        armed.withLockedValue {
            guard $0 == fault else { return false }
            $0 = .none
            return true
        }
    }

    /// Whether `fault` is armed (it stays armed).
    static func isArmed(_ fault: Fault) -> Bool {
        armed.withLockedValue { $0 == fault }
    }
}
#endif
