import Dispatch
import Foundation

extension Pool {
    /// Stops accepting work (Python's `close`). Queued work still runs, to the end: submitters
    /// waiting for room in a bounded pool get `.notRunning`; an `imap` without `buffersize` keeps
    /// reading its input to the end (Python's behaviour); one with `buffersize` stops reading, and
    /// its iterator throws `.notRunning` after the items it read. Once every job is delivered the
    /// workers exit. Calling it again, or after `terminate()`, does nothing. Does not block.
    public func close() {
        core.close()
    }

    /// Stops at once (Python's `terminate`): queued work is dropped, and every result that is not
    /// ready fails now with `PoolError.terminated` (its error callback runs). A body that is already
    /// running finishes on its thread; its result is discarded. Calling it again does nothing.
    /// Does not block.
    public func terminate() {
        core.terminate()
    }

    /// Waits until every worker thread the pool started has exited and been joined (Python's
    /// `join`), then until every callback queued so far has run. No thread of the pool outlives it.
    ///
    /// - Throws: `.stillRunning` before `close()` or `terminate()` (a broken pool needs neither);
    ///   `.invalidArgument` when called from one of the pool's own workers or callbacks, or on the
    ///   queue its `callbackQueue` targets (the main thread, for `.main`), which would wait for
    ///   themselves.
    @available(*, noasync, message: "join() blocks its thread; use `await pool.joined()`")
    public func join() throws {
        try core.join()
    }

    /// `join()` for Swift concurrency: waits on a thread of its own, not on a cooperative thread.
    ///
    /// - Throws: as `join()`.
    public func joined() async throws {
        let core = self.core
        let edge = ResumeEdge()
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            Thread.detachNewThread {
                let outcome = Result { try core.join() }
                edge.beforeResume()
                ThreadSanitizer.resumeHidingAccesses { continuation.resume(with: outcome) }
            }
        }
        edge.afterResume()
    }
}

/// Runs `body` with a new pool (Python's `with Pool(...) as pool:`), then shuts the pool down:
/// when `body` returns, the pool is closed and joined, so all submitted work finishes first (CPython
/// terminates here, losing un-awaited work); when `body` throws, the pool is terminated and joined,
/// and the error is rethrown.
///
/// - Throws: what `Pool.init` throws, or what `body` throws.
@available(*, noasync, message: "withPool joins the pool, blocking its thread; use the async withPool")
public func withPool<Result>(
    workers: Int? = nil,
    maxTasksPerWorker: Int? = nil,
    codec: TaskCodec = .binary,
    chunking: ChunkingStrategy = .cpython,
    maxQueuedChunks: Int? = nil,
    callbackQueue: DispatchQueue? = nil,
    initializer: (@Sendable () throws -> Void)? = nil,
    _ body: (Pool) throws -> Result
) throws -> Result {
    let pool = try Pool(
        workers: workers, maxTasksPerWorker: maxTasksPerWorker, codec: codec, chunking: chunking,
        maxQueuedChunks: maxQueuedChunks, callbackQueue: callbackQueue, initializer: initializer)
    let result: Result
    do {
        result = try body(pool)
    } catch {
        pool.terminate()
        try? pool.join()
        throw error
    }
    pool.close()
    try pool.join()
    return result
}

/// `withPool` for Swift concurrency: the body may await, and the pool is joined without blocking a
/// cooperative thread.
public func withPool<Result: Sendable>(
    workers: Int? = nil,
    maxTasksPerWorker: Int? = nil,
    codec: TaskCodec = .binary,
    chunking: ChunkingStrategy = .cpython,
    maxQueuedChunks: Int? = nil,
    callbackQueue: DispatchQueue? = nil,
    initializer: (@Sendable () throws -> Void)? = nil,
    _ body: (Pool) async throws -> Result
) async throws -> Result {
    let pool = try Pool(
        workers: workers, maxTasksPerWorker: maxTasksPerWorker, codec: codec, chunking: chunking,
        maxQueuedChunks: maxQueuedChunks, callbackQueue: callbackQueue, initializer: initializer)
    let result: Result
    do {
        result = try await body(pool)
    } catch {
        pool.terminate()
        try? await pool.joined()
        throw error
    }
    pool.close()
    try await pool.joined()
    return result
}
