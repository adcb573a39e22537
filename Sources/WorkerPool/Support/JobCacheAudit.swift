#if DEBUG
/// The number of jobs in the caches of all pools of the process, so that the tests can check that
/// every test leaves every cache empty (a job left behind is a result that was never delivered).
/// Debug builds only. `total` is guarded by `lock`, a leaf lock taken under a pool's own lock.
enum JobCacheAudit {
    private nonisolated(unsafe) static var total = 0  // guarded by `lock`
    private static let lock = ConditionLock.make()

    static func adjust(by delta: Int) {
        lock.withLock {
            total += delta
            if total == 0 { lock.broadcast() }
        }
    }

    /// Waits until no pool holds a job, or until `timeout` has passed.
    ///
    /// - Returns: the jobs still held when it stopped waiting (0 on success).
    static func waitUntilEmpty(timeout: Duration) -> Int {
        let deadline = Deadline.after(timeout)
        return lock.withLock {
            while total != 0, lock.wait(until: deadline) {}
            return total
        }
    }
}
#endif
