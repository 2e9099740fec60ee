import CShmShims
import Glibc

/// Child processes started by commands (the command under `lock --`, the demo writer).
enum ChildProcess {
    /// Starts `argv` with an empty signal mask and default handlers: our own blocked signals (lock, demo) must not
    /// leak into the child. `searchPath` looks `argv[0]` up on PATH; `silent` sends stdin/out/err to /dev/null.
    static func spawn(_ argv: [String], searchPath: Bool, silent: Bool) throws -> pid_t {
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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if silent {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var pid: pid_t = 0
        Output.standard.flush()
        let rc =
            searchPath
            ? posix_spawnp(&pid, argv[0], &actions, &attr, cargs, environ)
            : posix_spawn(&pid, argv[0], &actions, &attr, cargs, environ)
        guard rc == 0 else {
            throw CommandError(message: "cannot run \(argv[0]): \(String(cString: strerror(rc)))", code: 127)
        }
        return pid
    }

    /// Waits for `pid`; its exit status, or 128+signal.
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return shm_shim_wifexited(status) != 0 ? shm_shim_wexitstatus(status) : 128 + shm_shim_wtermsig(status)
    }

    /// This executable's real path (so a re-executed copy shows up as "shmscope", not "exe").
    static var ownExecutable: String {
        guard let p = realpath("/proc/self/exe", nil) else { return "/proc/self/exe" }
        defer { free(p) }
        return String(cString: p)
    }
}
