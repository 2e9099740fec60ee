import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// The new panes of the real binary in a private tmux server, against real Qt 5 and Python peers.
@Suite(.serialized, .enabled(if: toolAvailable("tmux") { which("tmux") != nil } && QtPeer.available))
struct WatchTmuxTests {
    func qtSegment(_ tag: String) throws -> (key: String, peer: Child) {
        let key = uniqueName(tag)
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 4096") == "ok")
        #expect(qt.ask("write 0 hello") == "ok")
        return (key, qt)
    }

    @Test func whoPaneShowsTheQtPeerAndItsLock() throws {
        let (key, qt) = try qtSegment("tuiwho")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        #expect(qt.ask("lock").hasPrefix("ok"))
        let screen = try TmuxScreen(arguments: ["watch", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        screen.send("W")
        let who = try #require(screen.waitFor("pid \(qt.pid) qtpeer-test uid 0 (root) rw"), "\(screen.capture())")
        #expect(who.contains("─ Who ─"))
        #expect(who.contains("lock qt-sysv-semaphore: held by pid \(qt.pid) (qtpeer-test); value 0; waiters 0"))
        // shmscope itself is attached read-only.
        #expect(who.contains(try Regex(#"pid \d+ shmscope uid 0 \(root\) r\n"#)))
        // Live: the pane follows the lock within about a second.
        #expect(qt.ask("unlock") == "ok")
        let freed = screen.waitFor(timeout: 5) { $0.contains("lock qt-sysv-semaphore: free; value 1; last pid") }
        #expect(freed?.contains("last pid \(qt.pid) (qtpeer-test); waiters 0") == true)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    @Test(.enabled(if: PythonPeer.available)) func whoPaneShowsThePythonPeer() throws {
        let name = "/" + uniqueName("tuiwhopy")
        defer { cleanUp(.posix(name: name)) }
        let py = try PythonPeer.start()
        #expect(py.ask("create \(name.dropFirst()) 256") == "ok")
        let screen = try TmuxScreen(arguments: ["watch", name])
        defer { screen.kill() }
        try #require(screen.waitFor("256 B RO") != nil)
        screen.send("W")
        let who = try #require(screen.waitFor("pid \(py.pid) python3 uid 0 (root) rw"), "\(screen.capture())")
        #expect(who.contains("lock flock (advisory: only cooperating tools wait): free"))
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(py.ask("quit") == "ok")
    }

    @Test func inspectorValueIsWrittenAndQtReadsItBack() throws {
        let (key, qt) = try qtSegment("tuiinspect")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        screen.send("i")
        // Wait for the pane's last line, not its title: capture-pane can catch a half-painted frame.
        let pane = try #require(screen.waitFor(" str \"hello\""))
        #expect(pane.contains("─ Inspector @0x00000000"))
        #expect(pane.contains(" u32 1819043176             1751477356"))
        #expect(pane.contains(" str \"hello\""))
        screen.send("Right", "Right", "Right", "Right")
        screen.send("e", "=")
        try #require(screen.waitFor("Write value (u32 7, i16be -2, f64 1.5):") != nil)
        screen.send("-l", "u32be 305419896")
        screen.send("Enter")
        try #require(screen.waitFor("Commit? (y/n)") != nil)
        screen.send("y")
        let after = try #require(screen.waitFor("wrote 4 bytes"))
        #expect(after.contains("00000000  68 65 6c 6c 12 34 56 78"))
        #expect(after.contains(" u32 2018915346             305419896"))
        #expect(qt.ask("read 4 4") == "ok 12345678")
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func watchIsReadOnlyAndItsEditKeysSaySo() throws {
        let (key, qt) = try qtSegment("tuiwatchro")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(arguments: ["watch", "qt:" + key])
        defer { screen.kill() }
        // The key bar is the last row painted: wait for it too, or a capture can land mid-frame.
        let first = try #require(screen.waitFor { $0.contains("4096 B RO") && $0.contains("F10Quit") })
        #expect(first.contains("F1Help F4Goto : F5Pause p F6Find / F7Pane F9Snap s F10Quit q"))
        #expect(!first.contains("F2Lock") && !first.contains("F8Commit") && !first.contains("eEdit"))
        screen.send("e")
        #expect(screen.waitFor("attached read-only (--read-only, watch): no edit mode") != nil)
        screen.send("L")
        #expect(screen.waitFor("attached read-only (--read-only, watch): locking is for editing") != nil)
        screen.send("F8")
        #expect(screen.waitFor("attached read-only: nothing can be written") != nil)
        screen.send("Escape", "IC")
        #expect(screen.waitFor("attached read-only (--read-only, watch): no edit mode") != nil)
        // A peer's write still shows up, and a snapshot diff marks it.
        screen.send("s")
        #expect(screen.waitFor("snapshot taken: diff on") != nil)
        #expect(qt.ask("write 32 zz") == "ok")
        screen.send("]")
        #expect(screen.waitFor("diff run 1/1 at 0x00000020, 2 bytes") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("read 0 5") == "ok 68656c6c6f")
        #expect(qt.ask("quit") == "ok")
    }

    @Test func watchFollowsTruncationAndRemoval() throws {
        let name = "/" + uniqueName("tuitrunc")
        defer { cleanUp(.posix(name: name)) }
        let m = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try m.create(size: 4096)
        try m.write(Array("still here".utf8), at: 0)
        try m.detach()
        let screen = try TmuxScreen(arguments: ["watch", name])
        defer { screen.kill() }
        try #require(screen.waitFor("|still here") != nil)
        #expect(truncate("/dev/shm" + name, 32) == 0)
        let resized = try #require(screen.waitFor("segment resized by a peer from 4096 to 32 bytes: mapped again"))
        #expect(resized.contains("\(name) (POSIX) 32 B RO"))
        #expect(!resized.contains("00000020  "))
        cleanUp(.posix(name: name))
        let removed = try #require(screen.waitFor("segment removed by another process: showing the copy we still have mapped"))
        #expect(removed.contains("│ REMOVED"))
        #expect(removed.contains("|still here"))
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
    }

    @Test func layoutPaneFollowsAQtPeersStruct() throws {
        let (key, qt) = try qtSegment("tuilayout")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        #expect(qt.ask("writehex 8 d2040000") == "ok")
        let file = "/tmp/\(uniqueName("tuilayout")).layout"
        defer { unlink(file) }
        _ = FileManager.default.createFile(atPath: file, contents: Data("name char[5] @0\ncounter u32 @8\n".utf8))
        let screen = try TmuxScreen(arguments: ["watch", "qt:" + key, "--layout", file])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        screen.send("t")
        let table = try #require(screen.waitFor(" counter u32le   @0x0008 1234"))
        #expect(table.contains("─ Layout (2 fields); f jumps to a field ─"))
        #expect(table.contains(" name    char[5] @0x0000 \"hello\""))
        #expect(table.contains(" counter u32le   @0x0008 1234"))
        #expect(qt.ask("writehex 8 2e160000") == "ok")
        #expect(screen.waitFor(" counter u32le   @0x0008 5678") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }
}
