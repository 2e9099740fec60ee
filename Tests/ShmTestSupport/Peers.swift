import Foundation
import Glibc
import ShmCore

/// Where the test binaries and built products are (…/.build/<triple>/<config>).
public let productsDirectory: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent()

/// The package root (…/Tests/ShmTestSupport/Peers.swift → package).
public let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

public let isCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "0" && $0 != "false" } ?? false

/// Whether a test needing `tool` should run. In CI it always runs (and fails if the tool is missing);
/// elsewhere a missing tool skips it with a visible message.
public func toolAvailable(_ tool: String, _ check: () -> Bool) -> Bool {
    if check() { return true }
    if isCI { return true }
    FileHandle.standardError.write("note: skipping tests that need \(tool): not installed (they run in CI)\n".data(using: .utf8)!)
    return false
}

/// A unique name for one test's IPC objects: pid, a counter and a random tag, so parallel tests and runs never collide.
public func uniqueName(_ tag: String) -> String {
    let n = counter.next()
    return "shmtest_\(tag)_\(getpid())_\(n)_\(UInt32.random(in: 0...UInt32.max) % 100_000)"
}

private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

private let counter = Counter()

/// The Qt 5 peer program (Tests/Peers/qtpeer.cpp), compiled once per test process with g++ and pkg-config Qt5Core.
public enum QtPeer {
    public static let available: Bool = toolAvailable("Qt 5 (qtbase5-dev) and g++") {
        which("g++") != nil && which("pkg-config") != nil
            && (try? run(which("pkg-config")!, ["--exists", "Qt5Core"]).status) == 0
    }

    private static let buildLock = NSLock()
    nonisolated(unsafe) private static var builtPath: String?

    public static func path() throws -> String {
        buildLock.lock()
        defer { buildLock.unlock() }
        if let builtPath { return builtPath }
        let source = packageRoot.appendingPathComponent("Tests/Peers/qtpeer.cpp").path
        let output = productsDirectory.appendingPathComponent("qtpeer-test").path
        let flags = try run("/bin/sh", ["-c", "pkg-config --cflags --libs Qt5Core"])
        guard flags.status == 0 else { throw PeerError("pkg-config Qt5Core failed: \(flags.stderr)") }
        let args = ["-std=c++17", "-fPIC", source, "-o", output + ".tmp"]
            + flags.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let built = try run(which("g++") ?? "/usr/bin/g++", args)
        guard built.status == 0 else { throw PeerError("g++ qtpeer.cpp failed: \(built.stderr)") }
        rename(output + ".tmp", output)
        builtPath = output
        return output
    }

    /// Starts the peer with a key set; returns it after its "ready" line.
    public static func start(key: String? = nil, environment: [String: String]? = nil) throws -> Child {
        let child = try Child(try path(), [], environment: environment)
        guard let ready = child.readLine(), ready.hasPrefix("ready") else { throw PeerError("qtpeer did not start") }
        if let key { _ = child.ask("key \(key)") }
        return child
    }
}

/// Creates the POSIX object `name` (`/NAME`) with `size` zero bytes in one step as a watcher sees it: made and sized
/// under a temporary name, then renamed into place. `shm_open` + `ftruncate` (what Python's `SharedMemory` does)
/// leaves a moment in which the object exists with size 0, and a watcher that polls then rightly reports
/// "reattached 0" and then "resized 0 32".
public func createPosixObjectAtOnce(_ name: String, size: Int) throws {
    let temporary = "/dev/shm/.\(name.dropFirst()).\(getpid()).new"
    let fd = open(temporary, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw PeerError("cannot create \(temporary): errno \(errno)") }
    defer { close(fd) }
    guard ftruncate(fd, off_t(size)) == 0, rename(temporary, "/dev/shm" + name) == 0 else {
        unlink(temporary)
        throw PeerError("cannot make \(name) at once: errno \(errno)")
    }
}

/// The Python peer (Tests/Peers/pypeer.py) on multiprocessing.shared_memory.
public enum PythonPeer {
    public static let available: Bool = toolAvailable("python3") { which("python3") != nil }

    public static func start() throws -> Child {
        let script = packageRoot.appendingPathComponent("Tests/Peers/pypeer.py").path
        let child = try Child(which("python3") ?? "/usr/bin/python3", ["-u", script])
        guard let ready = child.readLine(), ready.hasPrefix("ready") else { throw PeerError("pypeer did not start") }
        return child
    }
}

public struct PeerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Hex text → bytes ("68656c6c6f" → "hello").
public func bytes(fromHex hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.makeIterator()
    while let a = it.next(), let b = it.next() {
        if let v = UInt8(String([a, b]), radix: 16) { out.append(v) }
    }
    return out
}

/// Removes whatever a test made for a Qt key or POSIX name, even after a failure.
public func cleanUp(_ target: SegmentTarget, temporaryDirectory: String? = nil) {
    let m = SharedMemory(target, options: .init(detachPolicy: .keep, temporaryDirectory: temporaryDirectory))
    try? m.remove()
    // `rm` leaves a key file that names no segment or semaphore (it cannot prove it is ours); a test's key files
    // are ours by their unique names, so they go too.
    if case .qt(let key, .systemV) = target {
        let dir = temporaryDirectory ?? QtNaming.tempPath()
        for prefix in [QtNaming.sharedMemoryPrefix, QtNaming.semaphorePrefix] {
            let path = dir + "/" + QtNaming.legacyName(for: key, prefix: prefix)
            var st = stat()
            if lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG { unlink(path) }
        }
    }
}

/// A real Qt 6.6 peer through PyQt6 from PyPI (Tests/Peers/pyqt6peer.py), run by the virtual environment that
/// `.ci/run` creates (`.venv-pyqt6`, or `SHMSCOPE_PYQT6_PYTHON`).
public enum Qt6Peer {
    public static var python: String {
        ProcessInfo.processInfo.environment["SHMSCOPE_PYQT6_PYTHON"]
            ?? packageRoot.appendingPathComponent(".venv-pyqt6/bin/python").path
    }

    public static let available: Bool = toolAvailable("PyQt6 6.6 (run .ci/run or scripts/setup-pyqt6.sh)") {
        access(python, X_OK) == 0 && (try? run(python, ["-c", "import PyQt6.QtCore"]).status) == 0
    }

    /// Starts the peer; `setup` is its first command (`legacy KEY`, `native posix KEY`, `native sysv KEY`).
    public static func start(_ setup: String, environment: [String: String]? = nil) throws -> Child {
        let script = packageRoot.appendingPathComponent("Tests/Peers/pyqt6peer.py").path
        var env = environment ?? ProcessInfo.processInfo.environment
        env["QT_QPA_PLATFORM"] = "offscreen"
        let child = try Child(python, ["-u", script], environment: env)
        guard let ready = child.readLine(timeout: 30), ready.hasPrefix("ready") else {
            throw PeerError("pyqt6peer did not start: \(child.finish().stderr)")
        }
        let reply = child.ask(setup)
        guard reply.hasPrefix("ok") else { throw PeerError("pyqt6peer: \(reply)") }
        return child
    }
}
