import ShmCore
import Testing

@testable import ShmTUI

/// The browser's NS column: shown, leading, only when a row is in another IPC namespace than ours; Enter opens a
/// row in its namespace.
@Suite struct BrowserNamespaceTests {
    func row(_ key: String, namespace: String = "", pid: Int32? = nil) -> BrowserRow {
        var r = BrowserRow(
            kind: "posix", key: key, id: "-", size: 64, perms: "rw-------", owner: "root", nattch: 0, attached: [],
            lock: "-", target: .posix(name: key))
        r.namespace = namespace
        r.namespacePID = pid
        return r
    }

    func state(_ rows: [BrowserRow]) -> BrowserState {
        var s = BrowserState(rows: rows)
        s.width = 100
        s.height = 10
        return s
    }

    @Test func noColumnWhenEverythingIsOurs() {
        let b = renderBrowserScreen(state([row("/a", namespace: "host"), row("/b", namespace: "host")]), theme: Theme(useColor: false))
        #expect(b.line(1).hasPrefix("KIND "))
        #expect(!b.line(1).contains("NS"))
    }

    @Test func leadingColumnWhenARowIsInAContainer() {
        let rows = [row("/a", namespace: "host"), row("/b", namespace: "docker:0123456789ab", pid: 4242)]
        let b = renderBrowserScreen(state(rows), theme: Theme(useColor: false))
        #expect(b.line(1).hasPrefix("NS                  KIND "), "\(b.lines)")
        #expect(b.line(3).hasPrefix("docker:0123456789ab posix /b"), "\(b.lines)")
        #expect(b.line(2).hasPrefix("host                posix /a"), "\(b.lines)")
    }

    @Test func enterOpensTheRowInItsNamespace() {
        var s = state([row("/b", namespace: "docker:0123456789ab", pid: 4242)])
        #expect(reduce(&s, .attach(readOnly: true)) == [.open(.posix(name: "/b"), readOnly: true, namespace: 4242)])
        var ours = state([row("/a", namespace: "host")])
        #expect(reduce(&ours, .attach(readOnly: false)) == [.open(.posix(name: "/a"), readOnly: false, namespace: nil)])
    }
}
