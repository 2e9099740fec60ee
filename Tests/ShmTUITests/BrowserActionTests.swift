import ShmCore
import Testing

@testable import ShmTUI

/// The browser does more than open: the info pane (F2, `i`), remove with a confirmation (F9, `D`), the rescan
/// interval (`d`), naming an unnamed Qt segment's key (`K`), and the prompts' line editing. Driven through the key
/// map, the reducer and the session against an in-memory directory.
@Suite struct BrowserActionTests {
    let theme = Theme(useColor: false)

    static let longKey = "com.example.telemetry.SharedFrameBuffer.render-pipeline.v2"
    static let unnamedTarget = SegmentTarget.sysvID(40001)
    static let rows: [BrowserRow] = [
        BrowserRow(
            kind: "qt", key: longKey, id: "32770", size: 32 << 20, perms: "rw-------", owner: "alice", nattch: 8,
            attached: [
                "render(1201)", "capture(1202)", "encoder(1203)", "preview(1204)", "stats(1205)", "qtpeer(1206)",
                "recorder(1207)", "watchdog(1208)",
            ],
            lock: "held by pid 1203 (encoder), 2 waiting", target: .qt(key: longKey, backend: .systemV)),
        BrowserRow(
            kind: "posix", key: "/psm_4f2a9c", id: "-", size: 4096, perms: "rw-r-----", owner: "root", nattch: 0,
            attached: [], lock: "-", target: .posix(name: "/psm_4f2a9c")),
        BrowserRow(
            kind: "qt", key: "ltrs 3f2a9b1c…", id: "40001", size: 1024, perms: "rw-------", owner: "root", nattch: 1,
            attached: ["qtpeer(3001)"], lock: "free", target: unnamedTarget,
            unnamedQt: "letters \"ltrs\", sha1 3f2a9b1c0d"),
    ]

    final class Harness {
        let directory = MemoryDirectory(rows: BrowserActionTests.rows)
        let session: BrowserSession
        var now = 0.0

        init(width: Int = 100, height: Int = 24) {
            let views = HexViewComposer(
                theme: Theme(useColor: false), settings: HexViewSettings(), layout: .none, context: TargetContext()
            ) { _, _ in throw SourceError("not opened in these tests") }
            session = BrowserSession(views: views, directory: directory)
            session.send(.resize(width: width, height: height), now: now)
        }

        var state: BrowserState { session.state }
        var message: String? { state.message?.text }

        func press(_ keys: Key...) { for key in keys { session.send(key, now: now) } }
        func type(_ text: String) { for ch in text { session.send(.char(ch), now: now) } }
        func select(_ target: SegmentTarget) {
            press(.char("g"))
            while state.selected?.target != target, state.selection < state.visible.count - 1 { press(.down) }
        }
        var screen: ScreenBuffer { session.render() }
        var promptText: String? {
            if case .prompt(let p) = state.mode { return p.text }
            return nil
        }
    }

    // MARK: Info pane

    @Test func infoPaneShowsWhatInfoPrintsAndFollowsTheSelection() {
        let h = Harness()
        h.select(.posix(name: "/psm_4f2a9c"))
        h.press(.char("i"))
        #expect(h.state.showInfo)
        #expect(h.state.infoTarget == .posix(name: "/psm_4f2a9c"))
        #expect(h.state.infoLines == ["target      /psm_4f2a9c", "size        4096 bytes"])
        let b = h.screen
        let paneY = 2 + h.state.tableRows
        #expect(b.line(paneY).hasPrefix("─ info: /psm_4f2a9c ─ i closes ───"))
        #expect(b.line(paneY + 1) == " target      /psm_4f2a9c")
        h.press(.down)
        #expect(h.state.infoTarget == .qt(key: Self.longKey, backend: .systemV))
        #expect(h.state.infoLines.contains("attached    render(1201)"))
        // Every rescan reads it again.
        let asked = h.directory.infoAsked.count
        h.session.tick(now: 1.5)
        #expect(h.directory.infoAsked.count == asked + 1)
        h.press(.function(2))
        #expect(!h.state.showInfo && h.state.infoLines.isEmpty)
        #expect(h.state.tableRows == 20)
    }

