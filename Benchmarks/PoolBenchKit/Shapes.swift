import Foundation

/// The workload shapes of the chunking lab: how much each item costs.
///
/// All but `cheap` average about 10 µs per item (heavy tail: about 4 µs), so that their times
/// compare; they differ in how the cost is spread along the input.
public enum Shape: String, CaseIterable, Sendable {
    /// `x * 2`: nothing but the pool's own cost.
    case cheap
    /// Every item about 10 µs.
    case uniform
    /// Cost grows linearly with the index, from 0 to 20 µs (10 µs on average).
    case ramp
    /// Cost falls linearly with the index, from 20 µs to 0.
    case rampDown = "ramp-down"
    /// The first half 2 µs per item, the second half 18 µs.
    case step
    /// The first half 18 µs per item, the second half 2 µs.
    case stepDown = "step-down"
    /// A sine along the input: 10 µs ± 9 µs, one period every 1,000 items.
    case periodic
    /// Random (a fixed pseudo-random pick per index): 90 % of the items 5 µs, 10 % 55 µs.
    case bimodal
    /// Most items 2 µs, 1 % of them (every 100th) 100 times that.
    case heavyTail = "heavy-tail"
    /// Every item 10 µs but one, which alone costs 10 % of the total.
    case oneSlow = "one-slow"

    /// The cost of each item in nanoseconds.
    public func costs(items: Int) -> [Double] {
        switch self {
        case .cheap:
            return Array(repeating: 0, count: items)
        case .uniform:
            return Array(repeating: 10_000, count: items)
        case .ramp:
            return (0..<items).map { 20_000 * Double($0) / Double(max(items - 1, 1)) }
        case .rampDown:
            return (0..<items).map { 20_000 * Double(items - 1 - $0) / Double(max(items - 1, 1)) }
        case .step:
            return (0..<items).map { $0 < items / 2 ? 2_000 : 18_000 }
        case .stepDown:
            return (0..<items).map { $0 < items / 2 ? 18_000 : 2_000 }
        case .periodic:
            return (0..<items).map { 10_000 + 9_000 * sin(2 * Double.pi * Double($0) / 1_000) }
        case .bimodal:
            return (0..<items).map { Shape.mix($0) % 10 == 0 ? 55_000 : 5_000 }
        case .heavyTail:
            return (0..<items).map { $0 % 100 == 37 ? 200_000 : 2_000 }
        case .oneSlow:
            var costs = Array(repeating: 10_000.0, count: items)
            if items > 0 { costs[items / 3] = 10_000 * Double(items - 1) / 9 }
            return costs
        }
    }

    /// SplitMix64's finalizer: a well-mixed, reproducible pseudo-random number per index (the
    /// CPython peer computes the same one).
    static func mix(_ index: Int) -> UInt64 {
        var z = UInt64(truncatingIfNeeded: index) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The arguments `pool_peer.py chunks` needs for the same shape.
    var pythonArguments: [String] {
        switch self {
        case .heavyTail: return ["--shape", rawValue, "--base-us", "2"]
        default: return ["--shape", rawValue, "--base-us", "10"]
        }
    }
}
