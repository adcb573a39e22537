import Dispatch
import Foundation

/// Python's `multiprocessing.Pool`, in-process: worker threads that run your closures over chunks
/// of input, with every argument and result crossing a codec as they would cross a process
/// boundary.
///
/// ```swift
/// let pool = try Pool(workers: 4)
/// let squares = try pool.map(1...10_000) { $0 * $0 }
/// let total = try pool.apply(squares) { $0.reduce(0, +) }
/// pool.close()
/// try pool.join()
/// ```
///
/// Threads: each worker is a dedicated `Thread` named `WPool.<id>` (its worker id) that runs bodies
/// one chunk at a time. Callbacks run one at a time on the pool's callback queue (or the queue you
/// pass), never on a worker. Blocking calls (`apply`, `map`, `get`, `join`) block the calling
/// thread; their `async` twins suspend instead.
///
/// Releasing the last reference to a pool acts as `close()`: submitted work still runs, pending
/// results, iterators and callbacks are still delivered, and the threads exit once it is done.
public final class Pool: Sendable {
    @usableFromInline let core: PoolCore

    /// Starts a pool.
    ///
    /// - Parameters:
    ///   - workers: the number of worker threads, 1 to `maximumWorkers`; `nil` means
    ///     `activeProcessorCount`.
    ///   - maxTasksPerWorker: after this many chunks a worker thread exits and a fresh one (with a
    ///     new `currentWorkerID`, running the initializer again) takes its place; `nil` never.
    ///   - codec: how arguments and results cross the channels (`.binary` by default).
    ///   - chunking: how `map` and `starmap` cut their input when the call gives no `chunksize:`.
    ///   - maxQueuedChunks: bounded submission: `applyAsync`/`mapAsync` and friends wait while this
    ///     many chunks are queued and not started; `nil` (the default, as CPython) never waits.
    ///   - callbackQueue: where callbacks are delivered, one at a time (the pool serializes them
    ///     through its own queue targeting this one); `nil` uses a serial queue of the pool's own.
    ///   - initializer: runs once at the start of every worker thread, replacements too. If it
    ///     throws, the pool becomes broken: pending and later work fails with `.broken`.
    /// - Throws: `PoolError.invalidArgument` naming the argument when `workers`,
    ///   `maxTasksPerWorker` or `maxQueuedChunks` is below 1, `workers` is above `maximumWorkers`,
    ///   or `chunking` is invalid.
    public init(
        workers: Int? = nil,
        maxTasksPerWorker: Int? = nil,
        codec: TaskCodec = .binary,
        chunking: ChunkingStrategy = .cpython,
        maxQueuedChunks: Int? = nil,
        callbackQueue: DispatchQueue? = nil,
        initializer: (@Sendable () throws -> Void)? = nil
    ) throws {
        try PoolError.require("workers", workers, atLeast: 1)
        if let workers, workers > Pool.maximumWorkers {
            throw PoolError.invalidArgument("workers must be at most \(Pool.maximumWorkers), got \(workers)")
        }
        try PoolError.require("maxTasksPerWorker", maxTasksPerWorker, atLeast: 1)
        try PoolError.require("maxQueuedChunks", maxQueuedChunks, atLeast: 1)
        try chunking.validate(argument: "chunking")
        let configuration = PoolConfiguration(
            workers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
            maxTasksPerWorker: maxTasksPerWorker,
            codec: codec,
            chunking: chunking,
            maxQueuedChunks: maxQueuedChunks,
            initializer: initializer
        )
        core = PoolCore(configuration: configuration, callbackTarget: callbackQueue)
        core.start()
    }

    deinit {
        #if DEBUG
        if FaultInjection.isArmed(.releaseTerminates) {
            core.terminate()
            return
        }
        #endif
        // Python's pending results keep their pool alive; here the work keeps the core alive, and
        // the pool closes: nothing submitted is lost, and the threads exit when it is done.
        core.release()
    }

    /// The most workers a pool may have: a guard against a typo starting millions of threads.
    public static let maximumWorkers = 4096

    /// The configured number of workers.
    public var workerCount: Int { core.configuration.workers }

    /// The codec the pool's tasks cross.
    public var codec: TaskCodec { core.configuration.codec }

    /// The pool's default chunking strategy.
    public var chunking: ChunkingStrategy { core.configuration.chunking }

    /// A process-unique id of the worker thread running the caller, or nil off the pools' workers.
    /// A replacement worker (`maxTasksPerWorker`) has a new id.
    public static var currentWorkerID: Int? { WorkerContext.current?.id }

    /// The name of the worker thread running the caller, `WPool.<id>` (the name the OS, `top -H`
    /// and debuggers show for it, with `<id>` its `currentWorkerID`), or nil off the pools'
    /// workers: Python's `current_process().name`. Any thread may read it; it answers for the
    /// calling thread.
    public static var currentWorkerName: String? { WorkerContext.current?.name }

    /// Whether the job of the chunk running on the calling worker was cancelled, failed or
    /// terminated, so that a long body can stop early (its result will be discarded anyway).
    /// False off the pool's workers.
    public static var isCurrentTaskCancelled: Bool { WorkerContext.current?.isCurrentJobCancelled ?? false }

    /// A snapshot of the pool's activity; safe and cheap to read at any moment, from any thread
    /// (a few atomic loads and one short lock per part of the pool, never one per job), and it
    /// never slows the workers.
    public var statistics: PoolStatistics { core.snapshot() }

    /// Whether the pool still accepts work.
    public var isRunning: Bool { core.refusal() == nil }
}
