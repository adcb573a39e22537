// Port of the Benchmarks Game's "mandelbrot Python 3 #7" (Examples/python/mandelbrot.py, after
// Byron/benchmarksgame-cvs-mirror, bench/mandelbrot/mandelbrot.python3-7.python3): rows are
// computed by `imapUnordered` over a lazy sequence of `(y, n)` jobs, each returning `(y, row)`,
// and put back in order before they are written. The output is the Python program's, byte for
// byte: the same IEEE arithmetic in the same order (Python's complex `z * z + c` written out on
// its parts, `abs(z)` as `hypot`).

import Foundation
import WorkerPool

enum Mandelbrot {
    /// `compute_row`: the row's bytes, 8 pixels per byte. Runs on a worker.
    static func computeRow(_ y: Int, _ n: Int) -> [UInt8] {
        let c1 = 2.0 / Double(n)
        let ci = Double(y) * c1 - 1.0  // the imaginary part of Python's `c0`
        let count = (n + 7) / 8
        var row = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            var cr = Double(index * 8) * c1 - 1.5
            var byte: UInt8 = 0
            for position in 0..<8 {
                var zr = cr, zi = ci
                var escaped = false
                for _ in 0..<7 {
                    for _ in 0..<7 {
                        (zr, zi) = (zr * zr - zi * zi + cr, zr * zi + zi * zr + ci)
                    }
                    if hypot(zr, zi) >= 2.0 {
                        escaped = true
                        break
                    }
                }
                if !escaped { byte |= UInt8(128 >> position) }
                cr += c1
            }
            row[index] = byte
        }
        // As the original: `row[-1] &= 0xff << (8 - n % 8)`, which clears the last byte when
        // `n % 8 == 0`.
        row[count - 1] &= UInt8(truncatingIfNeeded: 0xFF << (8 - n % 8))
        return row
    }

    static func main(n: Int) throws {
        let output = FileHandle.standardOutput
        output.write(Data("P4\n\(n) \(n)\n".utf8))
        if ProcessInfo.processInfo.activeProcessorCount < 2 {
            for y in 0..<n { output.write(Data(computeRow(y, n))) }
            return
        }
        try withPool(codec: codecFromEnvironment()) { pool in
            // The lazy input is built inside the closure: built before `withPool`, it would be
            // captured by the closure, and passing a captured non-Sendable value to imap's
            // `sending` parameter is an error ("sending 'rowJobs' risks causing data races").
            let rowJobs = (0..<n).lazy.map { y in (y, n) }
            let rows = try pool.imapUnordered(rowJobs) { y, n in (y, computeRow(y, n)) }
            try writeInOrder(rows, count: n, to: output)
        }
    }

    /// `ordered_rows`: rows arrive in completion order; each is written as soon as every row
    /// above it has been.
    static func writeInOrder(_ rows: IMapIterator<(Int, [UInt8])>, count: Int, to output: FileHandle) throws {
        var waiting = [[UInt8]?](repeating: nil, count: count)
        var next = 0
        while let (y, row) = try rows.next() {
            waiting[y] = row
            while next < count, let ready = waiting[next] {
                output.write(Data(ready))
                waiting[next] = nil
                next += 1
            }
        }
    }
}