    @Test func infoPaneLeavesTheTableFiveRowsAndSaysWhatItCut() {
        var s = BrowserState(rows: Self.rows)
        s.width = 80
        s.height = 14
        s.showInfo = true
        s.infoTarget = Self.rows[0].target
        s.infoLines = (1...12).map { "line \($0)" }
        #expect(s.tableRows == BrowserState.minTableRows)
        #expect(s.infoRows == 14 - 4 - 5)
        let b = renderBrowserScreen(s, theme: theme)
        // The name is cut, never the count of lines left out or how to close the pane.
        #expect(b.line(7) == "─ info: qt:com.example.telemetry.SharedFrameBuffer… (8 more lines) ─ i closes ──")
        #expect(b.line(11) == " line 4")
    }

    // MARK: Remove

    @Test func removeNamesWhatGoesAndWhoIsAttachedAndNeedsBangWhileAttached() {
        let h = Harness()
        h.select(.qt(key: Self.longKey, backend: .systemV))
        h.press(.function(9))
        guard case .confirmRemove(let plan) = h.state.mode else {
            Issue.record("no confirmation: \(h.state.mode)")
            return
        }
        #expect(plan.attachedCount == 8)
        let lines = removalLines(plan)
        #expect(lines.first == "Remove qt:\(Self.longKey)? This removes:")
        #expect(lines.contains("  segment \(Self.longKey)"))
        #expect(lines.contains("Attached: 8 processes (they keep their mapping until they detach)"))
        #expect(lines.contains("  pid 1 render(1201) (rw)"))
        #expect(lines.contains("  … and 2 more"))
        #expect(lines.last == "! removes anyway (as rm --force)   Esc/n keeps it")
        #expect(h.screen.lines.contains { $0.contains("Remove although attached? (!/n)") })
        // `y` is not enough while processes are attached, as `rm` without --force.
        h.press(.char("y"))
        #expect(h.directory.removed.isEmpty)
        #expect(h.message == "8 processes are attached: ! removes anyway, Esc keeps it")
        h.press(.escape)
        #expect(h.state.mode == .normal)
        #expect(h.message == "kept qt:\(Self.longKey)")
        h.press(.char("D"), .char("!"))
        #expect(h.directory.removed.count == 1 && h.directory.removed[0].1 == true)
        #expect(h.message == "removed qt:\(Self.longKey)")
        #expect(!h.state.rows.contains { $0.key == Self.longKey })
    }

