// A lazy input built before `withPool { }` and captured by its closure.
// expect: error: sending 'rowJobs' risks causing data races
// expect: note: task-isolated 'rowJobs' is passed as a 'sending' parameter; Uses in callee may race with later task-isolated uses
import WorkerPool

func render(_ n: Int) throws {
    let rowJobs = (0..<n).lazy.map { y in (y, n) }
    try withPool { pool in
        let rows = try pool.imapUnordered(rowJobs) { y, n in y * n }
        while let row = try rows.next() { _ = row }
    }
}
