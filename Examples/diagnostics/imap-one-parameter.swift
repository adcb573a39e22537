// `imap` over pairs with a one-parameter body: give the body one parameter per element.
// expect: is unavailable: a tuple is not Codable, so it cannot be one parameter: give the body one parameter per element
import WorkerPool

func rows(_ pool: Pool, _ jobs: [(Int, Int)]) throws -> IMapIterator<Int> {
    try pool.imap(jobs) { job in job.0 * job.1 }
}
