#if DEBUG
/// Deliberate bugs, armed by the stress suite to check that it catches them (a suite that cannot
/// fail proves nothing). Compiled into debug builds only; each fault fires once, then disarms.
enum FaultInjection {
    enum Fault: Sendable, Equatable {
        case none
        /// A map chunk's bodies run twice (breaks "every item computed exactly once").
        case runOneChunkTwice
        /// One imap chunk's results are never handed to the iterator (a lost result).
        case loseOneIMapChunk
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
}
#endif
