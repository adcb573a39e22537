import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds on the monotonic clock.
@inline(__always)
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Repeated timings of one thing: the median is what tables report, min and max show the noise.
public struct Timing: Codable, Equatable, Sendable {
    public var seconds: [Double]

    public init(seconds: [Double]) { self.seconds = seconds }

    public var median: Double {
        let sorted = seconds.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
    public var min: Double { seconds.min() ?? .nan }
    public var max: Double { seconds.max() ?? .nan }
}

/// Runs `body` once to warm up, then `repeats` times, timing each run.
func measure(repeats: Int, warmup: Bool = true, _ body: () throws -> Void) rethrows -> Timing {
    if warmup { try body() }
    var seconds: [Double] = []
    for _ in 0..<repeats {
        let start = now()
        try body()
        seconds.append(now() - start)
    }
    return Timing(seconds: seconds)
}

/// `measure` for async bodies.
func measureAsync(repeats: Int, warmup: Bool = true, _ body: () async throws -> Void) async rethrows -> Timing {
    if warmup { try await body() }
    var seconds: [Double] = []
    for _ in 0..<repeats {
        let start = now()
        try await body()
        seconds.append(now() - start)
    }
    return Timing(seconds: seconds)
}

/// The p-th percentile (0...100) of `values`.
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
    return sorted[Swift.min(Swift.max(rank, 0), sorted.count - 1)]
}

/// Stores a value where the optimizer cannot see it unused, so measured work is neither removed
/// nor moved past the clock reads around it (an empty function would let the compiler sink a pure
/// computation after the second clock read: the spin calibration once measured 0 ns that way).
@inline(never)
func blackHole<T>(_ value: T) {
    sinkLock.lock()
    sink = value
    sinkLock.unlock()
}

private let sinkLock = NSLock()
nonisolated(unsafe) private var sink: Any?  // only touched under `sinkLock`

/// A busy loop whose length is calibrated in nanoseconds on this machine, for workload shapes.
public struct Spinner: Sendable {
    /// Loop iterations per nanosecond, measured at startup.
    public let iterationsPerNanosecond: Double

    public static let calibrated = Spinner(iterationsPerNanosecond: calibrate())

    public init(iterationsPerNanosecond: Double) { self.iterationsPerNanosecond = iterationsPerNanosecond }

    /// Spins for about `nanoseconds` and returns a value that depends on every iteration.
    @inline(never)
    public func spin(nanoseconds: Double, seed: Int) -> Int {
        var x = UInt64(truncatingIfNeeded: seed) | 1
        let iterations = Int(nanoseconds * iterationsPerNanosecond)
        for _ in 0..<iterations {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
        }
        return Int(truncatingIfNeeded: x)
    }

    private static func calibrate() -> Double {
        let probe = Spinner(iterationsPerNanosecond: 1)
        var rates: [Double] = []
        for _ in 0..<7 {
            let iterations = 2_000_000.0
            let start = now()
            // The seed depends on the clock read, and the result goes to `blackHole` before the
            // second read: `spin` is a pure function, which the optimizer may otherwise hoist out of
            // this loop or move outside the timed window.
            blackHole(probe.spin(nanoseconds: iterations, seed: Int(start.bitPattern & 0xFFFF)))
            let elapsed = now() - start
            rates.append(iterations / (elapsed * 1e9))
        }
        return Timing(seconds: rates).median
    }
}

/// Facts about the machine for the table's header.
public enum Machine {
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    public static var swiftVersion: String {
        #if compiler(>=6.4)
        return "Swift 6.4+"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #elseif compiler(>=6.1)
        return "Swift 6.1"
        #else
        return "Swift 6.0"
        #endif
    }

    public static var line: String {
        var os = "Linux"
        #if os(macOS)
        os = "macOS"
        #endif
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
        return "machine: \(cores) cores, \(String(format: "%.0f", memory)) GiB, \(os), \(swiftVersion), release build"
    }
}