    @Test func removeWithNobodyAttachedTakesY() {
        let h = Harness()
        h.select(.posix(name: "/psm_4f2a9c"))
        h.press(.char("D"))
        guard case .confirmRemove(let plan) = h.state.mode else {
            Issue.record("no confirmation")
            return
        }
        #expect(removalLines(plan) == [
            "Remove /psm_4f2a9c? This removes:", "  segment /psm_4f2a9c", "Attached: no process",
            "y removes   Esc/n keeps it",
        ])
        #expect(h.screen.lines.contains { $0.hasPrefix("Remove? (y/n)") })
        // Other keys do nothing while asking.
        h.press(.char("j"), .enter)
        #expect(h.directory.removed.isEmpty)
        h.press(.char("n"))
        #expect(h.directory.removed.isEmpty && h.state.mode == .normal)
        h.press(.char("D"), .char("y"))
        #expect(h.directory.removed.map(\.0) == [.posix(name: "/psm_4f2a9c")])
        #expect(h.state.rows.count == 2)
    }

    @Test func removeChecksAgainAtTheMomentOfRemoving() {
        let h = Harness()
        h.select(.posix(name: "/psm_4f2a9c"))
        h.press(.char("D"))
        h.directory.attachLater = 1
        h.press(.char("y"))
        #expect(h.directory.removed.isEmpty)
        #expect(h.state.message == .error("not removed: attached since"))
        #expect(h.state.rows.count == 3)
    }

    // MARK: Rescan interval

    @Test func rescanIntervalKey() {
        let h = Harness()
        h.press(.char("d"))
        h.type("250ms")
        h.press(.enter)
        #expect(h.state.intervalMS == 250)
        #expect(h.message == "rescanning every 250 ms")
        #expect(h.screen.line(0).hasSuffix("│ rescan every 250 ms"))
        #expect(h.session.pollIntervalMS == 100)
        h.press(.char("d"))
        h.type("2")
        h.press(.enter)
        #expect(h.state.intervalMS == 2000)
        #expect(h.message == "rescanning every 2 s")
        h.press(.char("d"))
        h.type("10ms")
        h.press(.enter)
        #expect(h.state.intervalMS == 2000)
        #expect(h.state.message?.isError == true)
        #expect(h.message?.contains("outside") == true)
        // The table is rescanned on the new interval: not after 1 s, after 2.
        h.directory.segments.removeLast()
        h.session.tick(now: 1.2)
        #expect(h.state.rows.count == 3)
        h.session.tick(now: 2.1)
        #expect(h.state.rows.count == 2)
    }

    // MARK: Qt key

    @Test func typedQtKeyNamesAnUnnamedSegmentOnlyWhenItMatches() {
        let h = Harness()
        h.directory.keys[Self.unnamedTarget] = ("ltrs-key", .qt(key: "ltrs-key", backend: .systemV))
        h.select(Self.unnamedTarget)
        h.press(.char("K"))
        guard case .prompt(let p) = h.state.mode else {
            Issue.record("no prompt")
            return
        }
        #expect(p.kind == .qtKey(Self.unnamedTarget, name: "letters \"ltrs\", sha1 3f2a9b1c0d"))
        #expect(h.screen.line(22) == "Qt key for shmid:40001 (letters \"ltrs\"):")
        h.type("wrong")
        h.press(.enter)
        #expect(h.message == "`wrong` does not name shmid:40001")
        #expect(h.state.rows.contains { $0.target == Self.unnamedTarget })
        h.press(.char("K"))
        h.type("ltrs-key")
        h.press(.enter)
        #expect(h.message == "qt:ltrs-key: key matches, remembered in the key store")
        #expect(h.state.selected?.key == "ltrs-key")
        #expect(h.state.selected?.target == .qt(key: "ltrs-key", backend: .systemV))
        // A segment whose key is known needs none.
        h.press(.char("K"))
        #expect(h.state.mode == .normal)
        #expect(h.message == "K names the key of a Qt segment whose key is unknown; ltrs-key needs none")
    }

    // MARK: Keys

    @Test func helpClosesOnAnyKeyThatDoesNotScroll() {
        var s = BrowserState(rows: Self.rows)
        #expect(browserAction(for: .char("?"), in: s) == .help)
        s.mode = .help(scroll: 0)
        #expect(browserAction(for: .char("j"), in: s) == .helpScroll(1))
        #expect(browserAction(for: .char(" "), in: s) == .helpScroll(8))
        for key: Key in [.char("x"), .char("D"), .enter, .function(9), .char("q"), .tab] {
            #expect(browserAction(for: key, in: s) == .escape, "\(key)")
        }
    }

    @Test func pagingKeys() {
        let many = (0..<50).map { i in
            BrowserRow(
                kind: "sysv", key: "0x\(i)", id: "\(i)", size: 1, perms: "-", owner: "-", nattch: 0, attached: [],
                lock: "-", target: .sysvID(Int32(i)))
        }
        var s = BrowserState(rows: many)
        s.height = 24
        let keys: [(Key, Int)] = [
            (.char(" "), 20), (.ctrl("f"), 40), (.ctrl("b"), 20), (.pageDown, 40), (.ctrl("u"), 30), (.ctrl("d"), 40),
        ]
        for (key, selection) in keys {
            if let a = browserAction(for: key, in: s) { _ = reduce(&s, a) }
            #expect(s.selection == selection, "\(key)")
        }
    }

    @Test func promptsEditLikeAShellAndKeepHistory() {
        let h = Harness()
        h.press(.char("o"))
        h.type("sysv:0x1")
        h.press(.home, .char("/"), .ctrl("e"), .left, .char("0"))
        guard case .prompt(let p) = h.state.mode else {
            Issue.record("no prompt")
            return
        }
        #expect(p.text == "/sysv:0x01")
        h.press(.ctrl("u"))
        #expect(h.screen.line(22) == "Open (qt:KEY, /name, sysv:0xKEY, shmid:N): 1")
        h.press(.ctrl("k"), .ctrl("a"))
        h.type("shmid:7")
        h.press(.enter)
        #expect(h.message == "cannot open shmid:7: not opened in these tests")
        h.press(.char("/"))
        h.type("psm")
        h.press(.enter, .escape)
        // Up recalls this prompt's own lines, not the filter's.
        h.press(.char("o"), .up)
        #expect(h.promptText == "shmid:7")
        h.press(.down)
        #expect(h.promptText == "")
        h.press(.escape, .char("/"), .ctrl("u"), .up)
        #expect(h.state.filter == "psm")
    }

    @Test func hexViewsOpenedHereShareTheirPromptHistory() {
        let source = MemorySource(bytes: Array(repeating: 0, count: 256), targetName: "/psm_4f2a9c")
        let views = HexViewComposer(
            theme: theme, settings: HexViewSettings(), layout: .none, context: TargetContext()
        ) { _, _ in (source, NoWho(reason: "in-memory test source")) }
        let session = BrowserSession(views: views, directory: MemoryDirectory(rows: Self.rows))
        session.send(.resize(width: 100, height: 24), now: 0)
        session.send(.enter, now: 0)
        for key: [Key] in [[.char(":")], "0x10".map { .char($0) }, [.enter]] { for k in key { session.send(k, now: 0) } }
        #expect(session.hex?.state.cursor == 0x10)
        session.send(.char("q"), now: 0)
        #expect(session.hex == nil)
        session.send(.enter, now: 0)
        session.send(.char(":"), now: 0)
        session.send(.up, now: 0)
        guard case .prompt(let p) = session.hex?.state.mode else {
            Issue.record("no prompt")
            return
        }
        #expect(p.text == "0x10")
    }

    // MARK: Render at 80x24 and 120x40

    @Test func eightyByTwentyFourWithInfoPane() {
        let h = Harness(width: 80, height: 24)
        h.select(.qt(key: Self.longKey, backend: .systemV))
        h.press(.char("i"))
        let b = h.screen
        #expect(b.lines.allSatisfy { $0.count <= 80 })
        #expect(b.line(0) == " shmscope │ 3 segments │ sorted by kind ↑")
        #expect(b.line(1) == "KEY                      ATTACHED          LOCK")
        #expect(b.line(3) == "com.example.telemetry.S… render(1201),cap… held by pid 1203 (encoder), 2 waiting")
        let qt = b.lines.first { $0.contains("com.example") && !$0.contains("info:") } ?? ""
        #expect(qt.hasSuffix("held by pid 1203 (encoder), 2 waiting"), "\(qt)")
        #expect(qt.contains("render(1201)"))
        // 20 rows below the header: 5 for the table (3 used), 1 title and 10 lines of the pane.
        #expect(h.state.tableRows == 9)
        #expect(b.line(11) == "─ info: qt:com.example.telemetry.SharedFrameBuffer.render-pipelin… ─ i closes ──")
        #expect(b.line(12) == " target      qt:\(Self.longKey)")
        #expect(b.line(21) == "             watchdog(1208)")
        #expect(b.line(23) == "EnterAttach F1Help F2Info i F3Filter / F4Open o F6Sort s F9Remove D F10Quit q")
    }

    @Test func oneTwentyByFortyWithInfoPane() {
        let h = Harness(width: 120, height: 40)
        h.select(.qt(key: Self.longKey, backend: .systemV))
        h.press(.function(2))
        let b = h.screen
        #expect(b.lines.allSatisfy { $0.count <= 120 })
        #expect(b.line(1) == "KIND  KEY" + String(repeating: " ", count: 38) + "ATTACHED" + String(repeating: " ", count: 28) + "LOCK")
        let qt = b.line(3)
        #expect(qt.contains("render(1201),capture(1202)"), "\(qt)")
        #expect(qt.hasSuffix("held by pid 1203 (encoder), 2 waiting"))
        #expect(h.state.tableRows == 36 - 11)
        #expect(b.line(2 + 25).hasPrefix("─ info: qt:\(Self.longKey) ─ i closes ─"))
        #expect(b.line(2 + 25 + 10) == "             watchdog(1208)")
        #expect(b.line(39) == "EnterAttach F1Help F2Info i F3Filter / F4Open o F5Rescan F6Sort s F9Remove D F10Quit q")
    }

    @Test func removeConfirmationAtEightyColumns() {
        let h = Harness(width: 80, height: 24)
        h.select(.qt(key: Self.longKey, backend: .systemV))
        h.press(.char("D"))
        let b = h.screen
        #expect(b.lines.allSatisfy { $0.count <= 80 })
        let box = b.lines.filter { $0.contains("│ ") }
        #expect(box.first { $0.contains("Remove qt:com.example") } != nil)
        #expect(box.contains { $0.contains("! removes anyway (as rm --force)   Esc/n keeps it") })
        #expect(b.line(22) == "Remove although attached? (!/n)")
    }
}
