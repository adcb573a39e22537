// Port of Stack Overflow's apply_async-with-callback example (Examples/python/apply_async_callback.py):
// ten `applyAsync` calls with a callback that records each result, then `close()` and `join()`.
// With one worker the callbacks run in submission order, so the output is the Python program's,
// byte for byte.

import Synchronization
import WorkerPool

enum Callbacks {
    /// `foo_pool`. Runs on a worker.
    static func fooPool(_ x: Int) -> Int { x * x }

    static func main(workers: Int?) throws {
        // Python's module-level `result_list`: the callbacks append to it one at a time, on the
        // pool's callback queue; a `Mutex` makes that visible to the main thread after `join()`.
        let resultList = Mutex<[Int]>([])
        let pool = try Pool(workers: workers, codec: codecFromEnvironment())
        for i in 0..<10 {
            _ = try pool.applyAsync(i, fooPool) { result in
                resultList.withLock { $0.append(result) }
                // `current_process().name` in a callback is "MainProcess": callbacks never run on
                // a worker, so `Pool.currentWorkerName` is nil here.
                print(Pool.currentWorkerName ?? "MainProcess", "  >>  ", result)
            }
        }
        pool.close()
        try pool.join()
        print(resultList.withLock { $0 })
    }
}
