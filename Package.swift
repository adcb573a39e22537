// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-worker-pool",
    // Synchronization's `Atomic` (the pool's per-task flags and counters) needs these; Linux has no floor.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "WorkerPool", targets: ["WorkerPool"]),
        .executable(name: "pool-bench", targets: ["pool-bench"]),
        .executable(name: "pool-examples", targets: ["pool-examples"]),
    ],
    targets: [
        .target(
            name: "WorkerPool",
            path: "Sources/WorkerPool"
        ),
        .target(
            name: "PoolBenchKit",
            dependencies: ["WorkerPool"],
            path: "Benchmarks/PoolBenchKit"
        ),
        .executableTarget(
            name: "pool-bench",
            dependencies: ["PoolBenchKit"],
            path: "Benchmarks/pool-bench"
        ),
        // Ports of public Python programs that use multiprocessing.Pool (docs/porting.md); their
        // Python originals are in Examples/python, and .ci/compare-examples checks both agree.
        .executableTarget(
            name: "pool-examples",
            dependencies: ["WorkerPool"],
            path: "Examples/pool-examples"
        ),
        .testTarget(
            name: "WorkerPoolTests",
            dependencies: ["WorkerPool"],
            path: "Tests/WorkerPoolTests"
        ),
        .testTarget(
            name: "StressTests",
            dependencies: ["WorkerPool"],
            path: "Tests/StressTests"
        ),
        .testTarget(
            name: "PoolBenchKitTests",
            dependencies: ["PoolBenchKit"],
            path: "Tests/PoolBenchKitTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
