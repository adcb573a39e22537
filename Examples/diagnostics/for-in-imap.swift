// `for row in iterator` over an IMapIterator in synchronous code.
// expect: error: for-in loop requires 'IMapIterator<Int>' to conform to 'Sequence'
import WorkerPool

func printAll(_ pool: Pool) throws {
    for row in try pool.imap([1, 2, 3], { $0 * 2 }) { print(row) }
}
