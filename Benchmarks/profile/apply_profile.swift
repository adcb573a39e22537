// A driver for what one applyAsync + get costs the machine, outside pool-bench (which runs on
// Swift's async runtime): submits `tasks` trivial tasks to a 2-worker pool with `.passthrough`,
// then collects every result, as pool-bench overhead's first row does; `rounds` times (default 1).
// Built and run by apply-costs.sh beside it.
import WorkerPool

@main
struct ApplyProfile {
    static func main() throws { try run() }

    /// Off the main actor: in Swift 6 a synchronous `main` is isolated to it, and inside it this
    /// loop ran a run-time check of that isolation (`swift_task_isCurrentExecutor`) once per task,
    /// about 220 instructions: the driver's cost, not the pool's.
    nonisolated static func run() throws {
        let tasks = Int(CommandLine.arguments.dropFirst().first ?? "1000000") ?? 1_000_000
        let rounds = Int(CommandLine.arguments.dropFirst(2).first ?? "1") ?? 1
        let pool = try Pool(workers: 2, codec: .passthrough)
        for _ in 0..<rounds {
            var results: [AsyncResult<Int>] = []
            results.reserveCapacity(tasks)
            for i in 0..<tasks { results.append(try pool.applyAsync(i) { $0 &* 2 }) }
            var sum = 0
            for result in results { sum &+= try result.get() }
            precondition(sum == tasks &* (tasks &- 1), "a result was lost or wrong")
        }
        pool.close()
        try pool.join()
    }
}
