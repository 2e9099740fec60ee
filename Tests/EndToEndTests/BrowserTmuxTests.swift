import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// The browser does more than open, driven in tmux against a real Qt 5 peer: the info pane shows what
/// `shmscope info` prints, remove asks first (naming the attached peer, `!` as `rm --force`), and `K` names an
/// unnamed Qt segment's key, remembered only when it matches.
@Suite(.serialized, .enabled(if: toolAvailable("tmux") { which("tmux") != nil } && QtPeer.available))
struct BrowserTmuxTests {
    /// A Qt peer attached to its new 4096-byte segment, and a private key store (so the key is not known unless
    /// the test names it).
    func qtSegment(_ tag: String) throws -> (key: String, peer: Child, state: String) {
        let key = uniqueName(tag)
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 4096") == "ok")
        #expect(qt.ask("write 0 hello") == "ok")
        let state = "/tmp/" + uniqueName("state")
        return (key, qt, state)
    }

    func removeStore(_ state: String) {
        unlink(state + "/shmscope/keys")
        rmdir(state + "/shmscope")
        rmdir(state)
    }

    /// Filters the table down to `text` and waits for the one matching row.
    func filter(_ screen: TmuxScreen, _ text: String) throws {
        try #require(screen.waitFor("ATTACHED") != nil)
        screen.send("/")
        screen.send("-l", text)
        screen.send("Enter")
        try #require(screen.waitFor("1 match") != nil, "\(screen.capture())")
    }

    @Test func infoPaneShowsWhatInfoPrints() throws {
        let (key, qt, state) = try qtSegment("tuiinfo")
        defer {
            cleanUp(.qt(key: key, backend: .systemV))
            removeStore(state)
        }
        let screen = try TmuxScreen(
            width: 140, height: 40, environment: ["XDG_STATE_HOME=\(state)"], arguments: ["browse", "--key", key])
        defer { screen.kill() }
        try filter(screen, key)
        screen.send("i")
        let pane = try #require(screen.waitFor { $0.contains("─ info: qt:\(key) ─ i closes") && $0.contains("attached") })
        let info = try ShmscopeBinary.run(["info", "qt:" + key])
        #expect(info.status == 0)
        let lines = info.stdout.split(separator: "\n").map(String.init)
        for label in ["target", "kind", "key", "qt name", "native key", "sysv key", "shmid", "size", "mode", "owner", "attached"] {
            let line = try #require(lines.first { $0.hasPrefix(label.padding(toLength: 12, withPad: " ", startingAt: 0)) })
            #expect(pane.contains(" " + line), "the pane lacks `\(line)`:\n\(pane)")
        }
        let command = ProcessInfoReader.command(pid: qt.pid)
        #expect(pane.contains("attached    pid \(qt.pid) \(command) "))
        #expect(pane.contains("lock        qt-sysv-semaphore"))
        // The pane follows the lock: a peer holding it shows within a rescan.
        #expect(qt.ask("lock").hasPrefix("ok"))
        let held = screen.waitFor {
            $0.split(separator: "\n").contains { $0.hasPrefix(" lock ") && $0.contains("held by pid \(qt.pid) (\(command))") }
        }
        #expect(held != nil, "\(screen.capture())")
        #expect(qt.ask("unlock") == "ok")
        screen.send("i")
        #expect(screen.waitFor { !$0.contains("─ info:") } != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func removeAsksNamingTheAttachedPeerAndNeedsBang() throws {
        let (key, qt, state) = try qtSegment("tuirm")
        defer {
            cleanUp(.qt(key: key, backend: .systemV))
            removeStore(state)
        }
        let segment = SharedMemory(.qt(key: key, backend: .systemV), options: .init(detachPolicy: .keep))
        let screen = try TmuxScreen(
            width: 120, height: 40, environment: ["XDG_STATE_HOME=\(state)"], arguments: ["browse", "--key", key])
        defer { screen.kill() }
        try filter(screen, key)
        screen.send("F9")
        let dialog = try #require(screen.waitFor("! removes anyway"), "\(screen.capture())")
        #expect(dialog.contains("Remove qt:\(key)? This removes:"))
        #expect(dialog.contains("System V segment shmid "))
        #expect(dialog.contains("key file \(segment.nativeKey)"))
        #expect(dialog.contains("lock qt-sysv-semaphore "))
        #expect(dialog.contains("Attached: 1 process (they keep their mapping until they detach)"))
        #expect(dialog.contains("pid \(qt.pid) \(ProcessInfoReader.command(pid: qt.pid)) (rw)"))
        #expect(dialog.contains("Remove although attached? (!/n)"))
        // `y` is not enough while a process is attached (as `rm` without --force); Esc keeps it.
        screen.send("y")
        #expect(screen.waitFor("1 process is attached: ! removes anyway, Esc keeps it") != nil)
        #expect(segment.exists())
        screen.send("Escape")
        #expect(screen.waitFor("kept qt:\(key)") != nil)
        #expect(segment.exists())
        screen.send("D")
        try #require(screen.waitFor("! removes anyway") != nil)
        screen.send("!")
        #expect(screen.waitFor("removed qt:\(key)") != nil, "\(screen.capture())")
        #expect(!segment.exists())
        #expect(access(segment.nativeKey, F_OK) != 0, "the key file went with the segment")
        // The peer keeps its mapping until it detaches.
        #expect(qt.ask("info").hasPrefix("ok size=4096 attached=1"))
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func typedQtKeyNamesAnUnnamedSegmentAndIsRememberedOnlyWhenItMatches() throws {
        let (key, qt, state) = try qtSegment("tuiname")
        defer {
            cleanUp(.qt(key: key, backend: .systemV))
            removeStore(state)
        }
        let store = state + "/shmscope/keys"
        let screen = try TmuxScreen(width: 120, height: 30, environment: ["XDG_STATE_HOME=\(state)"], arguments: [])
        defer { screen.kill() }
        // Without the key the table shows Qt's letters and hash.
        try filter(screen, String(QtNaming.sha1Hex(of: key).prefix(8)))
        screen.send("K")
        try #require(screen.waitFor("Qt key for shmid:") != nil, "\(screen.capture())")
        screen.send("-l", key + "x")
        screen.send("Enter")
        #expect(screen.waitFor("`\(key)x` does not name shmid:") != nil, "\(screen.capture())")
        #expect(access(store, F_OK) != 0, "a key that matched nothing is not saved")
        screen.send("K")
        try #require(screen.waitFor("Qt key for shmid:") != nil)
        screen.send("-l", key)
        screen.send("Enter")
        let named = try #require(screen.waitFor("qt:\(key): key matches, remembered in the key store"))
        #expect(named.split(separator: "\n").contains { $0.contains(key.prefix(20)) })
        #expect((try? String(contentsOfFile: store, encoding: .utf8)) == key + "\n")
        // The row is now the Qt key: the info pane names it, and Enter opens it with its lock.
        screen.send("i")
        #expect(screen.waitFor("key         \(key)") != nil, "\(screen.capture())")
        screen.send("Enter")
        #expect(screen.waitFor("qt:\(key) (Qt SysV) 4096 B VIEW") != nil, "\(screen.capture())")
        screen.send("q")
        try #require(screen.waitFor("ATTACHED") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }
}
