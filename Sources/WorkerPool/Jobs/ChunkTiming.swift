#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Timing a chunk stage by stage, for traced jobs and sizers that measure stages (and only for
// them: an untraced job's pipeline and feed never reach this file).
//
// The stages are told apart by timing the kernel (the bodies' loop) from the inside: a timed job's
// pipeline wraps its kernel in a closure that adds the kernel's span to the running thread's
// `KernelClock`. What comes before the kernel on the chunk's clock is its arguments' codec, what
// comes after is its results' codec and hand-over. The alternative, clock reads inside
// `ChunkPipeline` itself, would put a check per stage on every untraced chunk; this way an untraced
// job runs exactly the code it ran before.

/// The kernel's time on the running thread since the chunk's cut: thread-local, so that chunks of
/// one job running at once on several workers never share it.
enum KernelClock {
    struct Reading {
        /// When the first kernel call of the chunk started (monotonic nanoseconds).
        var firstStart: UInt64 = 0
        /// The kernel calls' total time in nanoseconds (a chunk re-run item by item calls it often).
        var total: UInt64 = 0
        var calls = 0
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { cell in cell?.deallocate() }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    private static var cell: UnsafeMutablePointer<Reading> {
        if let raw = pthread_getspecific(key) { return raw.assumingMemoryBound(to: Reading.self) }
        let cell = UnsafeMutablePointer<Reading>.allocate(capacity: 1)
        cell.initialize(to: Reading())
        pthread_setspecific(key, cell)
        return cell
    }

    /// Starts a chunk: forgets earlier kernel calls on this thread.
    static func reset() { cell.pointee = Reading() }

    /// A kernel call ran from `start` to `end`. A body that waits for other work may run other
    /// chunks inside this call; their own readings are taken (and reset) before this call adds its
    /// span, so the outer chunk's reading holds its kernel call alone.
    static func add(start: UInt64, end: UInt64) {
        let cell = cell
        if cell.pointee.calls == 0 { cell.pointee.firstStart = start }
        cell.pointee.total &+= end &- start
        cell.pointee.calls += 1
    }

    /// The chunk's reading, which is reset.
    static func take() -> Reading {
        let cell = cell
        defer { cell.pointee = Reading() }
        return cell.pointee
    }
}

extension ChunkPipeline {
    /// The same pipeline with its kernel timed into `KernelClock`.
    func timingKernel() -> ChunkPipeline<T, R> {
        let kernel = self.kernel
        return ChunkPipeline(arguments: arguments, results: results, kernel: { arguments, out, stopAtFirstError, failures in
            let start = Deadline.now().nanoseconds
            let produced = kernel(arguments, out, stopAtFirstError, &failures)
            KernelClock.add(start: start, end: Deadline.now().nanoseconds)
            return produced
        }, codecName: codecName)
    }
}

extension ChunkFeed {
    /// A timed chunk's measurement, split by stage, recorded to the job's tracer if it has one.
    /// Called on the worker that ran the chunk, once its results were handed over.
    func timedMeasurement(_ chunk: Chunk, cut: Deadline, began: Deadline, finished: Deadline) -> ChunkMeasurement {
        let kernel = KernelClock.take()
        func span(_ from: UInt64, _ to: UInt64) -> Duration { .nanoseconds(Int64(clamping: to) &- Int64(clamping: from)) }
        let duration = max(span(began.nanoseconds, finished.nanoseconds), .zero)
        let arguments = kernel.calls > 0 ? max(span(began.nanoseconds, kernel.firstStart), .zero) : duration
        let bodies = min(Duration.nanoseconds(Int64(clamping: kernel.total)), duration - arguments)
        let stages = ChunkStages(dispatch: max(span(cut.nanoseconds, began.nanoseconds), .zero), arguments: arguments,
                                 bodies: bodies, results: max(duration - arguments - bodies, .zero))
        tracer?.record(index: chunk.index, start: chunk.start, items: chunk.items.count, cut: cut, started: began,
                       finished: finished, stages: stages)
        return ChunkMeasurement(items: chunk.items.count, duration: duration, stages: stages)
    }
}
