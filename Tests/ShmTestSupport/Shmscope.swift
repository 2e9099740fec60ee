import Foundation
import Glibc

/// Runs the built `shmscope` binary with a private known-keys store, so tests never touch the user's.
public enum ShmscopeBinary {
    public static var path: String { productsDirectory.appendingPathComponent("shmscope").path }

    /// A private state dir for the known-keys store: each test run uses its own, named after the pid, and removes
    /// it when the test process exits.
    public static let stateHome: String = {
        let dir = stateHomePath
        mkdir(dir, 0o700)
        atexit { try? FileManager.default.removeItem(atPath: ShmscopeBinary.stateHomePath) }
        return dir
    }()

    private static var stateHomePath: String { "/tmp/shmscope-test-state-\(getpid())" }

    public static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["XDG_STATE_HOME"] = stateHome
        env["SHMSCOPE_KEYS"] = nil
        env["NO_COLOR"] = "1"
        // `list` and the browser show every IPC namespace by default; the namespace tests make containers while
        // other tests run, so the others list only their own namespace (the namespace tests pass --ns).
        env["SHMSCOPE_NS"] = "self"
        return env
    }

    /// For `list`: wide enough that no column is dropped or cut (tests of fitting set COLUMNS themselves). Not for
    /// the TUI: ncurses would take COLUMNS as the terminal's width.
    public static var wideEnvironment: [String: String] {
        var env = environment
        env["COLUMNS"] = "1000"
        return env
    }

    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try ShmTestSupport.run(path, arguments, environment: environment ?? Self.environment, stdin: stdin)
    }

    /// Starts it in the background (for `lock --hold`).
    public static func start(_ arguments: [String]) throws -> Child {
        try Child(path, arguments, environment: environment)
    }
}
