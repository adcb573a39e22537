import Dispatch
import Foundation

/// Hides a body from the optimizer, so the serial loops call it indirectly, as the pool does,
/// instead of inlining it. Not generic on purpose: passing a closure through a generic function
/// would add reabstraction thunks to every call and make the serial reference look slower.
public func opaque(_ body: @escaping @Sendable (Int) -> Int) -> @Sendable (Int) -> Int {
    let other: @Sendable (Int) -> Int = { _ in 0 }
    return unknownToTheCompiler ? body : other
}

/// True, but the compiler cannot prove it.
let unknownToTheCompiler = ProcessInfo.processInfo.processIdentifier != 0

/// A plain thread pool on one mutex and two conditions: the reference point for the pool's per-task
/// overhead. Each submission returns a future (its own mutex and condition), as `applyAsync` does.
final class PlainThreadPool: @unchecked Sendable {  // `queue` and `stopped` are guarded by `condition`
    private let condition = NSCondition()
    private var queue: [() -> Void] = []
    private var head = 0
    private var stopped = false
    private var threads = 0
    private let exited = NSCondition()

    init(workers: Int) {
        threads = workers
        for _ in 0..<workers {
            Thread.detachNewThread { [self] in self.loop() }
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while head == queue.count && !stopped { condition.wait() }
            if head == queue.count && stopped {
                condition.unlock()
                break
            }
            let work = queue[head]
            head += 1
            if head > 4096 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            condition.unlock()
            work()
        }
        exited.lock()
        threads -= 1
        exited.signal()
        exited.unlock()
    }

    final class Future<Value>: @unchecked Sendable {  // `value` is guarded by `condition`
        private let condition = NSCondition()
        private var value: Value?
        func set(_ newValue: Value) {
            condition.lock()
            value = newValue
            condition.broadcast()
            condition.unlock()
        }
        func get() -> Value {
            condition.lock()
            defer { condition.unlock() }
            while value == nil { condition.wait() }
            return value!
        }
    }

    func submit<Value>(_ body: @escaping @Sendable () -> Value) -> Future<Value> {
        let future = Future<Value>()
        condition.lock()
        queue.append { future.set(body()) }
        condition.signal()
        condition.unlock()
        return future
    }

    func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        exited.lock()
        while threads > 0 { exited.wait() }
        exited.unlock()
    }
}

/// A fixed-size buffer that several threads fill at disjoint indices.
final class SharedBuffer<Element>: @unchecked Sendable {  // each index is written by one thread, read after a join
    let pointer: UnsafeMutablePointer<Element>
    let count: Int
    init(count: Int, repeating value: Element) {
        self.count = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: value, count: count)
    }
    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}
