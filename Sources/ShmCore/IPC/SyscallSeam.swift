import CShmShims
import Glibc
import Synchronization

/// Every libc call ShmCore makes, by name: what a test names to make one fail, and what it finds in a trace.
enum Syscall: String, Sendable, CaseIterable {
    case shmget, shmat, shmdt, shmctl
    case semget, semop, semtimedop, semctl
    case semOpen = "sem_open", semClose = "sem_close", semUnlink = "sem_unlink", semWait = "sem_wait"
    case semTimedwait = "sem_timedwait", semPost = "sem_post", semGetvalue = "sem_getvalue"
    case shmOpen = "shm_open", shmUnlink = "shm_unlink", ftruncate, mmap, munmap, mincore
    case open, close, read, write, lseek, fstat, lstat, stat, access, mkdir, unlink, realpath, opendir, rename, fsync
    case renameNoReplace = "renameat2"
    case ftok, flock, kill, getpwuid
    case openat2, setns, unlinkat
}

/// One call as the seam saw it.
struct SyscallRecord: Sendable, Equatable, CustomStringConvertible {
    var call: Syscall
    /// The call's numeric arguments in C order (ids, keys, flags, sizes); a timeout is given in nanoseconds.
    var arguments: [Int]
    /// The path or name argument, for calls that take one.
    var path: String?
    /// The errno a driver made this call fail with, without reaching the kernel; nil when the real call ran.
    var injected: Int32?

    var description: String {
        var text = call.rawValue + "(" + arguments.map(String.init).joined(separator: ", ")
        if let path { text += (arguments.isEmpty ? "" : ", ") + path }
        return text + ")" + (injected.map { " = -1 errno \($0)" } ?? "")
    }
}

/// The one place a system call can be diverted, after swift-system's internal `MockingDriver`
/// (Sources/System/Internals/Mocking.swift): every `Sys` function asks the current driver before calling libc.
/// Production code never installs one, so the cost is one relaxed atomic load per system call (never per byte:
/// copying mapped memory is not a system call and does not pass here).
protocol SyscallDriver: Sendable {
    /// Called before each real call. Returning an errno makes the call fail with it, as if the kernel had said so;
    /// nil lets the real call run.
    func intercept(_ call: Syscall, arguments: [Int], path: String?) -> Int32?
}

enum SyscallSeam {
    /// The driver for the current task. Task-local, so tests that run in parallel never see each other's faults;
    /// threads that ShmCore starts itself do not inherit it. Installed only through `with`.
    @TaskLocal fileprivate static var driver: (any SyscallDriver)?

    /// False until the first driver is installed (always, in production): a `Sys` call tests this one C global
    /// before it looks at the task-local driver at all.
    @inline(__always) static var isArmed: Bool { shm_shim_seam_armed() != 0 }

    /// The driver for the current task, or nil; asked only once `isArmed` (a task-local lookup costs more than the
    /// C global).
    static var current: (any SyscallDriver)? { driver }

    /// Runs `body` with `driver` installed for the current task (and the tasks it starts).
    static func with<R>(_ driver: (any SyscallDriver)?, _ body: () throws -> R) rethrows -> R {
        shm_shim_seam_arm()
        return try $driver.withValue(driver) { try body() }
    }

    static func with<R>(_ driver: (any SyscallDriver)?, _ body: () async throws -> R) async rethrows -> R {
        shm_shim_seam_arm()
        return try await $driver.withValue(driver) { try await body() }
    }
}

/// A driver for tests: makes chosen calls fail with chosen errnos (once, N times or always, optionally only when
/// the arguments match) and records every call that passes the seam while it is installed.
final class SyscallMock: SyscallDriver {
    struct Fault: Sendable {
        var call: Syscall
        var errno: Int32
        /// How many more calls fail; nil means every matching call.
        var remaining: Int?
        var matching: (@Sendable (SyscallRecord) -> Bool)?
        /// Runs when the fault fires, with the seam switched off (e.g. a peer removing the semaphore right then).
        var then: (@Sendable () -> Void)?
    }

    private struct State {
        var faults: [Fault] = []
        var trace: [SyscallRecord] = []
    }

    private let state = Mutex(State())

    init() {}

    /// Makes the next `times` calls of `call` (that match `when`) fail with `errno`.
    func fail(
        _ call: Syscall, with errno: Int32, times: Int = 1, when matching: (@Sendable (SyscallRecord) -> Bool)? = nil,
        then: (@Sendable () -> Void)? = nil
    ) {
        state.withLock {
            $0.faults.append(Fault(call: call, errno: errno, remaining: times, matching: matching, then: then))
        }
    }

    /// Makes every call of `call` (that matches `when`) fail with `errno`.
    func failAlways(
        _ call: Syscall, with errno: Int32, when matching: (@Sendable (SyscallRecord) -> Bool)? = nil
    ) {
        state.withLock { $0.faults.append(Fault(call: call, errno: errno, remaining: nil, matching: matching)) }
    }

    /// Every call seen so far, in order.
    var trace: [SyscallRecord] { state.withLock { $0.trace } }

    /// The calls of one kind seen so far.
    func calls(_ call: Syscall) -> [SyscallRecord] { trace.filter { $0.call == call } }

    /// Runs `body` with this driver installed for the current task.
    func run<R>(_ body: () throws -> R) rethrows -> R {
        try SyscallSeam.with(self, body)
    }

    func intercept(_ call: Syscall, arguments: [Int], path: String?) -> Int32? {
        var record = SyscallRecord(call: call, arguments: arguments, path: path, injected: nil)
        let fired: Fault? = state.withLock { s in
            guard
                let i = s.faults.firstIndex(where: {
                    $0.call == call && ($0.remaining ?? 1) > 0 && ($0.matching?(record) ?? true)
                })
            else {
                s.trace.append(record)
                return nil
            }
            if let n = s.faults[i].remaining { s.faults[i].remaining = n - 1 }
            record.injected = s.faults[i].errno
            s.trace.append(record)
            return s.faults[i]
        }
        guard let fired else { return nil }
        if let then = fired.then { SyscallSeam.with(nil, then) }
        return fired.errno
    }
}
