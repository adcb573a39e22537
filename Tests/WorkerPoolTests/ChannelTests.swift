import Foundation
import XCTest
@testable import WorkerPool

final class ChannelTests: PoolTestCase {
    func testFIFOOrder() throws {
        let channel = try Channel<Int>()
        for i in 0..<100 { try channel.send(i) }
        XCTAssertEqual(channel.count, 100)
        for i in 0..<100 { XCTAssertEqual(try channel.receive(), i) }
        XCTAssertNil(channel.tryReceive())
    }

    func testCloseDrainsThenReturnsNil() throws {
        let channel = try Channel<String>()
        try channel.send("a")
        try channel.send("b")
        channel.close()
        XCTAssertTrue(channel.isClosed)
        XCTAssertEqual(try channel.receive(), "a")
        XCTAssertEqual(channel.tryReceive(), "b")
        XCTAssertNil(try channel.receive())
        XCTAssertNil(try channel.receive(timeout: .zero))
        channel.close()  // idempotent
    }

    func testSendAfterCloseThrows() throws {
        let channel = try Channel<Int>()
        channel.close()
        XCTAssertThrowsError(try channel.send(1)) { XCTAssertEqual($0 as? ChannelError, .closed) }
        XCTAssertFalse(channel.trySend(1))
    }

    func testReceiveTimeoutLeavesChannelUsable() throws {
        let channel = try Channel<Int>()
        let start = Deadline.now()
        XCTAssertThrowsPoolError(.timeout, try channel.receive(timeout: .milliseconds(50)))
        let elapsed = Deadline.now().nanoseconds - start.nanoseconds
        XCTAssertGreaterThanOrEqual(elapsed, 40_000_000)
        XCTAssertThrowsPoolError(.timeout, try channel.receive(timeout: .zero))
        XCTAssertThrowsPoolError(.timeout, try channel.receive(timeout: .seconds(-1)))
        try channel.send(7)
        XCTAssertEqual(try channel.receive(timeout: .zero), 7)
    }

    func testReceiveWakesWhenAnotherThreadSends() throws {
        let channel = try Channel<Int>()
        let received = Recorder<Int>()
        let done = Event()
        Thread.detachNewThread {
            if let value = try? channel.receive(timeout: generous) { received.append(value) }
            done.set()
        }
        try channel.send(42)
        XCTAssertTrue(done.wait(timeout: generous))
        XCTAssertEqual(received.values, [42])
    }

    func testCloseWakesBlockedReceivers() throws {
        let channel = try Channel<Int>()
        let results = Recorder<Int?>()
        let done = Counter()
        let allDone = Event()
        for _ in 0..<3 {
            Thread.detachNewThread {
                results.append(try? channel.receive(timeout: generous))
                if done.increment() == 3 { allDone.set() }
            }
        }
        channel.close()
        XCTAssertTrue(allDone.wait(timeout: generous))
        XCTAssertEqual(results.values.count, 3)
        XCTAssertTrue(results.values.allSatisfy { $0 == nil })
    }

    func testCapacityBlocksSenderUntilReceive() throws {
        let channel = try Channel<Int>(capacity: 2)
        try channel.send(1)
        try channel.send(2)
        XCTAssertFalse(channel.trySend(3))
        XCTAssertThrowsPoolError(.timeout, try channel.send(3, timeout: .milliseconds(20)))
        let sent = Event()
        let started = Event()
        Thread.detachNewThread {
            started.set()
            try? channel.send(3, timeout: generous)
            sent.set()
        }
        XCTAssertTrue(started.wait(timeout: generous))
        XCTAssertFalse(sent.isSet)  // may race ahead only if it had room, which it has not
        XCTAssertEqual(try channel.receive(), 1)
        XCTAssertTrue(sent.wait(timeout: generous))
        XCTAssertEqual(try channel.receive(), 2)
        XCTAssertEqual(try channel.receive(), 3)
    }

