/// The workload shapes of the chunking lab: how much each item costs.
public enum Shape: String, CaseIterable, Sendable {
    /// `x * 2`: nothing but the pool's own cost.
    case cheap
    /// Every item about 10 µs.
    case uniform
    /// Cost grows linearly with the index, from 0 to 20 µs (10 µs on average).
    case ramp
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
        case .heavyTail:
            return (0..<items).map { $0 % 100 == 37 ? 200_000 : 2_000 }
        case .oneSlow:
            var costs = Array(repeating: 10_000.0, count: items)
            if items > 0 { costs[items / 3] = 10_000 * Double(items - 1) / 9 }
            return costs
        }
    }

    /// The arguments `pool_peer.py chunks` needs for the same shape.
    var pythonArguments: [String] {
        switch self {
        case .heavyTail: return ["--shape", rawValue, "--base-us", "2"]
        default: return ["--shape", rawValue, "--base-us", "10"]
        }
    }
}
