// pool-examples: Swift ports of public Python programs that use multiprocessing.Pool, each next to
// its Python original in Examples/python. docs/porting.md walks through every port, and
// .ci/compare-examples checks that each prints what its original prints, byte for byte.
//
//   pool-examples wordcount FILE...     PyMOTW's map-reduce word count (map, then starmap)
//   pool-examples mandelbrot N          the Benchmarks Game's Mandelbrot (imapUnordered, reordered)
//   pool-examples callbacks [WORKERS]   applyAsync with a callback (Stack Overflow's example)
//
// POOL_CODEC=binary|json|passthrough picks the codec the pools use (default: binary), to see what
// encoding costs a program: the codec is a `TaskCodec` value, chosen at run time.

import Foundation
import WorkerPool

let usage = """
    usage: pool-examples wordcount FILE...
           pool-examples mandelbrot N
           pool-examples callbacks [WORKERS]
    """

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "wordcount" where arguments.count > 1:
        try WordCount.main(files: Array(arguments.dropFirst()))
    case "mandelbrot" where arguments.count == 2:
        guard let n = Int(arguments[1]), n > 0 else { throw ExampleError.usage }
        try Mandelbrot.main(n: n)
    case "callbacks" where arguments.count <= 2:
        try Callbacks.main(workers: arguments.count == 2 ? Int(arguments[1]) : nil)
    default:
        throw ExampleError.usage
    }
} catch ExampleError.usage {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("pool-examples: \(error)\n".utf8))
    exit(1)
}

enum ExampleError: Error {
    case usage
}

/// The codec named by `POOL_CODEC`.
func codecFromEnvironment() throws -> TaskCodec {
    switch ProcessInfo.processInfo.environment["POOL_CODEC"] ?? "binary" {
    case "binary": return .binary
    case "json": return .json
    case "passthrough": return .passthrough
    case let other:
        FileHandle.standardError.write(Data("POOL_CODEC must be binary, json or passthrough, not \(other)\n".utf8))
        throw ExampleError.usage
    }
}
