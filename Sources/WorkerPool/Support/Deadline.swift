#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the monotonic clock (`CLOCK_MONOTONIC`), in nanoseconds.
///
/// Every timeout in WorkerPool is turned into a deadline once, at the start of the call, so a wait
/// that wakes up spuriously keeps its original end.
@usableFromInline
struct Deadline: Comparable, Sendable {
    @usableFromInline let nanoseconds: UInt64

    @usableFromInline init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    static let distantFuture = Deadline(nanoseconds: .max)

    var isDistantFuture: Bool { nanoseconds == .max }

    @usableFromInline
    static func now() -> Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(nanoseconds: UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec))
    }

    /// The deadline `timeout` from now; `nil` means no deadline. A zero or negative timeout is a
    /// deadline that has already passed, so a wait with it only polls.
    @usableFromInline
    static func after(_ timeout: Duration?) -> Deadline {
        guard let timeout else { return .distantFuture }
        let now = Deadline.now()
        if timeout <= .zero { return now }
        let (seconds, attoseconds) = timeout.components
        let nanos = attoseconds / 1_000_000_000
        // Saturate instead of trapping on absurd timeouts such as `.seconds(Int64.max)`.
        let (secondsNanos, overflow1) = UInt64(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (delta, overflow2) = secondsNanos.addingReportingOverflow(UInt64(clamping: nanos))
        let (total, overflow3) = now.nanoseconds.addingReportingOverflow(delta)
        if overflow1 || overflow2 || overflow3 || total == .max { return .distantFuture }
        return Deadline(nanoseconds: total)
    }

    var hasPassed: Bool { !isDistantFuture && Deadline.now() >= self }

    var remaining: Duration {
        if isDistantFuture { return .seconds(Int64.max) }
        let now = Deadline.now().nanoseconds
        // A finite deadline can lie further ahead than `Int64.max` nanoseconds (`Deadline.after`
        // saturates at `UInt64`), so the difference is clamped, never converted with a trap.
        return now >= nanoseconds ? .zero : .nanoseconds(Int64(clamping: nanoseconds - now))
    }

    var asTimespec: timespec {
        var ts = timespec()
        ts.tv_sec = .init(nanoseconds / 1_000_000_000)
        ts.tv_nsec = .init(nanoseconds % 1_000_000_000)
        return ts
    }

    @usableFromInline
    static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

extension Duration {
    /// The duration in nanoseconds, saturating at `Int64.max`.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (n, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = n.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }

    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }

    var asTimespec: timespec {
        let n = max(0, nanosecondsClamped)
        var ts = timespec()
        ts.tv_sec = .init(n / 1_000_000_000)
        ts.tv_nsec = .init(n % 1_000_000_000)
        return ts
    }
}
