import Foundation
import WorkerPool

/// `pool-bench simulate`: predicts the time of every strategy at 1 to 1,024 workers from a
/// recorded trace, a CSV of item costs, or the lab's shapes; `--validate` checks the predictions
/// against measured times at 1 and 2 workers.
struct SimulateBench {
    enum Source {
        /// A trace file: a `ChunkTrace` in JSON, or `pool-bench chunks --trace`'s file of workloads.
        case trace(path: String)
        /// A CSV of item costs in microseconds.
        case costs(path: String)
        /// The lab's shapes, with overheads measured on this machine.
        case shapes([Shape])
    }

    let source: Source
    let items: Int
    let workers: Int
    let repeats: Int
    let codecs: [TaskCodec]
    let validate: Bool

    /// The strategies simulated: the lab's, each also against the best fixed size.
    var strategies: [ChunkingStrategy] { ChunksBench.strategies }

    func run(into report: Report) throws {
        if validate {
            guard case .shapes(let shapes) = source else {
                throw TraceError(message: "--validate measures the lab's shapes: give --shape, not a trace or a CSV")
            }
            try runValidation(shapes: shapes, into: report)
            return
        }
        for model in try models(report) {
            predict(model, into: report)
        }
    }

    // MARK: Models

    private func models(_ report: Report) throws -> [WorkloadModel] {
        switch source {
        case .trace(let path):
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            if let file = try? JSONDecoder().decode(RecordedWorkloads.self, from: data) {
                return try file.workloads.map { workload in
                    let workers = workload.trace.jobs.first.map { ", recorded at \($0.workers) workers" } ?? ""
                    return try TraceReader.model(name: workload.name + workers, trace: workload.trace, walls: workload.walls)
                }
            }
            let trace = try JSONDecoder().decode(ChunkTrace.self, from: data)
            return [try TraceReader.model(name: URL(fileURLWithPath: path).lastPathComponent, trace: trace)]
        case .costs(let path):
            let costs = try TraceReader.costs(csv: String(contentsOfFile: path, encoding: .utf8))
            return try codecs.map { codec in
                report.status("simulate: measuring the \(codec) codec's overheads")
                return WorkloadModel(name: "\(URL(fileURLWithPath: path).lastPathComponent) (\(codec))", costs: costs,
                                     overhead: try Self.calibrate(codec: codec, workers: workers))
            }
        case .shapes(let shapes):
            var models: [WorkloadModel] = []
            for codec in codecs {
                report.status("simulate: measuring the \(codec) codec's overheads")
                let overhead = try Self.calibrate(codec: codec, workers: workers)
                for shape in shapes {
                    models.append(WorkloadModel(name: "\(shape.rawValue) (\(codec))", costs: shape.costs(items: items), overhead: overhead))
                }
            }
            return models
        }
    }

    /// The pool's overheads on this machine with `codec`: traced maps of cheap Ints with chunks of
    /// 1, 16, 256 and 4,096 items, read as `TraceReader.model` reads any trace.
    static func calibrate(codec: TaskCodec, workers: Int) throws -> OverheadModel {
        let recorder = ChunkTraceRecorder()
        let pool = try Pool(workers: workers, codec: codec)
        defer { pool.close(); try? pool.join() }
        let input = Array(0..<20_000)
        let body: @Sendable (Int) -> Int = opaque({ $0 &* 2 })
        for size in [1, 16, 256, 4096] {
            blackHole(try pool.map(input, chunksize: size, body))
            blackHole(try pool.map(input, chunking: .fixed(size).traced(by: recorder), body))
        }
        return try TraceReader.model(name: "calibration", trace: recorder.trace).overhead
    }

    // MARK: Predictions