    func testCloseWakesBlockedSenderWithError() throws {
        let channel = try Channel<Int>(capacity: 1)
        try channel.send(1)
        let failed = Event()
        let outcome = Recorder<ChannelError?>()
        Thread.detachNewThread {
            do {
                try channel.send(2, timeout: generous)
                outcome.append(nil)
            } catch {
                outcome.append(error as? ChannelError)
            }
            failed.set()
        }
        channel.close()
        XCTAssertTrue(failed.wait(timeout: generous))
        XCTAssertEqual(outcome.values, [.closed])
        XCTAssertEqual(try channel.receive(), 1)
        XCTAssertNil(try channel.receive())
    }

    func testManyProducersManyConsumersLoseNothing() throws {
        let channel = try Channel<Int>(capacity: 16)
        let producers = 4, consumers = 3, perProducer = 5_000
        let received = Recorder<[Int]>()
        let consumersDone = Counter()
        let allConsumed = Event()
        for _ in 0..<consumers {
            Thread.detachNewThread {
                var mine: [Int] = []
                while let value = try? channel.receive(timeout: generous) { mine.append(value) }
                received.append(mine)
                if consumersDone.increment() == consumers { allConsumed.set() }
            }
        }
        let producersDone = Counter()
        let allProduced = Event()
        for p in 0..<producers {
            Thread.detachNewThread {
                for i in 0..<perProducer { try? channel.send(p * perProducer + i) }
                if producersDone.increment() == producers { allProduced.set() }
            }
        }
        XCTAssertTrue(allProduced.wait(timeout: generous))
        channel.close()
        XCTAssertTrue(allConsumed.wait(timeout: generous))
        let all = received.values.flatMap { $0 }
        XCTAssertEqual(all.count, producers * perProducer)
        XCTAssertEqual(Set(all).count, producers * perProducer)
        // Each producer's items arrive in the order it sent them, whichever consumer took them.
        for stream in received.values {
            for p in 0..<producers {
                let mine = stream.filter { $0 / perProducer == p }
                XCTAssertEqual(mine, mine.sorted())
            }
        }
    }

    func testInvalidCapacity() {
        XCTAssertInvalidArgument("capacity", try Channel<Int>(capacity: 0))
        XCTAssertInvalidArgument("capacity", try Channel<Int>(capacity: -3))
    }
}

final class EventTests: PoolTestCase {
    func testSetClearIsSet() {
        let event = Event()
        XCTAssertFalse(event.isSet)
        XCTAssertFalse(event.wait(timeout: .zero))
        event.set()
        XCTAssertTrue(event.isSet)
        XCTAssertTrue(event.wait(timeout: .zero))
        XCTAssertTrue(event.wait())
        event.clear()
        XCTAssertFalse(event.isSet)
        XCTAssertFalse(event.wait(timeout: .seconds(-5)))
    }

    func testWaitTimesOut() {
        let event = Event()
        let start = Deadline.now()
        XCTAssertFalse(event.wait(timeout: .milliseconds(50)))
        let elapsed = Deadline.now().nanoseconds - start.nanoseconds
        XCTAssertGreaterThanOrEqual(elapsed, 40_000_000)
        XCTAssertLessThan(elapsed, 30_000_000_000)
    }

    func testSetWakesEveryWaiter() {
        let event = Event()
        let woken = Counter()
        let allWoken = Event()
        for _ in 0..<4 {
            Thread.detachNewThread {
                if event.wait(timeout: generous), woken.increment() == 4 { allWoken.set() }
            }
        }
        event.set()
        XCTAssertTrue(allWoken.wait(timeout: generous))
        XCTAssertEqual(woken.value, 4)
    }

    func testHugeTimeoutDoesNotOverflow() {
        let event = Event()
        event.set()
        XCTAssertTrue(event.wait(timeout: .seconds(Int64.max)))
    }
}
