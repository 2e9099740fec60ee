import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// A private tmux server running one shmscope TUI, driven with send-keys and read with capture-pane.
/// Started through `Child` (posix_spawn, clean signal mask): Foundation.Process hangs on tmux's daemon and would
/// hand the TUI a blocked SIGWINCH (swift-linux.md §6).
final class TmuxScreen {
    let socket = uniqueName("tmux")
    let tmux = which("tmux") ?? "/usr/bin/tmux"

    init(width: Int = 100, height: Int = 30, environment: [String] = [], arguments: [String]) throws {
        let binary = productsDirectory.appendingPathComponent("shmscope").path
        let quoted = (environment + [binary] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
        // The pane stays open after shmscope exits, so its exit code and the restored screen can be read.
        // NO_COLOR is cleared so a caller's setting never leaks in; tests that want it pass it in `environment`.
        let command = "env -u NO_COLOR LANG=C.UTF-8 TERM=xterm-256color \(quoted); echo EXIT=$?; sleep 120"
        let r = try run(
            tmux,
            [
                "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "\(width)", "-y", "\(height)",
                command,
            ])
        guard r.status == 0 else { throw PeerError("tmux new-session failed: \(r.stderr)") }
    }

    func kill() { _ = try? run(tmux, ["-L", socket, "kill-server"]) }

    func capture() -> String {
        (try? run(tmux, ["-L", socket, "capture-pane", "-p", "-t", "main"]).stdout) ?? ""
    }

    /// The screen with SGR escapes (`capture-pane -e`).
    func captureWithEscapes() -> String {
        (try? run(tmux, ["-L", socket, "capture-pane", "-p", "-e", "-t", "main"]).stdout) ?? ""
    }

    func display(_ format: String) -> String {
        let out = (try? run(tmux, ["-L", socket, "display-message", "-p", "-t", "main", format]).stdout) ?? ""
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func send(_ keys: String...) { _ = try? run(tmux, ["-L", socket, "send-keys", "-t", "main"] + keys) }

    func resize(width: Int, height: Int) {
        _ = try? run(tmux, ["-L", socket, "resize-window", "-t", "main", "-x", "\(width)", "-y", "\(height)"])
    }

    /// Polls the screen until `predicate` holds; returns the matching screen, or nil after `timeout` seconds.
    @discardableResult
    func waitFor(timeout: Double = 10, _ predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let screen = capture()
            if predicate(screen) { return screen }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    func waitFor(_ text: String, timeout: Double = 10) -> String? { waitFor(timeout: timeout) { $0.contains(text) } }

    /// The shmscope process: the pane's shell's child.
    var appPID: pid_t? {
        guard let shell = Int32(display("#{pane_pid}")),
            let children = try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)
        else { return nil }
        return children.split(separator: " ").first.flatMap { Int32($0) }
    }
}

@Suite(.serialized, .enabled(if: toolAvailable("tmux") { which("tmux") != nil } && QtPeer.available))
struct TUITmuxTests {
    /// A Qt peer that created a 4096-byte segment with "hello" at 0.
    func qtSegment(_ tag: String) throws -> (key: String, peer: Child) {
        let key = uniqueName(tag)
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 4096") == "ok")
        #expect(qt.ask("write 0 hello") == "ok")
        return (key, qt)
    }

    func lockValue(_ key: String) throws -> Int? {
        // No attach: attaching takes the lock briefly, as Qt does, and would wait while the TUI holds it.
        SharedMemory(.qt(key: key, backend: .systemV), options: .init(detachPolicy: .keep)).lockState()?.value
    }

    @Test func showsQtSegmentAndFollowsPeerWrites() throws {
        let (key, qt) = try qtSegment("tuihello")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { screen.kill() }

        // The key bar is the last row painted: wait for it too, or a capture can land mid-frame.
        let first = try #require(screen.waitFor { $0.contains("|hello") && $0.contains("F10Quit") })
        #expect(first.contains("00000000  68 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |hello⋄⋄⋄⋄⋄⋄⋄⋄⋄⋄⋄|"))
        #expect(first.contains("qt:\(key) (Qt SysV) 4096 B VIEW │ unlocked │ @0x00000000 │ 10 Hz"))
        #expect(first.contains("F1Help eEdit F2Lock L"))

        #expect(qt.ask("write 16 world") == "ok")
        let start = Date()
        let live = try #require(screen.waitFor("77 6f 72 6c 64"), "the peer's write never showed up")
        #expect(live.contains("|world⋄"))
        #expect(Date().timeIntervalSince(start) < 1.0, "took more than a second at 10 Hz")
        // Just changed: white on red (SGR 41), fading to red (31); a second later the highlight is gone.
        #expect(screen.captureWithEscapes().contains(try Regex("(41|31)mw")))
        #expect(screen.waitFor(timeout: 3) { _ in !screen.captureWithEscapes().contains("41m") } != nil)

        screen.send("q")
        let after = try #require(screen.waitFor("EXIT="))
        #expect(after.contains("EXIT=0"))
        #expect(screen.display("#{alternate_on}") == "0")
        #expect(screen.display("#{mouse_any_flag}") == "0")
        #expect(try lockValue(key) == 1)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func lockFromTheTUIMakesQtWaitUntilU() throws {
        let (key, qt) = try qtSegment("tuilock")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)

        screen.send("L")
        try #require(screen.waitFor("│ locked by us │") != nil)
        #expect(try lockValue(key) == 0)
        qt.send("lock")
        #expect(qt.readLine(timeout: 0.8) == nil, "Qt's lock() returned while the TUI held the lock")
        screen.send("U")
        let reply = try #require(qt.readLine(timeout: 5))
        #expect(reply.hasPrefix("ok waited_ms="))
        // Qt holds it now; the TUI says so.
        let held = try #require(screen.waitFor("│ held by pid \(qt.pid) (qtpeer-test) │"))
        #expect(held.contains("VIEW │ held by"))
        screen.send("L")
        #expect(screen.waitFor("waiting for lock held by pid \(qt.pid) (qtpeer-test)… Esc cancels") != nil)
        screen.send("Escape")
        #expect(screen.waitFor("stopped waiting for the lock") != nil)
        // Waiting again; when Qt lets go, the TUI gets the lock without another key press.
        screen.send("L")
        try #require(screen.waitFor("│ waiting… pid \(qt.pid) (qtpeer-test) │") != nil)
        #expect(qt.ask("unlock") == "ok")
        try #require(screen.waitFor("│ locked by us │") != nil)
        #expect(try lockValue(key) == 0)
        // Quitting while we hold the lock gives it back.
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(try lockValue(key) == 1)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func stagedEditsCommitAndQtReadsThem() throws {
        let (key, qt) = try qtSegment("tuiedit")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)

        // View mode: hex digits are counts, `w` moves to the next value; nothing is staged.
        screen.send("4", "w")
        try #require(screen.waitFor("│ @0x00000010 │") != nil)
        screen.send("g", "e")
        try #require(screen.waitFor("4096 B EDIT │") != nil)
        screen.send("4", "a", "4", "b")
        try #require(screen.waitFor("|JKllo") != nil)
        #expect(qt.ask("read 0 5") == "ok " + Array("hello".utf8).hexString)
        screen.send("Tab", "X", "Y")
        try #require(screen.waitFor("|JKXYo") != nil)
        screen.send("C-s")
        try #require(screen.waitFor("Commit? (y/n)") != nil)
        #expect(qt.ask("read 0 5") == "ok " + Array("hello".utf8).hexString, "the dialog wrote nothing")
        screen.send("y")
        #expect(screen.waitFor("wrote 4 bytes") != nil)
        #expect(qt.ask("read 0 5") == "ok " + Array("JKXYo".utf8).hexString)
        #expect(try lockValue(key) == 1)

        // A commit while Qt holds the lock waits for it, then writes.
        #expect(qt.ask("lock").hasPrefix("ok"))
        screen.send("Escape", "Tab", "g", "e", "0", "0", "F8")
        try #require(screen.waitFor("Commit? (y/n)") != nil)
        screen.send("y")
        try #require(screen.waitFor("waiting for lock held by pid \(qt.pid) (qtpeer-test)… Esc cancels") != nil)
        #expect(qt.ask("read 0 1") == "ok 4a")
        #expect(qt.ask("unlock") == "ok")
        #expect(screen.waitFor("wrote 1 byte") != nil)
        #expect(qt.ask("read 0 1") == "ok 00")
        #expect(try lockValue(key) == 1)
        // `u` in view mode puts the old byte back under the lock.
        screen.send("Escape", "u")
        #expect(screen.waitFor("undid the last commit: wrote back 1 byte") != nil)
        #expect(qt.ask("read 0 1") == "ok 4a")
        screen.send("F10")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    /// The commit dialog against a real Qt peer: it names the peer's pid and Qt's semaphore before anything is
    /// written, and `y` writes what the peer then reads back.
    @Test func commitDialogNamesThePeerAndTheLockThenWrites() throws {
        let (key, qt) = try qtSegment("tuicommit")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(width: 120, height: 32, arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        screen.send("e")
        try #require(screen.waitFor("EDIT │") != nil)
        screen.send("Tab")
        screen.send("-l", "HOWDY")
        try #require(screen.waitFor("|HOWDY") != nil)
        screen.send("F8")
        let dialog = try #require(screen.waitFor("Commit? (y/n)"), "\(screen.capture())")
        #expect(dialog.contains("Write 5 bytes in 1 run:"))
        #expect(dialog.contains("0x00000000 5 bytes: 48 4f 57 44 59"))
        #expect(dialog.contains("Lock: qt-sysv-semaphore /tmp/qipc_systemsem_"), "\(dialog)")
        #expect(dialog.contains("pid \(qt.pid) qtpeer-test (rw)"), "\(dialog)")
        #expect(dialog.contains("y writes under the lock   Esc/n cancels"))
        #expect(qt.ask("read 0 5") == "ok " + Array("hello".utf8).hexString)
        screen.send("y")
        #expect(screen.waitFor("wrote 5 bytes") != nil)
        #expect(qt.ask("read 0 5") == "ok " + Array("HOWDY".utf8).hexString)
        #expect(try lockValue(key) == 1)
        screen.send("F10")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    /// Looking takes no lock: `open` attaches read-only at once while Qt holds its lock (a read-write attach
    /// would take Qt's lifecycle lock); `e` re-attaches read-write once the peer lets go.
    @Test func openingWhileQtHoldsTheLockNeverWaits() throws {
        let (key, qt) = try qtSegment("tuilook")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        #expect(qt.ask("lock").hasPrefix("ok"))
        let start = Date()
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        #expect(Date().timeIntervalSince(start) < 1.5, "the view waited for the peer's lock")
        #expect(try lockValue(key) == 0, "still the peer's")
        #expect(qt.ask("unlock") == "ok")
        screen.send("e")
        #expect(screen.waitFor("4096 B EDIT │") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(try lockValue(key) == 1)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func resizeReflowsBytesPerRow() throws {
        let (key, qt) = try qtSegment("tuiresize")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(width: 100, height: 30, arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("\n00000010  ") != nil)
        screen.resize(width: 160, height: 30)
        #expect(screen.waitFor("\n00000020  ") != nil, "no 32-byte rows at 160 columns")
        screen.resize(width: 60, height: 20)
        let narrow = try #require(screen.waitFor("\n00000008  "), "no 8-byte rows at 60 columns")
        #expect(narrow.contains("00000000  68 65 6c 6c 6f 00 00 00  |hello⋄⋄⋄|"))
        screen.resize(width: 30, height: 8)
        #expect(screen.waitFor("terminal too small") != nil)
        screen.resize(width: 100, height: 30)
        #expect(screen.waitFor("|hello") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func exitSignalRestoresTheTerminalAndReleasesTheLock(signal: Int32) throws {
        let (key, qt) = try qtSegment("tuisigterm")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        screen.send("L")
        try #require(screen.waitFor("│ locked by us │") != nil)
        #expect(try lockValue(key) == 0)
        let pid = try #require(screen.appPID)
        Glibc.kill(pid, signal)
        #expect(screen.waitFor("EXIT=\(128 + signal)") != nil)
        #expect(screen.display("#{alternate_on}") == "0")
        #expect(try lockValue(key) == 1)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func mouseClickPlacesTheCursorAndTheWheelScrolls() throws {
        let (key, qt) = try qtSegment("tuimouse")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        // SGR mouse reports (xterm-256color's kmous is \e[<): press and release of button 1 at column 15, row 3
        // (1-based), which is the second byte of the second row.
        screen.send("-l", "\u{1b}[<0;15;3M\u{1b}[<0;15;3m")
        #expect(screen.waitFor("│ @0x00000011 │") != nil)
        // Wheel down (button 65) scrolls three rows.
        screen.send("-l", "\u{1b}[<65;15;3M")
        let scrolled = try #require(screen.waitFor("VIEW │ unlocked │ @0x00000031 │"))
        #expect(scrolled.split(separator: "\n")[1].hasPrefix("00000030  "))
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func noColorDrawsWithoutColours() throws {
        let (key, qt) = try qtSegment("tuinocolor")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let plain = try TmuxScreen(environment: ["NO_COLOR=1"], arguments: ["open", "qt:" + key])
        defer { plain.kill() }
        let colored = try TmuxScreen(arguments: ["open", "qt:" + key])
        defer { colored.kill() }
        try #require(plain.waitFor("|hello") != nil)
        try #require(colored.waitFor("|hello") != nil)
        // SGR 30-37/90-97 set a foreground colour, 40-47 a background.
        let colour = try Regex("\u{1b}\\[([0-9;]*;)?(3[0-7]|9[0-7]|4[0-7])(;[0-9;]*)?m")
        #expect(colored.captureWithEscapes().contains(colour))
        #expect(!plain.captureWithEscapes().contains(colour))
        #expect(plain.captureWithEscapes().contains("\u{1b}[7m"))
        plain.send("q")
        colored.send("q")
        #expect(plain.waitFor("EXIT=0") != nil)
        #expect(colored.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func readOnlyRefusesEdits() throws {
        let (key, qt) = try qtSegment("tuiro")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let screen = try TmuxScreen(arguments: ["open", "--read-only", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("4096 B RO") != nil)
        screen.send("e")
        #expect(screen.waitFor("attached read-only (--read-only, watch): no edit mode") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("read 0 5") == "ok " + Array("hello".utf8).hexString)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func browserFiltersOpensAndComesBack() throws {
        let name = "/" + uniqueName("tuibrowse")
        defer { cleanUp(.posix(name: name)) }
        let m = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try m.create(size: 256)
        try m.write(Array("browse me".utf8), at: 0)
        try m.detach()

        let screen = try TmuxScreen(arguments: [])
        defer { screen.kill() }
        try #require(screen.waitFor("ATTACHED") != nil)
        #expect(screen.waitFor(String(name.prefix(30))) != nil)
        screen.send("/")
        screen.send("-l", String(name.dropFirst()))
        screen.send("Enter")
        let filtered = try #require(screen.waitFor("1 match"))
        #expect(filtered.split(separator: "\n").contains { $0.hasPrefix("posix ") && $0.contains(name) })
        screen.send("Enter")
        let hex = try #require(screen.waitFor("|browse me"))
        #expect(hex.contains("\(name) (POSIX) 256 B VIEW"))
        screen.send("q")
        #expect(screen.waitFor("ATTACHED") != nil)
        screen.send("r")
        #expect(screen.waitFor("256 B RO") != nil)
        screen.send("q")
        try #require(screen.waitFor("ATTACHED") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(screen.display("#{alternate_on}") == "0")
    }

    @Test func missingSegmentFailsWithOneLine() throws {
        let binary = productsDirectory.appendingPathComponent("shmscope").path
        let absent = uniqueName("absent")
        // A failed attach takes back the lock objects it created; cleaning up anyway costs nothing.
        defer { cleanUp(.qt(key: absent, backend: .systemV)) }
        // Without a terminal a TUI command cannot run: exit 2 at once, before it looks at the target.
        let r = try run(binary, ["open", "qt:" + absent])
        #expect(r.status == 2)
        #expect(r.stderr == "shmscope: `open` is a terminal UI: run it in a terminal (stdin and stdout are not one)\n")
        // In a terminal, a missing segment is one line and exit 1.
        let screen = try TmuxScreen(arguments: ["open", "qt:" + absent])
        defer { screen.kill() }
        let after = try #require(screen.waitFor("EXIT="))
        #expect(after.contains("EXIT=1"))
        #expect(after.contains("shmscope: qt:\(absent)"))
        let bad = try run(binary, ["open", "--bytes-per-row", "7", "qt:x"])
        #expect(bad.status == 2)
        #expect(bad.stderr == "shmscope: --bytes-per-row must be 4, 8, 16 or 32, got 7 (see 'shmscope open --help')\n")
    }
}

extension Sequence where Element == UInt8 {
    fileprivate var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
