// A driver for what one applyAsync + get costs the machine, outside pool-bench (which runs on
// Swift's async runtime): submits `tasks` trivial tasks to a 2-worker pool with `.passthrough`,
// then collects every result, as pool-bench overhead's first row does. Built and run by
// apply-costs.sh beside it.
import WorkerPool

@main
struct ApplyProfile {
    static func main() throws {
        let tasks = Int(CommandLine.arguments.dropFirst().first ?? "1000000") ?? 1_000_000
        let pool = try Pool(workers: 2, codec: .passthrough)
        var results: [AsyncResult<Int>] = []
        results.reserveCapacity(tasks)
        for i in 0..<tasks { results.append(try pool.applyAsync(i) { $0 &* 2 }) }
        var sum = 0
        for result in results { sum &+= try result.get() }
        precondition(sum == tasks &* (tasks &- 1), "a result was lost or wrong")
        pool.close()
        try pool.join()
    }
}
