import ArgumentParser
import Glibc
import ShmCore

struct Lock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Hold a segment's lock for a while or while a command runs (to freeze a Qt peer), then release it.",
        discussion: """
            The lock is released on every exit: when the time is up, when COMMAND ends, and on SIGINT, SIGTERM or \
            SIGHUP. System V locks also carry SEM_UNDO, so even kill -9 gives them back. Prints `locked` once held.
            With a COMMAND, the exit status is the command's.

            Examples:
              shmscope lock SharedMemory_Key --hold 5
              shmscope lock SharedMemory_Key -- shmscope dump SharedMemory_Key
              shmscope lock /psm_1234 --timeout 2 --hold 1
            """)

    @OptionGroup var target: TargetOptions

    @Option(
        name: .long,
        help: "How long to wait for the lock before giving up: 500ms, 2s, 1m (a bare number is seconds; default: wait, Ctrl-C cancels).")
    var timeout: String?

    @Option(name: .long, help: "How long to hold the lock: 500ms, 5s, 2m (a bare number is seconds).")
    var hold: String?

    @Argument(parsing: .postTerminator, help: "A command to run while the lock is held (after --).")
    var command: [String] = []

    func validate() throws {
        try target.refuseNoLock(in: "lock")
        if (hold == nil) == command.isEmpty { throw ValidationError("give --hold DURATION or -- COMMAND, one of them") }
        _ = try holdDuration()
        _ = try waitLimit()
    }

    private func holdDuration() throws -> Duration? {
        guard let hold else { return nil }
        return try usage { () throws(NumberSyntaxError) in
            try NumberParser.duration(hold, label: "--hold", defaultUnit: .seconds, in: .zero ... longestWait)
        }
    }

    private func waitLimit() throws -> Duration? {
        guard let timeout else { return nil }
        return try usage { () throws(NumberSyntaxError) in
            try NumberParser.duration(timeout, label: "--timeout", defaultUnit: .seconds, in: .zero ... longestWait)
        }
    }

    func run() throws {
        let memory = try target.memory()
        guard memory.hasLock else {
            throw CommandError(message: "\(memory.target) has no lock to take: \(memory.target.noLockAdvice)")
        }
        // Locking creates the lock (a key file, a semaphore) when it is missing, so a missing segment is refused
        // first: `lock` on a mistyped key must fail and leave nothing. Looked up without attaching or locking.
        guard memory.exists() else {
            throw CommandError(
                message: "\(memory.target): no such segment: nothing to lock (\(memory.target.notFoundAdvice()))")
        }
        // Signals are taken synchronously, so the lock is always released before we exit.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let timeout = try waitLimit()
        let hold = try holdDuration()
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while !(try memory.tryLock(timeout: .milliseconds(100))) {
            if let sig = pendingSignal(signals) { throw CommandError(message: "interrupted while waiting for the lock", code: 128 + sig) }
            if let deadline, ContinuousClock.now >= deadline {
                let holder = memory.lockState()?.lastPID.map { " (held by pid \($0) \(ProcessInfoReader.command(pid: $0)))" } ?? ""
                throw CommandError(
                    message: "\(memory.target): lock not free after \(NumberParser.format(timeout!, .seconds)) s\(holder)")
            }
        }
        defer { try? memory.unlock() }
        Output.standard.print("locked \(memory.target)")
        Output.standard.flush()

        if let hold {
            let end = ContinuousClock.now + hold
            while ContinuousClock.now < end {
                let left = end - ContinuousClock.now
                let (s, a) = left.components
                var ts = timespec(tv_sec: Int(s), tv_nsec: Int(a / 1_000_000_000))
                let sig = sigtimedwait(&signals, nil, &ts)
                if sig > 0 {
                    try? memory.unlock()
                    Output.standard.print("unlocked (signal \(sig))")
                    Output.standard.flush()
                    throw CommandError(message: "interrupted; lock released", code: 128 + sig)
                }
            }
            try memory.unlock()
            Output.standard.print("unlocked")
            return
        }
        let status = try runChild(command)
        try memory.unlock()
        Output.standard.flush()
        if status != 0 { throw ExitCode(status) }
    }

    private func pendingSignal(_ set: sigset_t) -> Int32? {
        var pending = sigset_t()
        sigpending(&pending)
        for s in [SIGINT, SIGTERM, SIGHUP] where sigismember(&pending, s) == 1 {
            var one = sigset_t()
            sigemptyset(&one)
            sigaddset(&one, s)
            var got: Int32 = 0
            sigwait(&one, &got)
            return s
        }
        return nil
    }

    /// Runs the command with a clean signal state and waits for it, returning its exit status (128+signal).
    private func runChild(_ argv: [String]) throws -> Int32 {
        ChildProcess.wait(try ChildProcess.spawn(argv, searchPath: true, silent: false))
    }
}
