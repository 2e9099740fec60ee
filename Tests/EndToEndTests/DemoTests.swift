import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// `shmscope demo`: the first thing a new user runs.
@Suite(.serialized, .enabled(if: toolAvailable("tmux") { which("tmux") != nil })) struct DemoTests {
    /// The counter (bytes 8...15 of row 0) as shown on screen.
    private func counterOnScreen(_ screen: String) -> String? {
        guard let row = screen.split(separator: "\n").first(where: { $0.hasPrefix("00000000") }) else { return nil }
        let hex = row.split(separator: " ", omittingEmptySubsequences: true)
        return hex.count > 16 ? hex[9...16].joined(separator: " ") : nil
    }

    @Test func demoShowsALiveCounterAndLeavesNothingBehind() throws {
        let key = uniqueName("demo")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let screen = try TmuxScreen(arguments: ["demo", "--key", key])
        defer { screen.kill() }
        // The viewer reads without the lock (looking never locks), so a frame may catch an update half-made;
        // the message follows within an update or two.
        let first = try #require(screen.waitFor("hello from the s"))
        #expect(first.contains("SHMDEMO"))
        let counter = try #require(counterOnScreen(first))
        // The writer updates it several times a second: it visibly changes.
        let later = screen.waitFor(timeout: 5) { s in counterOnScreen(s).map { $0 != counter } ?? false }
        #expect(later != nil, "counter stayed at \(counter)")

        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.attach(.readOnly)
        let keyFile = m.nativeKey
        let tmp = QtNaming.tempPath()
        let semFile = tmp + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
        let semKey = ftok(semFile, 0x51)
        try m.detach()

        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        // Everything the demo made is gone: segment, key files, semaphore; the writer is gone too.
        #expect(access(keyFile, F_OK) == -1)
        #expect(access(semFile, F_OK) == -1)
        #expect(semget(semKey, 0, 0) == -1)
        #expect(Catalog.scan(.init()).entry(for: target) == nil)
        let writers = try run("/usr/bin/pgrep", ["-f", "demo --writer-only --die-with-parent --key \(key)"])
        #expect(writers.stdout.isEmpty)
    }

    @Test(.enabled(if: QtPeer.available)) func writerHoldsTheQtLockWhileItWrites() throws {
        let key = uniqueName("demolock")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let writer = try ShmscopeBinary.start(["demo", "--writer-only", "--key", key, "--interval", "100", "--hold", "60"])
        #expect(writer.readLine()?.hasPrefix("demo writer: created qt:\(key)") == true)
        // Named apart from the viewer, so a lock it holds never reads as held by "shmscope".
        let comm = try String(contentsOfFile: "/proc/\(writer.pid)/comm", encoding: .utf8)
        #expect(comm == "demo-writer\n")
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("attach rw") == "ok")
        // A Qt peer's lock() contends with the writer: over 20 tries, some wait for it.
        var waits: [Int] = []
        for _ in 0..<20 {
            let reply = qt.ask("lock")
            waits.append(Int(reply.replacingOccurrences(of: "ok waited_ms=", with: "")) ?? -1)
            #expect(qt.ask("unlock") == "ok")
            usleep(37_000)
        }
        #expect(waits.contains { $0 >= 5 }, "Qt's lock() never waited: \(waits)")
        // The counter moves, and Qt reads the record the writer made.
        let before = qt.ask("read 8 8")
        usleep(300_000)
        #expect(qt.ask("read 8 8") != before)
        #expect(qt.ask("read 0 7") == "ok " + Array("SHMDEMO".utf8).map { String(format: "%02x", $0) }.joined())
        #expect(qt.ask("detach") == "ok")
        writer.signal(SIGTERM)
        #expect(writer.wait() == 0)
        // The writer created the segment, so it removed it (and its lock) on the way out.
        #expect(access(SharedMemory(target).nativeKey, F_OK) == -1)
    }
}
