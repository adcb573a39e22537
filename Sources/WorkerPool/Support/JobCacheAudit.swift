#if DEBUG
/// The number of jobs in the caches of all pools of the process, so that the tests can check that
/// every test leaves every cache empty (a job left behind is a result that was never delivered).
/// Debug builds only. Its lock is a leaf: nothing else is locked while it is held.
enum JobCacheAudit {
    private static let total = LockedBox.make(0)

    static func adjust(by delta: Int) {
        let empty = total.withLockedValue { total -> Bool in
            total += delta
            return total == 0
        }
        if empty { total.broadcast() }
    }

    /// Waits until no pool holds a job, or until `timeout` has passed.
    ///
    /// - Returns: the jobs still held when it stopped waiting (0 on success).
    static func waitUntilEmpty(timeout: Duration) -> Int {
        let deadline = Deadline.after(timeout)
        return total.wait(until: deadline, for: { $0 == 0 }, then: { $0 }) ?? total.withLockedValue { $0 }
    }
}
#endif
