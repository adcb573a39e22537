import PoolBenchKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(await poolBench(Array(CommandLine.arguments.dropFirst())))
