import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// `replay`'s timeline and a TUI breakpoint in the real binary under tmux, against the Qt 5 peer.
@Suite(.serialized, .enabled(if: toolAvailable("tmux") { which("tmux") != nil } && QtPeer.available))
struct DebuggingTmuxTests {
    func waitUntilAttached(_ pid: pid_t) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let maps = try? readFile("/proc/\(pid)/maps"), String(decoding: maps, as: UTF8.self).contains("/SYSV") {
                usleep(150_000)
                return
            }
            usleep(10_000)
        }
        throw PeerError("watch never attached")
    }

    @Test func replayStepsThroughARecordingWithDotAndComma() throws {
        let key = uniqueName("tuireplay")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 256") == "ok")
        #expect(qt.ask("write 0 start") == "ok")
        let file = "/tmp/" + uniqueName("tuireplay") + ".shmrec"
        defer { unlink(file) }
        let watch = try ShmscopeBinary.start(["watch", key, "--record", file, "--log", "--interval", "20ms"])
        try waitUntilAttached(watch.pid)
        for word in ["one!!", "two!!", "three"] {
            #expect(qt.ask("write 0 \(word)") == "ok")
            #expect(watch.readLine(timeout: 10) != nil)
        }
        watch.signal(SIGINT)
        #expect(watch.finish().status == 0)
        #expect(qt.ask("quit") == "ok")

        let screen = try TmuxScreen(arguments: ["replay", file])
        defer { screen.kill() }
        let first = try #require(screen.waitFor("change 0/3"), "\(screen.capture())")
        #expect(first.contains("|start"))
        #expect(first.contains("REPLAY +0.000s"))
        screen.send(".")
        #expect(screen.waitFor { $0.contains("change 1/3") && $0.contains("|one!!") } != nil, "\(screen.capture())")
        screen.send(".")
        #expect(screen.waitFor { $0.contains("change 2/3") && $0.contains("|two!!") } != nil, "\(screen.capture())")
        screen.send(",")
        #expect(screen.waitFor { $0.contains("change 1/3") && $0.contains("|one!!") } != nil, "\(screen.capture())")
        screen.send("G")
        screen.send(".")
        screen.send(".")
        #expect(screen.waitFor { $0.contains("change 3/3") && $0.contains("|three") } != nil, "\(screen.capture())")
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
    }

    @Test func aBreakpointPausesTheLiveViewOnTheHit() throws {
        let key = uniqueName("tuibreak")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 256") == "ok")
        #expect(qt.ask("write 0 hello") == "ok")
        let screen = try TmuxScreen(arguments: ["watch", "qt:" + key, "--interval", "20ms"])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        screen.send("l", "l", "l", "B")
        try #require(screen.waitFor("Breakpoint [Tab: no freeze]") != nil, "\(screen.capture())")
        #expect(screen.capture().contains("changed(u8@0x3)"))
        screen.send("Enter")
        try #require(screen.waitFor("breakpoint 1 set: changed(u8@0x3)") != nil, "\(screen.capture())")
        #expect(qt.ask("write 0 help!") == "ok")
        let hit = try #require(screen.waitFor("breakpoint 1 hit at"), "\(screen.capture())")
        #expect(hit.contains("u8@0x3=112"), "`p` is 0x70 = 112: \(hit)")
        #expect(hit.contains("PAUSED"))
        #expect(hit.contains("─ Who ─"))
        #expect(hit.contains("pid \(qt.pid) qtpeer-test"))
        // Paused on the matching frame: a later write does not show until p.
        #expect(qt.ask("write 0 world") == "ok")
        usleep(300_000)
        #expect(screen.capture().contains("|help!"))
        screen.send("p")
        #expect(screen.waitFor("|world") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }
}