    /// Every strategy and the best fixed size at 1, 2, 4, … 1,024 workers.
    func predict(_ model: WorkloadModel, into report: Report) {
        let section = "simulate: \(model.name), \(model.costs.count) items; \(describe(model.overhead))"
        let count = model.costs.count
        for workers in Simulator.workerCounts {
            report.status("simulate \(model.name): \(workers) workers")
            let sweep = ChunksBench.sweep(items: count, workers: workers)
            let fixed = sweep.map { size in (size, Simulator.run(.fixed(size), workers: workers, model: model, keepChunks: false).makespan) }
            let best = fixed.min { $0.1 < $1.1 }!
            report.add(Measurement(section: section, peer: "best fixed", items: count, timing: Timing(seconds: [best.1 / 1e9]),
                                   note: "fixed(\(best.0))", x: Double(workers), series: model.name))
            for strategy in strategies {
                let run = Simulator.run(strategy, workers: workers, model: model, keepChunks: false)
                report.add(Measurement(section: section, peer: "\(strategy)", items: count, timing: Timing(seconds: [run.makespan / 1e9]),
                                       x: Double(workers), series: model.name, marker: "simulated"))
            }
        }
    }

    private func describe(_ overhead: OverheadModel) -> String {
        "dispatch \(formatNanoseconds(overhead.dispatch)), hand-off \(formatNanoseconds(overhead.handoff)), "
            + "codec \(formatNanoseconds(overhead.perChunk)) per chunk + \(formatNanoseconds(overhead.perItem)) per item, "
            + "\(formatNanoseconds(overhead.perJob)) per job"
    }

    // MARK: Validation

    /// For each shape and codec: record a trace at `workers` workers, predict every strategy at 1
    /// and 2 workers from it, and measure them.
    private func runValidation(shapes: [Shape], into report: Report) throws {
        let spinner = Spinner.calibrated
        let counts = [1, 2]
        report.expectSteps(shapes.count * codecs.count * (1 + counts.count * strategies.count))
        for shape in shapes {
            let costs = shape.costs(items: items)
            let input = Array(0..<items)
            let body: @Sendable (Int) -> Int = shape == .cheap
                ? opaque({ $0 &* 2 })
                : opaque({ spinner.spin(nanoseconds: costs[$0], seed: $0) })
            for codec in codecs {
                let name = "\(shape.rawValue) (\(codec))"
                report.step("simulate --validate \(name): recording")
                var jobs: [ChunkTrace.Job] = []
                var walls: [Double] = []
                do {
                    // Each size three times: item costs are each item's lowest, the rest medians.
                    let pool = try Pool(workers: workers, codec: codec)
                    defer { pool.close(); try? pool.join() }
                    for size in [1, 16, 256, 4096] where size <= items {
                        blackHole(try pool.map(input, chunksize: size, body))
                        for _ in 0..<3 {
                            let (job, wall) = try QuietMeasure.once { () -> (ChunkTrace.Job, Double) in
                                let recorder = ChunkTraceRecorder()
                                let start = now()
                                blackHole(try pool.map(input, chunking: .fixed(size).traced(by: recorder), body))
                                return (recorder.trace.jobs[0], now() - start)
                            }
                            jobs.append(job)
                            walls.append(wall)
                        }
                    }
                }
                let model = try TraceReader.model(name: name, trace: ChunkTrace(jobs: jobs), walls: walls)
                let section = "simulate --validate: \(name), \(items) items, recorded at \(workers) workers; \(describe(model.overhead))"
                for count in counts {
                    let pool = try Pool(workers: count, codec: codec)
                    defer { pool.close(); try? pool.join() }
                    for strategy in strategies {
                        report.step("simulate --validate \(name): \(strategy) on \(count) worker\(count == 1 ? "" : "s")")
                        let predicted = Simulator.run(strategy, workers: count, model: model, keepChunks: false).makespan / 1e9
                        let timing = try QuietMeasure.measure(repeats: repeats) { blackHole(try pool.map(input, chunking: strategy, body)) }
                        let error = (predicted - timing.median) / timing.median * 100
                        report.add(Measurement(section: section, peer: "\(strategy) @\(count)", items: items, timing: timing,
                                               note: String(format: "predicted %@, error %+.1f %%", formatNanoseconds(predicted * 1e9 / Double(items)), error),
                                               x: Double(count), series: name, marker: String(format: "%.6f", predicted)))
                    }
                }
            }
        }
    }
}

/// `pool-bench chunks --trace`'s file: the traced runs of every workload of the run.
struct RecordedWorkloads: Codable {
    struct Workload: Codable {
        let name: String
        let trace: ChunkTrace
        /// Each traced call's time as its caller saw it, in seconds, one per job of `trace`.
        var walls: [Double]?
    }
    var workloads: [Workload]
}
