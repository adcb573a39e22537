#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Linux facts about the calling OS thread, read through `/proc` (Glibc's Swift module exposes
/// neither `gettid` nor `pthread_setname_np`).
enum OSThread {
    /// The kernel thread id of the calling thread, or nil where `/proc` is unavailable.
    static func currentTID() -> Int32? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let text = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = text.lastIndex(of: "/") else { return nil }
        return Int32(text[text.index(after: slash)...])
        #else
        return nil
        #endif
    }

    /// Sets the calling thread's OS name (what `top -H`, gdb and `/proc/self/task/*/comm` show).
    /// Linux keeps at most 15 bytes of it.
    static func setCurrentName(_ name: String) {
        #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        #endif
    }

    /// Whether the thread `tid` of this process still exists.
    static func exists(_ tid: Int32) -> Bool {
        #if os(Linux)
        return access("/proc/self/task/\(tid)", F_OK) == 0
        #else
        return false
        #endif
    }

    /// Waits (briefly yielding) until each thread in `tids` has left the process: a thread that
    /// signalled its exit still has a few instructions of thread teardown to run. Gives up after
    /// `limit`, which only a tid reused by a new thread could reach.
    static func waitUntilGone(_ tids: [Int32], limit: Duration = .seconds(2)) {
        let deadline = Deadline.after(limit)
        for tid in tids {
            while exists(tid) && !deadline.hasPassed {
                var pause = timespec(tv_sec: 0, tv_nsec: 50_000)
                nanosleep(&pause, nil)
            }
        }
    }
}
