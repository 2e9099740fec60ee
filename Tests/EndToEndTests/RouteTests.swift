import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// Every route into the hex view has every capability: the Who pane names the real Qt peer and the lock that
/// `info` reports, and the layout pane is there when a layout is given. Driven in tmux against the Qt 5 peer.
@Suite(.serialized, .enabled(if: toolAvailable("tmux") { which("tmux") != nil } && QtPeer.available))
struct RouteTests {
    enum Route: String, CaseIterable, CustomTestStringConvertible {
        case open, watch, browserEnter, browserReadOnly, browserOpenByName, demo
        var testDescription: String { rawValue }
    }

    /// A private key store, so a browser knows only the keys a test gives it.
    static func privateState() -> String {
        let dir = "/tmp/" + uniqueName("state")
        mkdir(dir, 0o700)
        return dir
    }

    static func layoutFile() throws -> String {
        let path = "/tmp/" + uniqueName("layout") + ".layout"
        try "greeting char[5] @0\ncounter u32le @8\n".write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    /// Opens the route's view of `key` (for the demo, its own segment named `key`) and waits for its first frame.
    func openView(_ route: Route, key: String, layout: String, state: String) throws -> TmuxScreen {
        let env = ["XDG_STATE_HOME=\(state)"]
        switch route {
        case .open:
            return try TmuxScreen(environment: env, arguments: ["open", "qt:" + key, "--layout", layout])
        case .watch:
            return try TmuxScreen(environment: env, arguments: ["watch", "qt:" + key, "--layout", layout])
        case .demo:
            return try TmuxScreen(environment: env, arguments: ["demo", "--key", key])
        case .browserEnter, .browserReadOnly, .browserOpenByName:
            let screen = try TmuxScreen(environment: env, arguments: ["browse", "--key", key, "--layout", layout])
            try #require(screen.waitFor("ATTACHED") != nil)
            // --key names the segment in the table with its real key.
            #expect(
                screen.waitFor { $0.split(separator: "\n").contains { $0.contains(key.prefix(12)) } }
                    != nil, "\(screen.capture())")
            if route == .browserOpenByName {
                screen.send("o")
                screen.send("-l", "qt:" + key)
                screen.send("Enter")
            } else {
                screen.send("/")
                screen.send("-l", key)
                screen.send("Enter")
                try #require(screen.waitFor("1 match") != nil, "\(screen.capture())")
                screen.send(route == .browserEnter ? "Enter" : "r")
            }
            return screen
        }
    }

    @Test(arguments: Route.allCases) func everyRouteHasWhoLockAndLayout(_ route: Route) throws {
        let key = uniqueName("route")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let state = Self.privateState()
        let layout = try Self.layoutFile()
        defer {
            unlink(layout)
            _ = try? run("/bin/rm", ["-rf", state])
        }
        let qt = try QtPeer.start(key: key)
        defer { _ = qt.ask("quit") }
        var screen: TmuxScreen?
        defer { screen?.kill() }
        if route == .demo {
            screen = try openView(route, key: key, layout: layout, state: state)
            try #require(screen!.waitFor("SHMDEMO") != nil)
            #expect(qt.ask("attach") == "ok")
        } else {
            #expect(qt.ask("create 4096") == "ok")
            #expect(qt.ask("write 0 hello") == "ok")
            screen = try openView(route, key: key, layout: layout, state: state)
            try #require(screen!.waitFor("|hello") != nil, "\(screen!.capture())")
        }
        let view = screen!
        // Every route looks read-only first: open, Enter and demo in view mode; watch and `r` never write.
        let mode = route == .watch || route == .browserReadOnly ? " RO │ " : " VIEW │ "
        #expect(view.waitFor(mode) != nil, "\(route): \(view.capture())")

        // Who: the real peer's pid, and the same lock mechanism `info` reports.
        let info = try ShmscopeBinary.run(["info", "qt:" + key, "--json"])
        try #require(info.status == 0, "\(info.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let lock = try #require(json["lock"] as? [String: Any])
        let mechanism = try #require(lock["mechanism"] as? String)
        view.send("W")
        let who = try #require(view.waitFor("pid \(qt.pid) qtpeer-test"), "\(route): \(view.capture())")
        #expect(who.contains("lock \(mechanism):"), "\(route): \(who)")
        #expect(!who.contains("looking…"))

        // Layout: the given file's fields (the demo's own record for the demo).
        view.send("t")
        let field = route == .demo ? "writer_pid" : "greeting"
        let table = try #require(view.waitFor("─ Layout ("), "\(route): \(view.capture())")
        #expect(view.waitFor(field) != nil, "\(route): \(table)")
        if route != .demo { #expect(view.waitFor("\"hello\"") != nil) }

        view.send("q")
        if route.rawValue.hasPrefix("browser") {
            try #require(view.waitFor("ATTACHED") != nil)
            view.send("q")
        }
        #expect(view.waitFor("EXIT=0") != nil, "\(route): \(view.capture())")
    }

    /// `open --tmpdir DIR` reaches a Qt peer whose TMPDIR is DIR, and its Who pane finds it there too.
    @Test func openWithTmpdirReachesAPeerWithAnotherTMPDIR() throws {
        let dir = "/tmp/" + uniqueName("qttmp")
        mkdir(dir, 0o700)
        let key = uniqueName("tmpdir")
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = dir
        let qt = try QtPeer.start(key: key, environment: env)
        defer {
            _ = qt.ask("quit")
            cleanUp(.qt(key: key, backend: .systemV), temporaryDirectory: dir)
            rmdir(dir)
        }
        #expect(qt.ask("create 1024") == "ok")
        #expect(qt.ask("write 0 elsewhere") == "ok")
        // Without --tmpdir the key file is not where this process looks.
        let missing = try ShmscopeBinary.run(["info", "qt:" + key])
        #expect(missing.status == 1)
        let screen = try TmuxScreen(arguments: ["open", "qt:" + key, "--tmpdir", dir])
        defer { screen.kill() }
        try #require(screen.waitFor("|elsewhere") != nil, "\(screen.capture())")
        screen.send("W")
        #expect(screen.waitFor("pid \(qt.pid) qtpeer-test") != nil, "\(screen.capture())")
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
    }
}
