import Foundation
import Synchronization
import WorkerPool


/// Timing on a machine that is shared: a sample taken while another process held a core is
/// thrown away and taken again.
///
/// With two cores, a compile running next to a two-worker pool halves the pool's speed for as long
/// as it runs, and a table made of samples from before and during it compares nothing. Linux
/// counts every CPU's busy time (`/proc/stat`, in ticks of 10 ms; Darwin's host CPU load is the
/// same count) and this process's own CPU time (`getrusage`); their difference over a sample is what other processes used. A sample during
/// which they used more than a fifth of one core (with two ticks of slack) is retaken after a
/// pause, up to `maxTries` times; then it is kept and counted in `acceptedUnderLoad`.
enum QuietMeasure {
    /// Samples retaken, and samples kept although the machine never got quiet.
    static let retaken = Atomic<Int>(0)
    static let acceptedUnderLoad = Atomic<Int>(0)

    static let maxTries = 30
    /// The shortest window that the 10 ms ticks can judge: shorter runs are repeated back to back
    /// until the window is this long, and the sample is their median.
    static let window = 0.05

    /// The CPU seconds used by every process (all CPUs) and by this one; nil where the OS does not
    /// say (`ProcessProbe`: `/proc/stat` on Linux, the host's CPU load on Darwin).
    static func cpuTimes() -> (machine: Double, process: Double)? { ProcessProbe.cpuTimes() }

    /// Runs `body` until a window of at least `window` seconds passes in which other processes
    /// left the cores alone (or `maxTries` windows were tried); returns the median of that
    /// window's runs.
    static func sample(_ body: () throws -> Void) rethrows -> Double {
        var tries = 0
        while true {
            tries += 1
            let before = cpuTimes()
            let start = now()
            var runs: [Double] = []
            repeat {
                let runStart = now()
                try body()
                runs.append(now() - runStart)
            } while now() - start < window
            let wall = now() - start
            if let before, let after = cpuTimes() {
                let others = (after.machine - before.machine) - (after.process - before.process)
                if others > 0.2 * wall + 0.02 {
                    if tries < maxTries {
                        retaken.add(1, ordering: .relaxed)
                        Thread.sleep(forTimeInterval: 0.25)
                        continue
                    }
                    acceptedUnderLoad.add(1, ordering: .relaxed)
                }
            }
            return Timing(seconds: runs).median
        }
    }

    /// `measure`, each repeat a quiet sample.
    static func measure(repeats: Int, warmup: Bool = true, _ body: () throws -> Void) rethrows -> Timing {
        if warmup { try body() }
        var seconds: [Double] = []
        for _ in 0..<repeats { seconds.append(try sample(body)) }
        return Timing(seconds: seconds)
    }

    /// Runs `body` once in a quiet moment (a traced run, whose breakdown should not show another
    /// process's use of the cores); returns its result.
    static func once<T>(_ body: () throws -> T) rethrows -> T {
        var tries = 0
        while true {
            tries += 1
            let before = cpuTimes()
            let start = now()
            let result = try body()
            let wall = now() - start
            if let before, let after = cpuTimes(), wall >= window {
                let others = (after.machine - before.machine) - (after.process - before.process)
                if others > 0.2 * wall + 0.02 && tries < maxTries {
                    retaken.add(1, ordering: .relaxed)
                    Thread.sleep(forTimeInterval: 0.25)
                    continue
                }
            }
            return result
        }
    }

    /// A note for the report: how many samples were retaken and kept under load.
    static var note: String? {
        let retaken = retaken.load(ordering: .relaxed), kept = acceptedUnderLoad.load(ordering: .relaxed)
        guard retaken > 0 || kept > 0 else { return nil }
        return "\(retaken) samples were retaken because another process used a core meanwhile"
            + (kept > 0 ? "; \(kept) were kept after \(maxTries) tries (the machine never got quiet)" : "")
    }
}
