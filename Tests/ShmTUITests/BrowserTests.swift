import ShmCore
import Testing

@testable import ShmTUI

@Suite struct BrowserTests {
    static let rows = [
        BrowserRow(
            kind: "Qt SysV", key: "SharedMemory_Key", id: "32769", size: 4096, perms: "0600", owner: "root", nattch: 2,
            attached: ["qtpeer", "shmscope"], lock: "held by 4242",
            target: .qt(key: "SharedMemory_Key", backend: .systemV)),
        BrowserRow(
            kind: "SysV", key: "0x5100c078", id: "5", size: 1024, perms: "0644", owner: "alice", nattch: 0,
            attached: [], lock: "-", target: .sysvID(5)),
        BrowserRow(
            kind: "POSIX", key: "/scratch", id: "-", size: 65536, perms: "0600", owner: "root", nattch: nil,
            attached: [], lock: "-", target: .posix(name: "/scratch")),
    ]
    let theme = Theme(useColor: true)

    func state(width: Int = 100, height: Int = 10, rows: [BrowserRow] = rows) -> BrowserState {
        var s = BrowserState(rows: rows)
        s.width = width
        s.height = height
        return s
    }

    @Test func tableLinesAndStyles() {
        let b = renderBrowserScreen(state(), theme: theme)
        #expect(
            b.lines == [
                " shmscope │ 3 segments │ sorted by kind ↑",
                "KIND    KEY                 ID   SIZE PERMS OWNER NATT ATTACHED        LOCK",
                "POSIX   /scratch             - 64 KiB 0600  root     - -               -",
                "Qt SysV SharedMemory_Key 32769  4 KiB 0600  root     2 qtpeer,shmscope held by 4242",
                "SysV    0x5100c078           5  1 KiB 0644  alice    0 -               -",
                "", "", "",
                "",
                "EnterAttach F1Help F2Info i F3Filter / F4Open o F5Rescan F6Sort s F9Remove D F10Quit q",
            ])
        #expect(b.style(x: 0, y: 0) == Style(reverse: true))
        #expect(b.style(x: 0, y: 1) == Style(bold: true, underline: true))  // sorted column
        #expect(b.style(x: 8, y: 1) == Style(bold: true))
        #expect(b.style(x: 0, y: 2) == Style(fg: .black, bg: .cyan))  // selection, whole row
        #expect(b.style(x: 99, y: 2) == Style(fg: .black, bg: .cyan))
        #expect(b.style(x: 0, y: 3) == .plain)
        #expect(b.style(x: 74, y: 3) == Style(fg: .red, bold: true))  // held lock stands out
    }

    /// The key, who is attached and who holds the lock are what this tool is for: at 40 columns they stay and the
    /// kind, id, size, perms and owner go.
    @Test func narrowTableKeepsKeyAttachedAndLock() {
        let b = renderBrowserScreen(state(width: 40), theme: theme)
        #expect(b.line(1) == "KEY           ATTACHED      LOCK")
        #expect(b.line(3) == "SharedMemory… qtpeer,shmsc… held by 4242")
    }

    static let busyRows: [BrowserRow] = [
        BrowserRow(
            kind: "qt", key: "com.example.telemetry.SharedFrameBuffer", id: "32770", size: 32 << 20, perms: "rw-------",
            owner: "alice", nattch: 6,
            attached: ["render(1201)", "capture(1202)", "encoder(1203)", "preview(1204)", "stats(1205)", "qtpeer(1206)"],
            lock: "held by pid 1203 (encoder), 2 waiting", target: .sysvID(32770)),
        BrowserRow(
            kind: "posix", key: "/psm_4f2a9c", id: "-", size: 4096, perms: "rw-r-----", owner: "root", nattch: 1,
            attached: ["python3(877)"], lock: "free", target: .posix(name: "/psm_4f2a9c")),
    ]

    /// At 80x24 the whole lock text and the attached list's start are shown, never cut before perms and owner go.
    @Test func eightyColumnsShowWhoAndTheWholeLock() {
        let b = renderBrowserScreen(state(width: 80, height: 24, rows: Self.busyRows), theme: theme)
        let header = b.line(1)
        #expect(header.contains("KEY") && header.contains("ATTACHED") && header.contains("LOCK"))
        #expect(!header.contains("PERMS") && !header.contains("OWNER"))
        let qt = b.lines.first { $0.contains("com.example") } ?? ""
        #expect(qt.hasSuffix("held by pid 1203 (encoder), 2 waiting"), "\(qt)")
        #expect(qt.contains("render(1201)"))
        #expect(b.lines.allSatisfy { $0.count <= 80 })
    }

    /// At 120x40 the whole key and lock fit with the kind, size and count; perms, owner and id go first. At 160
    /// every column fits, with PERMS as `list` prints it.
    @Test func wideTablesDropTheLeastUsefulColumnsFirst() {
        let b = renderBrowserScreen(state(width: 120, height: 40, rows: Self.busyRows), theme: theme)
        #expect(b.line(1).hasPrefix("KIND  KEY "))
        for title in ["ATTACHED", "LOCK"] { #expect(b.line(1).contains(title), "missing \(title)") }
        for title in ["PERMS", "OWNER"] { #expect(!b.line(1).contains(title), "\(title) should go first") }
        let qt = b.lines.first { $0.contains("com.example.telemetry.SharedFrameBuffer ") } ?? ""
        #expect(qt.contains("render(1201),capture(1202)"))
        #expect(qt.hasSuffix("held by pid 1203 (encoder), 2 waiting"))
        let wide = renderBrowserScreen(state(width: 160, height: 40, rows: Self.busyRows), theme: theme)
        for title in ["KIND", "KEY", "ID", "SIZE", "PERMS", "OWNER", "NATT", "ATTACHED", "LOCK"] {
            #expect(wide.line(1).contains(title), "missing \(title)")
        }
        #expect(wide.lines.contains { $0.contains("rw-------") && $0.contains("32 MiB") })
    }

    /// The attached list is never cut while perms or owner are still shown.
    @Test func attachedIsNotCutBeforePermsAndOwnerGo() {
        let rows = [
            BrowserRow(
                kind: "qt", key: "shmscope-demo-shots-11104", id: "1376259", size: 512, perms: "rw-------",
                owner: "root", nattch: 2, attached: ["shmscope(11181)", "shmscope(11187)"], lock: "free",
                target: .sysvID(1_376_259)),
            BrowserRow(
                kind: "posix", key: "/shmscope-demo-shots-11104-sensors", id: "-", size: 4096, perms: "rw-------",
                owner: "root", nattch: 0, attached: [], lock: "free", target: .posix(name: "/x")),
        ]
        let b = renderBrowserScreen(state(width: 100, height: 10, rows: rows), theme: theme)
        let qt = b.lines.first { $0.hasPrefix("qt ") } ?? ""
        #expect(qt.contains("shmscope(11181),shmscope(11187)"), "\(qt)")
        #expect(!b.line(1).contains("PERMS") || !qt.contains("…"))
    }

    /// Widths count only the rows the filter shows.
    @Test func widthsFollowTheFilter() {
        var s = state(width: 80, height: 24, rows: Self.busyRows)
        s.filter = "psm"
        let b = renderBrowserScreen(s, theme: theme)
        #expect(b.line(1).contains("PERMS"), "\(b.line(1))")
    }

    @Test func sizesAreHumanReadable() {
        #expect(humanSize(0) == "0 B")
        #expect(humanSize(512) == "512 B")
        #expect(humanSize(4096) == "4 KiB")
        #expect(humanSize(1536) == "1.5 KiB")
        #expect(humanSize(32 << 20) == "32 MiB")
        #expect(humanSize(1 << 30) == "1 GiB")
        #expect(humanSize(8 << 30) == "8 GiB")
    }

    @Test func emptyStateAndNoMatch() {
        let empty = renderBrowserScreen(state(rows: []), theme: theme)
        #expect(empty.line(0) == " shmscope │ 0 segments │ sorted by kind ↑")
        #expect(empty.line(3) == "                                  No shared-memory segments found.")
        #expect(empty.line(5) == "                      o opens one by name: qt:KEY, /name, sysv:0xKEY, shmid:N")
        #expect(empty.line(6) == "                                        F5 rescans, q quits.")
        var s = state()
        s.filter = "zzz"
        let none = renderBrowserScreen(s, theme: theme)
        #expect(none.line(0) == " shmscope │ 3 segments │ 0 match \"zzz\" │ sorted by kind ↑")
        #expect(none.lines.contains { $0.contains("No segment matches \"zzz\".") })
    }

    @Test func helpOverlayAndTooSmall() {
        var s = state(width: 80, height: 24)
        s.mode = .help(scroll: 0)
        let lines = renderBrowserScreen(s, theme: theme).lines
        for line in browserHelpLines { #expect(lines.contains { $0.contains("│ " + line) }, "missing \(line)") }
        #expect(
            renderBrowserScreen(state(width: 30, height: 8), theme: theme).lines.contains {
                $0.contains("terminal too small")
            })
    }

    func press(_ s: inout BrowserState, _ keys: Key...) -> [BrowserEffect] {
        var effects: [BrowserEffect] = []
        for key in keys { if let a = browserAction(for: key, in: s) { effects += reduce(&s, a) } }
        return effects
    }

    @Test func movementKeys() {
        var s = state()
        _ = press(&s, .down)
        #expect(s.selected?.kind == "Qt SysV")
        _ = press(&s, .char("j"), .char("j"))
        #expect(s.selection == 2)
        _ = press(&s, .char("k"))
        #expect(s.selection == 1)
        _ = press(&s, .up, .up)
        #expect(s.selection == 0)
        _ = press(&s, .char("G"))
        #expect(s.selection == 2)
        _ = press(&s, .char("g"))
        #expect(s.selection == 0)
        _ = press(&s, .end, .home, .pageDown)
        #expect(s.selection == 2)
        _ = press(&s, .pageUp)
        #expect(s.selection == 0)
    }

    @Test func enterAttachesReadWriteAndRReadOnly() {
        var s = state()
        #expect(press(&s, .enter) == [.open(.posix(name: "/scratch"), readOnly: false)])
        _ = press(&s, .down)
        #expect(press(&s, .char("r")) == [.open(.qt(key: "SharedMemory_Key", backend: .systemV), readOnly: true)])
        var empty = state(rows: [])
        #expect(press(&empty, .enter).isEmpty)
        #expect(empty.message?.text == "no segment selected: o opens one by name")
    }

    @Test func filterNarrowsAndEscClears() {
        var s = state()
        _ = press(&s, .char("/"), .char("a"), .char("l"), .char("i"))
        #expect(s.visible.map(\.key) == ["0x5100c078"])
        #expect(renderBrowserScreen(s, theme: theme).line(8) == "Filter: ali")
        _ = press(&s, .enter)
        #expect(s.mode == .normal)
        #expect(s.filter == "ali")
        _ = press(&s, .escape)
        #expect(s.filter.isEmpty)
        #expect(s.visible.count == 3)
        _ = press(&s, .function(3), .char("Q"), .char("T"))
        #expect(s.visible.map(\.kind) == ["Qt SysV"])
        _ = press(&s, .escape)
        #expect(s.filter.isEmpty && s.mode == .normal)
    }

    @Test func openTypedTarget() {
        var s = state()
        _ = press(&s, .char("o"))
        var effects: [BrowserEffect] = []
        for ch in "sysv:0x10" { effects += press(&s, .char(ch)) }
        effects += press(&s, .enter)
        #expect(effects == [.open(.sysvKey(0x10), readOnly: false)])
        _ = press(&s, .function(4))
        for ch in "bogus:x" { _ = press(&s, .char(ch)) }
        #expect(press(&s, .enter).isEmpty)
        #expect(s.message?.isError == true)
        #expect(s.message?.text.hasPrefix("unknown target kind `bogus:`") == true)
    }

    @Test func sortKeysAndHeaderClicks() {
        var s = state()
        _ = press(&s, .char("s"))
        #expect(s.sortColumn == .key)
        #expect(s.visible.map(\.key) == ["/scratch", "0x5100c078", "SharedMemory_Key"])
        _ = press(&s, .function(6), .function(6))
        #expect(s.sortColumn == .size)
        #expect(s.visible.map(\.size) == [1024, 4096, 65536])
        _ = press(&s, .char("S"))
        #expect(s.visible.map(\.size) == [65536, 4096, 1024])
        #expect(renderBrowserScreen(s, theme: theme).line(0) == " shmscope │ 3 segments │ sorted by size ↓")
        _ = press(&s, .click(x: 51, y: 1))
        #expect(s.sortColumn == .nattch)
        #expect(s.visible.map(\.nattch) == [nil, 0, 2])
        _ = press(&s, .click(x: 51, y: 1))
        #expect(!s.ascending)
    }

    @Test func clickSelectsRowAndWheelScrolls() {
        var s = state()
        _ = press(&s, .click(x: 5, y: 4))
        #expect(s.selection == 2)
        _ = press(&s, .click(x: 5, y: 7))
        #expect(s.selection == 2)
        _ = press(&s, .wheelUp)
        #expect(s.selection == 2)
    }

    @Test func quitAndHelpKeys() {
        var s = state()
        #expect(press(&s, .char("q")) == [.quit])
        #expect(press(&s, .function(10)) == [.quit])
        #expect(press(&s, .function(5)) == [.reload])
        _ = press(&s, .char("?"))
        #expect(s.mode == .help(scroll: 0))
        #expect(press(&s, .char("q")).isEmpty)
        #expect(s.mode == .normal)
    }

    @Test func reloadKeepsTheSelectedSegment() {
        var s = state()
        _ = press(&s, .down)
        #expect(s.selected?.id == "32769")
        _ = reduce(&s, .rows(Array(Self.rows.dropLast())))
        #expect(s.selected?.id == "32769")
        #expect(s.selection == 0)
    }

    @Test func sessionOpensHexViewAndComesBack() {
        var opened: [(SegmentTarget, Bool)] = []
        let source = MemorySource(bytes: Array("hello".utf8) + [UInt8](repeating: 0, count: 59), targetName: "/scratch")
        var rows = Self.rows
        let views = HexViewComposer(theme: theme, settings: HexViewSettings(), layout: .none, context: TargetContext()) {
            resolved, readOnly in
            opened.append((resolved.target, readOnly))
            return (source, NoWho(reason: "in-memory test source"))
        }
        let directory = MemoryDirectory(rows: rows)
        let session = BrowserSession(views: views, directory: directory)
        session.send(.resize(width: 100, height: 12), now: 0)
        session.send(.enter, now: 0)
        #expect(opened.count == 1 && opened[0].0 == .posix(name: "/scratch") && opened[0].1 == false)
        #expect(session.hex != nil)
        #expect(session.render().line(1).hasSuffix("|hello⋄⋄⋄⋄⋄⋄⋄⋄⋄⋄⋄|"))
        session.send(.char("q"), now: 0.1)
        #expect(session.hex == nil)
        #expect(source.closed)
        #expect(!session.isFinished)
        #expect(session.render().line(1).hasPrefix("KIND"))
        rows.removeFirst()
        directory.segments = rows
        session.tick(now: 5)
        #expect(session.state.rows.count == 2)
        session.send(.char("q"), now: 5)
        #expect(session.isFinished)
    }

    @Test func sessionReportsOpenFailures() {
        let views = HexViewComposer(theme: theme, settings: HexViewSettings(), layout: .none, context: TargetContext()) {
            _, _ in throw SourceError("permission denied")
        }
        let session = BrowserSession(views: views, directory: MemoryDirectory(rows: Self.rows))
        session.send(.resize(width: 100, height: 12), now: 0)
        session.send(.enter, now: 0)
        #expect(session.hex == nil)
        #expect(session.render().line(10) == "cannot open /scratch: permission denied")
    }
}
