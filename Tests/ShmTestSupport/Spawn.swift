import CShmShims
import Foundation
import Glibc

/// A child process with pipes, spawned through posix_spawn with an empty signal mask and default handlers.
/// Foundation.Process would pass on Swift Testing's blocked mask (SIGTERM, SIGWINCH…) and hangs on children that
/// daemonize (swift-linux.md §6), so tests use this instead.
public final class Child: @unchecked Sendable {
    public let pid: pid_t
    public let stdinFD: Int32
    public let stdoutFD: Int32
    public let stderrFD: Int32
    private var buffered: [UInt8] = []
    private var stdinOpen = true
    private var exitStatus: Int32?

    public init(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, mergeStderr: Bool = false
    ) throws {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXErrorCode.EMFILE.err }
        for fd in inPipe + outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, mergeStderr ? outPipe[1] : errPipe[1], 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var env = environment ?? ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = env["SWIFT_BACKTRACE"] ?? "enable=no"
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attr, argv, envp)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1])
            close(outPipe[0])
            close(errPipe[0])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT)
        }
        pid = child
        stdinFD = inPipe[1]
        stdoutFD = outPipe[0]
        stderrFD = errPipe[0]
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = wait()
        }
        closeStdin()
        close(stdoutFD)
        close(stderrFD)
    }

    public func send(_ line: String) {
        let data = Array((line + "\n").utf8)
        _ = data.withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress, $0.count) }
    }

    /// Closes our end of the child's stdin, once (a second close could hit a descriptor another test reused).
    public func closeStdin() {
        if stdinOpen { close(stdinFD) }
        stdinOpen = false
    }

    /// Reads one line from stdout, waiting at most `timeout` seconds; nil on timeout or EOF.
    public func readLine(timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let nl = buffered.firstIndex(of: 10) {
                let line = String(decoding: buffered[..<nl], as: UTF8.self)
                buffered.removeSubrange(...nl)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var pfd = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, Int32(remaining * 1000))
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(stdoutFD, $0.baseAddress, $0.count) }
            if n <= 0 {
                if buffered.isEmpty { return nil }
                let line = String(decoding: buffered, as: UTF8.self)
                buffered.removeAll()
                return line
            }
            buffered.append(contentsOf: chunk[0..<n])
        }
    }

    /// Sends a command and returns its reply line.
    @discardableResult
    public func ask(_ line: String, timeout: Double = 10) -> String {
        send(line)
        return readLine(timeout: timeout) ?? "<no reply>"
    }

    /// Reads everything left on stdout and stderr, then waits for exit.
    public func finish() -> (status: Int32, stdout: String, stderr: String) {
        var out = buffered
        buffered.removeAll()
        var err: [UInt8] = []
        var fds = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0), pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)]
        var open = [true, true]
        while open[0] || open[1] {
            for i in 0..<2 { fds[i].fd = open[i] ? (i == 0 ? stdoutFD : stderrFD) : -1 }
            if poll(&fds, 2, 30_000) <= 0 { break }
            for i in 0..<2 where open[i] && fds[i].revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 65536)
                let n = chunk.withUnsafeMutableBytes { Glibc.read(fds[i].fd, $0.baseAddress, $0.count) }
                if n <= 0 { open[i] = false } else if i == 0 { out += chunk[0..<n] } else { err += chunk[0..<n] }
            }
        }
        let status = wait()
        return (status, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Waits for the child; returns its exit code, or 128+signal.
    @discardableResult
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let code = shm_shim_wifexited(status) != 0 ? shm_shim_wexitstatus(status) : 128 + shm_shim_wtermsig(status)
        exitStatus = code
        return code
    }

    public func signal(_ sig: Int32) { kill(pid, sig) }
}

extension POSIXErrorCode {
    var err: POSIXError { POSIXError(self) }
}

/// Runs a command to completion and captures its output.
public func run(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let child = try Child(path, arguments, environment: environment)
    if let stdin {
        let data = Array(stdin.utf8)
        _ = data.withUnsafeBytes { Glibc.write(child.stdinFD, $0.baseAddress, $0.count) }
    }
    child.closeStdin()
    return child.finish()
}

/// Finds an executable on PATH.
public func which(_ name: String) -> String? {
    if name.hasPrefix("/") { return access(name, X_OK) == 0 ? name : nil }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/\(name)"
        if access(p, X_OK) == 0 { return p }
    }
    return nil
}
