#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import Foundation

/// What the operating system says about this process: its threads (with their names), its
/// resident memory, and the CPU time the whole machine and this process have used.
///
/// Tests count the pool's own (named) threads with it to prove that none outlive `join()`, and
/// the benchmarks sample memory and the machine's load. Linux reads `/proc`; Darwin asks the Mach
/// kernel (`task_threads`, `thread_info`, `task_info`, `host_statistics`) for the same facts, so a
/// test that passes on one proves the same thing on the other. Not part of the public API
/// (`package` access: the package's tests and benchmarks only).
package enum ProcessProbe {
    /// The names of this process's threads, as the OS reports them (`WPool.3` for a worker).
    package static func threadNames() -> [String] {
        #if os(Linux)
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { tid in
            (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #elseif canImport(Darwin)
        return machThreadNames() ?? []
        #else
        return []
        #endif
    }

    /// How many threads this process has; -1 where the OS does not say.
    package static func threadCount() -> Int {
        #if os(Linux)
        return (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
        #elseif canImport(Darwin)
        return machThreadNames()?.count ?? -1
        #else
        return -1
        #endif
    }

    /// How many of this process's threads are pool workers (named with `prefix`).
    package static func threadCount(named prefix: String) -> Int {
        threadNames().filter { $0.hasPrefix(prefix) }.count
    }

    /// This process's resident memory in bytes; 0 where the OS does not say.
    package static func residentBytes() -> Int {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #elseif canImport(Darwin)
        var info = mach_task_basic_info_data_t()
        var count = mach_msg_type_number_t(MemoryLayout<mach_task_basic_info_data_t>.size / MemoryLayout<natural_t>.size)
        let status = withUnsafeMutablePointer(to: &info) {
            $0.withMemoryRebound(to: integer_t.self, capacity: Int(count)) {
                task_info(mach_task_self_, task_flavor_t(MACH_TASK_BASIC_INFO), $0, &count)
            }
        }
        return status == KERN_SUCCESS ? Int(info.resident_size) : 0
        #else
        return 0
        #endif
    }

    /// CPU seconds used so far by every process on the machine (all CPUs together, busy time
    /// only) and by this process; nil where the OS does not say.
    package static func cpuTimes() -> (machine: Double, process: Double)? {
        guard let machine = machineBusySeconds() else { return nil }
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        let process = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return (machine, process)
    }

    private static func machineBusySeconds() -> Double? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 8 else { return nil }
        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
        #elseif canImport(Darwin)
        var load = host_cpu_load_info_data_t()
        var count = mach_msg_type_number_t(MemoryLayout<host_cpu_load_info_data_t>.size / MemoryLayout<integer_t>.size)
        let status = withUnsafeMutablePointer(to: &load) {
            $0.withMemoryRebound(to: integer_t.self, capacity: Int(count)) {
                host_statistics(mach_host_self(), HOST_CPU_LOAD_INFO, $0, &count)
            }
        }
        guard status == KERN_SUCCESS else { return nil }
        // cpu_ticks: user, system, idle, nice.
        let ticks = load.cpu_ticks
        let busy = Double(ticks.0) + Double(ticks.1) + Double(ticks.3)
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
        #else
        return nil
        #endif
    }

    #if canImport(Darwin)
    /// Every thread's name, from the Mach kernel; nil if the kernel would not list them.
    private static func machThreadNames() -> [String]? {
        var list: thread_act_array_t?
        var count: mach_msg_type_number_t = 0
        guard task_threads(mach_task_self_, &list, &count) == KERN_SUCCESS, let list else { return nil }
        defer {
            for index in 0..<Int(count) { mach_port_deallocate(mach_task_self_, list[index]) }
            vm_deallocate(mach_task_self_, vm_address_t(UInt(bitPattern: list)),
                          vm_size_t(Int(count) * MemoryLayout<thread_t>.stride))
        }
        var names: [String] = []
        for index in 0..<Int(count) {
            var info = thread_extended_info_data_t()
            var infoCount = mach_msg_type_number_t(MemoryLayout<thread_extended_info_data_t>.size / MemoryLayout<natural_t>.size)
            let status = withUnsafeMutablePointer(to: &info) {
                $0.withMemoryRebound(to: integer_t.self, capacity: Int(infoCount)) {
                    thread_info(list[index], thread_flavor_t(THREAD_EXTENDED_INFO), $0, &infoCount)
                }
            }
            guard status == KERN_SUCCESS else {
                names.append("")  // still a thread of this process, name unknown
                continue
            }
            let name = withUnsafeBytes(of: info.pth_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            names.append(name)
        }
        return names
    }
    #endif
}
