import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// A real Qt 5 peer and shmscope increment one shared 32-bit counter at offset 0 at the same time, each under the
/// segment's lock: the final count is exact. The same runs without the lock lose updates, so the test can fail:
/// were shmscope's lock not Qt's lock, the locked runs would lose updates just like the unlocked ones.
/// A few dozen increments are committed from the TUI under tmux the way a person would: `L`, read the counter off
/// the screen, `e`, type the incremented bytes, F8 and `y` in the commit dialog, Esc, `U`.
@Suite(.serialized, .enabled(if: QtPeer.available)) struct LostUpdateTests {
    /// The Qt peer with a fresh 64-byte segment (counter 0), attached read-write.
    func qtCounter(_ tag: String) throws -> (key: String, peer: Child) {
        let key = uniqueName(tag)
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 64") == "ok")
        return (key, qt)
    }

    func counter(_ key: String) throws -> UInt32 {
        let m = SharedMemory(.qt(key: key, backend: .systemV), options: .init(detachPolicy: .keep))
        try m.attach(.readOnly)
        defer { try? m.detach() }
        return try m.read(offset: 0, count: 4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    /// `n` increments through ShmCore's `SharedMemory`, the code every shmscope command and the TUI use, each
    /// sleeping 10 µs between its read and its write. Returns how often the value read was not the one we wrote
    /// last: the Qt peer's increments landed in between, so the two loops really ran at the same time.
    func incrementInProcess(_ key: String, _ n: Int, locked: Bool) throws -> Int {
        let m = SharedMemory(.qt(key: key, backend: .systemV), options: .init(detachPolicy: .keep))
        try m.attach(.readWrite)
        defer { try? m.detach() }
        var interleaved = 0
        var ours: UInt32?
        for _ in 0..<n {
            if locked { try m.lock() }
            let value = try m.read(offset: 0, count: 4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            // A little work between read and write, as a real read-modify-write has: on a loaded machine the two
            // loops would otherwise take turns on one core, and without the lock almost never collide.
            usleep(10)
            try m.write(withUnsafeBytes(of: value &+ 1) { Array($0) }, at: 0)
            if locked { try m.unlock() }
            if let ours, ours != value { interleaved += 1 }
            ours = value &+ 1
        }
        return interleaved
    }

    /// One increment by the command line: read with `dump --format raw`, add one, write with `write --no-lock`,
    /// all inside `lock KEY -- sh -c …` (or without `lock` for the unlocked run).
    static let incrementScript = #"""
        set -eu
        bin=$1; key=$2; n=$3; locked=$4
        one='v=$("$0" dump "$1" --format raw --length 4 | od -An -tu4 | tr -d " ")
             "$0" write "$1" --no-lock --offset 0 --hex "$(printf %08x $((v + 1)) | sed "s/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/")" >/dev/null'
        i=0
        while [ $i -lt $n ]; do
          if [ "$locked" = 1 ]; then
            "$bin" lock "$key" -- sh -c "$one" "$bin" "$key" >/dev/null
          else
            sh -c "$one" "$bin" "$key"
          fi
          i=$((i + 1))
        done
        """#

    func incrementByCLI(_ key: String, _ n: Int, locked: Bool) throws -> Child {
        try Child(
            "/bin/sh", ["-c", Self.incrementScript, "sh", ShmscopeBinary.path, "qt:" + key, "\(n)", locked ? "1" : "0"],
            environment: ShmscopeBinary.environment)
    }

    /// Starts the Qt peer incrementing until `stop` (at most 10^9 times, `pauseMicroseconds` apart).
    func startQtIncrements(_ qt: Child, locked: Bool, pauseMicroseconds: Int) {
        qt.send("increment 1000000000 \(locked ? "lock" : "nolock") \(pauseMicroseconds)")
    }

    /// Stops the Qt peer's increments and returns how many it made.
    func stopQtIncrements(_ qt: Child) throws -> Int {
        qt.send("stop")
        let reply = try #require(qt.readLine(timeout: 30))
        let count = reply.split(separator: " ").first { $0.hasPrefix("count=") }.flatMap { Int($0.dropFirst(6)) }
        return try #require(count, "qtpeer: \(reply)")
    }

    /// Thousands of increments from each side, in process: the Qt peer runs from before our first increment to
    /// after our last.
    @Test func inProcessIncrementsUnderTheLockAreExactAndWithoutItAreLost() throws {
        let n = 5_000
        for locked in [true, false] {
            let (key, qt) = try qtCounter(locked ? "lostlocked" : "lostunlocked")
            defer { cleanUp(.qt(key: key, backend: .systemV)) }
            let start = Date()
            startQtIncrements(qt, locked: locked, pauseMicroseconds: 0)
            usleep(20_000)
            let interleaved = try incrementInProcess(key, n, locked: locked)
            let qtCount = try stopQtIncrements(qt)
            let total = Int(try counter(key))
            print(
                "lost update, in process, \(locked ? "locked" : "no lock"): \(n) ours + \(qtCount) Qt = \(n + qtCount),"
                    + " counter \(total), \(interleaved) of ours had Qt's in between, \(Date().timeIntervalSince(start)) s")
            if locked {
                // Qt's increments landed between ours, so the two loops did run at the same time: an exact count
                // is the lock's doing, not the loops taking turns. (Without the lock the lost updates show it.)
                #expect(interleaved > 0, "the two loops never interleaved: the test proves nothing")
                #expect(total == n + qtCount)
            } else {
                #expect(total < n + qtCount, "without the lock no update was lost: the test could not fail")
            }
            #expect(qt.ask("quit") == "ok")
        }
    }

    /// The command line against the Qt peer: `lock KEY -- sh -c 'dump | +1 | write --no-lock'` per increment, while
    /// the Qt peer increments under its lock every millisecond from before the first to after the last.
    @Test func cliIncrementsUnderTheLockAreExactAndWithoutItAreLost() throws {
        // Thousands under the lock: two command lines at once (each increment is a few processes), and the Qt peer.
        for (locked, perShell, shells) in [(true, 1000, 2), (false, 20, 1)] {
            let (key, qt) = try qtCounter(locked ? "lostcli" : "lostclinolock")
            defer { cleanUp(.qt(key: key, backend: .systemV)) }
            let start = Date()
            startQtIncrements(qt, locked: locked, pauseMicroseconds: 1000)
            let running = try (0..<shells).map { _ in try incrementByCLI(key, perShell, locked: locked) }
            for shell in running {
                let end = shell.finish()
                #expect(end.status == 0, "\(end.stderr)")
            }
            let cli = perShell * shells
            let qtCount = try stopQtIncrements(qt)
            let total = Int(try counter(key))
            print(
                "lost update, CLI, \(locked ? "locked" : "no lock"): \(cli) CLI + \(qtCount) Qt = \(cli + qtCount),"
                    + " counter \(total), \(Date().timeIntervalSince(start)) s")
            if locked {
                #expect(total == cli + qtCount)
            } else {
                #expect(total < cli + qtCount, "without the lock no update was lost: the test could not fail")
            }
            #expect(qt.ask("quit") == "ok")
        }
    }

    /// The counter (the first four bytes, little-endian) as the hex view shows it.
    static func counterOnScreen(_ screen: String) -> UInt32? {
        guard let row = screen.split(separator: "\n").first(where: { $0.hasPrefix("00000000 ") }) else { return nil }
        let bytes = row.split(separator: " ").dropFirst().prefix(4).compactMap { UInt8($0, radix: 16) }
        guard bytes.count == 4 else { return nil }
        return bytes.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    /// Commits from the TUI, each a read-modify-write under the lock, while the Qt peer increments under its lock:
    /// the final count is exact.
    @Test(.enabled(if: toolAvailable("tmux") { which("tmux") != nil })) func tuiCommitsUnderTheLockLoseNothing() throws {
        let commits = 25
        let (key, qt) = try qtCounter("losttui")
        defer {
            _ = qt.ask("quit")
            cleanUp(.qt(key: key, backend: .systemV))
        }
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("VIEW") != nil, "\(screen.capture())")
        startQtIncrements(qt, locked: true, pauseMicroseconds: 2_000)
        for i in 0..<commits {
            screen.send("g")
            screen.send("L")
            try #require(screen.waitFor("locked by us") != nil, "commit \(i): \(screen.capture())")
            // Two frames a refresh apart that agree: the view shows the counter as it is under our lock.
            var value: UInt32?
            for _ in 0..<20 {
                usleep(250_000)
                let a = Self.counterOnScreen(screen.capture())
                usleep(150_000)
                let b = Self.counterOnScreen(screen.capture())
                if let a, a == b {
                    value = a
                    break
                }
            }
            let v = try #require(value, "commit \(i): \(screen.capture())")
            let hex = withUnsafeBytes(of: (v &+ 1).littleEndian) { $0.map { String(format: "%02x", $0) }.joined() }
            screen.send("e")
            try #require(screen.waitFor("EDIT") != nil)
            screen.send("-l", hex)
            screen.send("F8")
            try #require(screen.waitFor("y writes under the lock") != nil, "commit \(i): \(screen.capture())")
            screen.send("y")
            try #require(screen.waitFor("wrote 4 bytes") != nil, "commit \(i): \(screen.capture())")
            screen.send("Escape")
            screen.send("U")
            try #require(screen.waitFor(timeout: 5) { !$0.contains("locked by us") } != nil)
        }
        let qtCount = try stopQtIncrements(qt)
        #expect(qtCount > 0, "the Qt peer ran alongside")
        #expect(try counter(key) == UInt32(qtCount + commits), "Qt \(qtCount) + TUI \(commits)")
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
    }
}
