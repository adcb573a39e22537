/// Records the chunks of the calls whose strategy carries it (`ChunkingStrategy.traced(by:)`):
/// for each chunk the worker, when it was cut, started and finished, its items, and the time its
/// arguments, bodies and results took. Read what it has recorded with `trace`.
///
/// ```swift
/// let recorder = ChunkTraceRecorder()
/// let results = try pool.map(items, chunking: .adaptive(target: .milliseconds(1)).traced(by: recorder)) { … }
/// let job = recorder.trace.jobs[0]
/// print(job.chunks.count, job.breakdown.imbalance)
/// ```
///
/// Tracing is off unless a strategy carries a recorder, and then costs nothing: no clock read, no
/// lock, no allocation per chunk. A traced chunk costs about five clock reads on its worker and
/// one append under the recorder's lock when it finishes. One recorder may watch any number of
/// calls and pools, from any threads; each call is one `ChunkTrace.Job`.
public final class ChunkTraceRecorder: Sendable {
    /// The recorder's time zero: every time in its trace is measured from here.
    let origin: Deadline
    private let state = LockedBox.make([ChunkTrace.Job]())
    /// Jobs begun for calls that the pool then refused: left out of `trace`.
    private let withdrawn = LockedBox.make(Set<Int>())

    /// A recorder with nothing recorded; its clock starts now.
    public init() {
        origin = Deadline.now()
    }

    /// Everything recorded so far: every traced job, each with the chunks that have finished.
    /// Safe to read at any moment, from any thread (a copy, taken under the recorder's lock).
    public var trace: ChunkTrace {
        let withdrawn = withdrawn.withLockedValue { $0 }
        let jobs = state.withLockedValue { $0 }
        return ChunkTrace(jobs: withdrawn.isEmpty ? jobs : jobs.indices.filter { !withdrawn.contains($0) }.map { jobs[$0] })
    }

    /// Starts recording one job. Called on the submitting thread.
    func beginJob(strategy: String, count: Int?, workers: Int) -> JobTracer {
        let submitted = since(Deadline.now())
        let number = state.withLockedValue { jobs -> Int in
            jobs.append(ChunkTrace.Job(strategy: strategy, count: count, workers: workers, submitted: submitted, chunks: []))
            return jobs.count - 1
        }
        return JobTracer(recorder: self, job: number)
    }

    /// The pool refused the call that began `job`: it never ran, so the trace leaves it out.
    func withdraw(job: Int) {
        _ = withdrawn.withLockedValue { $0.insert(job) }
    }

    func append(_ chunk: ChunkTrace.Chunk, toJob job: Int) {
        state.withLockedValue { $0[job].chunks.append(chunk) }
    }

    /// `time` on the recorder's clock.
    func since(_ time: Deadline) -> Duration {
        .nanoseconds(Int64(clamping: time.nanoseconds) &- Int64(clamping: origin.nanoseconds))
    }
}

/// One traced job's line to its recorder, held by the job's feed.
final class JobTracer: Sendable {
    let recorder: ChunkTraceRecorder
    let job: Int

    init(recorder: ChunkTraceRecorder, job: Int) {
        self.recorder = recorder
        self.job = job
    }

    /// Records a finished chunk. Called on the worker that ran it, after its results were handed over.
    /// The pool refused the job: no chunk of it will ever run.
    func withdraw() { recorder.withdraw(job: job) }

    func record(index: Int, start: Int, items: Int, cut: Deadline, started: Deadline, finished: Deadline, stages: ChunkStages) {
        recorder.append(ChunkTrace.Chunk(index: index, worker: WorkerContext.current?.id ?? -1, start: start, items: items,
                                         cut: recorder.since(cut), started: recorder.since(started),
                                         finished: recorder.since(finished),
                                         arguments: stages.arguments, bodies: stages.bodies, results: stages.results),
                        toJob: job)
    }
}
