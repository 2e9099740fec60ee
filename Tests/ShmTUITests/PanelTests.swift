import Glibc
import ShmTestSupport
import Testing

@testable import ShmCore
@testable import ShmTUI

/// The panes (who, activity, inspector, layout), snapshots and diff mode, and typed values: every new key through
/// the key map, reducer and session against an in-memory source, and the panes rendered into a ScreenBuffer.
/// A Who provider that answers from a closure.
final class ClosureWho: WhoProvider {
    let body: () -> WhoInfo
    init(_ body: @escaping () -> WhoInfo) { self.body = body }
    func who() -> WhoInfo { body() }
}

@Suite struct PanelKeyTests {
    final class Harness {
        let source: MemorySource
        let session: HexSession
        var now = 10.0
        var whoCalls = 0

        init(
            bytes: [UInt8] = Array(repeating: 0, count: 1024), readOnly: Bool = false, layout: StructLayout? = nil,
            width: Int = 80, height: Int = 24
        ) {
            source = MemorySource(bytes: bytes, readOnly: readOnly)
            source.holderCommand = "qtpeer"
            var calls = 0
            let box = Box()
            session = HexSession(
                source: source,
                who: ClosureWho {
                    box.calls += 1
                    return WhoInfo(
                        attached: [AttachedProcess(pid: 4242, command: "qtpeer", uid: 0, access: .readWrite)],
                        lock: LockInfo(
                            mechanism: .qtSystemV, nativeName: "/tmp/qipc_systemsem_x", semid: 7, value: 0,
                            lastPID: 4242, lastCommand: "qtpeer", waiters: 1, stuck: false))
                }, layout: layout.map { .given($0) } ?? .none, settings: HexViewSettings(),
                theme: Theme(useColor: true),
                width: width, height: height, now: now)
            self.box = box
            _ = calls
            calls = 0
        }

        final class Box { var calls = 0 }
        let box: Box

        var state: HexViewState { session.state }
        var message: String? { state.message?.text }

        func press(_ keys: Key...) { for key in keys { session.send(key, now: now) } }
        func type(_ text: String) { for ch in text { session.send(.char(ch), now: now) } }
        func tick(_ seconds: Double = 0.1) {
            now += seconds
            session.tick(now: now)
        }
    }

    @Test func whoPaneOpensRefreshesAtMostOnceASecondAndCloses() {
        let h = Harness()
        h.press(.char("W"))
        #expect(h.state.panel == .who)
        #expect(h.state.visibleRows == 24 - 3 - 6)
        h.tick()
        #expect(h.box.calls == 1)
        #expect(h.state.who?.attached.first?.pid == 4242)
        for _ in 0..<5 { h.tick(0.1) }
        #expect(h.box.calls == 1)
        h.tick(0.6)
        #expect(h.box.calls == 2)
        h.press(.char("W"))
        #expect(h.state.panel == nil)
        #expect(h.state.visibleRows == 21)
        h.tick(2)
        #expect(h.box.calls == 2, "the catalog is not scanned while the pane is closed")
    }

    @Test func f7CyclesThePanesAndTWithoutALayoutExplains() {
        let h = Harness()
        h.press(.char("t"))
        #expect(h.state.panel == nil)
        #expect(h.message == "no layout: start with --layout FILE")
        var seen: [Panel?] = []
        for _ in 0..<4 {
            h.press(.function(7))
            seen.append(h.state.panel)
        }
        #expect(seen == [.who, .activity, .inspector, nil])
        let l = Harness(layout: try! StructLayout.parse("a u8"))
        for _ in 0..<4 { l.press(.function(7)) }
        #expect(l.state.panel == .layout)
        l.press(.char("t"))
        #expect(l.state.panel == nil)
        l.press(.char("t"))
        #expect(l.state.panel == .layout)
    }

    @Test func activityMapCountsChangesAndJumpsToActiveBlocks() {
        // 1024 bytes: blocks of 16 bytes (one per hex row), one block per cell.
        let h = Harness()
        h.press(.char("m"))
        #expect(h.state.panel == .activity)
        h.press(.char(">"))
        #expect(h.message == "no block has changed yet")
        h.source.bytes[5 * 16 + 3] = 1
        h.source.bytes[9 * 16] = 1
        h.tick()
        h.source.bytes[9 * 16] = 2
        h.tick()
        #expect(h.state.activity.bytesPerCell == 16)
        #expect(h.state.activity.counts[5] == 1 && h.state.activity.counts[9] == 2)
        h.press(.char(">"))
        #expect(h.state.cursor == 5 * 16)
        #expect(h.message == "block at 0x00000050: changed 1x")
        h.press(.char(">"))
        #expect(h.state.cursor == 9 * 16)
        h.press(.char(">"))
        #expect(h.state.cursor == 5 * 16, "wraps around")
        h.press(.char("<"))
        #expect(h.state.cursor == 9 * 16)
        // Per-byte change counts for the bytes on screen, built while the inspector shows them.
        h.press(.char("i"))
        h.tick()
        #expect(h.state.byteChangeCounts[9 * 16] == 2)
        h.press(.char("m"))
        // A click on a cell jumps there: the pane's cells start one row under its title, after the offset labels.
        let cellsY = 1 + h.state.visibleRows + 1
        h.press(.click(x: ActivityGeometry(width: 80, size: 1024).x(column: 5), y: cellsY))
        #expect(h.state.cursor == 5 * 16)
        h.press(.char("m"))
        #expect(h.state.panel == nil)
    }

    @Test func activityBlocksScaleWithTheSegment() {
        #expect(activityBlockSize(for: 300) == 16)
        #expect(activityBlockSize(for: 4096) == 16)
        #expect(activityBlockSize(for: 16 << 10) == 32)
        #expect(activityBlockSize(for: 1 << 20) == 2048)
        #expect(activityBlockSize(for: 2 << 20) == 4096)
        #expect(activityBlockSize(for: 1 << 30) == 4096)
        // A segment that grows a lot gets a new map with bigger blocks.
        let h = Harness()
        #expect(h.session.tracker.blockSize == 16)
        h.source.bytes = Array(repeating: 0, count: 4 << 20)
        h.source.pendingEvent = .resized(from: 1024, to: 4 << 20)
        h.tick()
        #expect(h.session.tracker.blockSize == 4096 && h.session.tracker.blockCount == 1024)
    }

    @Test func inspectorToggles() {
        let h = Harness()
        h.press(.char("i"))
        #expect(h.state.panel == .inspector)
        #expect(h.state.panelRows == 10, "13 wanted, at most half of the 21 data rows")
        h.press(.char("i"))
        #expect(h.state.panel == nil)
    }

    @Test func typedValueIsStagedAndWrittenThroughTheCommitPath() {
        let h = Harness()
        h.press(.right, .right)
        h.press(.char("="))
        #expect(h.state.mode == .normal)
        #expect(h.message == "view mode: press e to edit first")
        h.press(.char("e"), .char("="))
        #expect(h.state.mode == .prompt(Prompt(kind: .value)))
        h.type("u32 305419896")
        h.press(.enter)
        // The value is staged and the commit dialog asks, as F8 does.
        guard case .commitDialog(let plan) = h.state.mode else {
            Issue.record("a typed value opens the commit dialog")
            return
        }
        #expect(plan.runs == [WriteRun(offset: 2, bytes: [0x78, 0x56, 0x34, 0x12])])
        #expect(plan.who.attached.map(\.pid) == [4242])
        h.type("y")
        #expect(Array(h.source.bytes[2..<6]) == [0x78, 0x56, 0x34, 0x12])
        #expect(h.source.writes.count == 1 && h.source.writes[0].offset == 2)
        #expect(!h.source.lockedByUs, "locked, wrote, unlocked")
        #expect(h.message == "wrote 4 bytes; u (view mode) undoes")
        h.press(.char("="))
        h.type("f64be 1.5")
        h.press(.enter, .char("y"))
        #expect(Array(h.source.bytes[2..<10]) == [0x3f, 0xf8, 0, 0, 0, 0, 0, 0])
        h.press(.char("="))
        h.type("u8 300")
        h.press(.enter)
        #expect(h.message == "u8: 300 is outside 0...255")
        h.press(.char("="))
        h.type("q32 1")
        h.press(.enter)
        #expect(h.message?.hasPrefix("type TYPE VALUE") == true)
        // While a peer holds the lock the write waits for it, as `w` does.
        h.source.holderPID = 99
        h.press(.char("="))
        h.type("i16 -2")
        h.press(.enter, .char("y"))
        #expect(h.state.lockWait == .commit)
        #expect(h.state.staged == [2: 0xfe, 3: 0xff])
        h.source.holderPID = nil
        h.tick()
        #expect(Array(h.source.bytes[2..<4]) == [0xfe, 0xff])
    }

    @Test func readOnlyRefusesTypedValues() {
        let h = Harness(readOnly: true)
        h.press(.char("="))
        #expect(h.state.mode == .normal)
        #expect(h.message == "attached read-only (--read-only, watch): no edit mode; use open to edit")
        #expect(
            renderHexScreen(h.state, theme: Theme(useColor: false)).line(23)
                == "F1Help F4Goto : F5Pause p F6Find / F7Pane F9Snap s F10Quit q")
    }

    @Test func snapshotDiffJumpsSaveAndLoad() throws {
        let h = Harness()
        h.press(.char("x"))
        #expect(h.message == "no snapshot: press s to take one, or O to load one")
        h.press(.char("]"))
        #expect(h.message == "no snapshot: press s to take one, or O to load one")
        h.press(.char("S"))
        #expect(h.message == "no snapshot to save: press s to take one")
        h.press(.char("s"))
        #expect(h.state.snapshot?.count == 1024)
        #expect(h.state.diffMode)
        #expect(h.message == "snapshot taken: diff on; ] [ jump, D lists runs, x toggles, S saves")
        h.press(.char("]"))
        #expect(h.message == "no differences from the snapshot")
        h.source.bytes[100] = 1
        h.source.bytes[900] = 1
        h.tick()
        #expect(h.state.differsFromSnapshot(100))
        #expect(!h.state.differsFromSnapshot(101))
        h.press(.char("]"))
        #expect(h.state.cursor == 100)
        h.press(.char("]"))
        #expect(h.state.cursor == 900)
        h.press(.char("["))
        #expect(h.state.cursor == 100)
        h.press(.char("x"))
        #expect(!h.state.diffMode)
        #expect(!h.state.differsFromSnapshot(100))

        let path = "/tmp/\(uniqueName("tuisnap")).snap"
        defer { unlink(path) }
        h.press(.char("S"))
        h.type(path)
        h.press(.enter)
        #expect(h.message == "snapshot saved to \(path)")
        let saved = try Snapshot.read(fromFile: path)
        #expect(saved.target == "qt:demo" && saved.bytes == Array(repeating: 0, count: 1024))
        // Saving over an existing file asks first; anything but y keeps the file.
        h.source.bytes[3] = 3
        h.tick()
        h.press(.char("s"))
        h.press(.char("S"))
        h.type(path)
        h.press(.enter)
        #expect(h.state.mode == .prompt(Prompt(kind: .replaceSnapshot(path: path))))
        #expect(renderHexScreen(h.state, theme: Theme(useColor: false)).line(22).hasPrefix("\(path) exists. Replace it?"))
        h.type("n")
        h.press(.enter)
        #expect(h.message == "kept \(path); snapshot not saved")
        #expect(try Snapshot.read(fromFile: path).bytes[3] == 0)
        h.press(.char("S"))
        h.type(path)
        h.press(.enter)
        h.type("y")
        h.press(.enter)
        #expect(h.message == "snapshot saved to \(path)")
        #expect(try Snapshot.read(fromFile: path).bytes[3] == 3)
        h.source.bytes[3] = 0
        h.tick()
        h.press(.char("s"))
        h.press(.char("S"))
        h.type(path)
        h.press(.enter)
        h.type("y")
        h.press(.enter)
        #expect(try Snapshot.read(fromFile: path).bytes[3] == 0)
        if let home = processEnvironment()["HOME"], !home.isEmpty {
            #expect(expandingTilde("~/x.snap") == home + "/x.snap" && expandingTilde("~") == home)
        }
        #expect(expandingTilde("a~/x") == "a~/x" && expandingTilde("~user/x") == "~user/x")

        let other = Harness()
        other.source.bytes[7] = 9
        other.tick()
        other.press(.function(9))
        #expect(other.state.snapshot?[7] == 9)
        other.press(.char("O"))
        other.type(path)
        other.press(.enter)
        #expect(other.state.snapshot?[7] == 0)
        #expect(other.message == "snapshot loaded from \(path): diff on; ] [ jump, D lists runs, x toggles, S saves")
        other.press(.char("]"))
        #expect(other.state.cursor == 7)
        other.press(.char("O"))
        other.type("/nonexistent/x.snap")
        other.press(.enter)
        #expect(other.message?.hasPrefix("cannot load: cannot read the snapshot") == true)
    }

    @Test func removalResizeAndRecreationAreFollowed() {
        let h = Harness()
        h.press(.char("G"), .char("e"))
        h.type("4")
        #expect(h.state.cursor == 1023 && h.state.staged.count == 1)
        h.source.pendingEvent = .removed
        h.tick()
        #expect(h.state.removed)
        #expect(h.message == "segment removed by another process: showing the copy we still have mapped")
        #expect(renderHexScreen(h.state, theme: Theme(useColor: false)).line(0).hasSuffix("│ @0x000003ff │ REMOVED │ 1 staged"))
        h.source.bytes = Array(repeating: 1, count: 100)
        h.source.pendingEvent = .resized(from: 1024, to: 100)
        h.tick()
        #expect(!h.state.removed)
        #expect(h.state.size == 100 && h.state.cursor == 99 && h.state.top == 0)
        #expect(h.state.staged.isEmpty, "the staged byte was past the new end")
        #expect(h.state.frame.bytes.count == 100)
        #expect(h.session.tracker.length == 100)
        #expect(h.message == "segment resized by a peer from 1024 to 100 bytes: mapped again")
        h.source.bytes = Array(repeating: 2, count: 300)
        h.source.pendingEvent = .reattached(size: 300)
        h.tick()
        #expect(h.state.size == 300 && h.state.frame.bytes.count == 300)
        #expect(h.message == "segment created again (300 bytes): attached to the new one")
        h.source.pendingEvent = .detached(reason: "gone")
        h.tick()
        #expect(h.message == "cannot attach again: gone")
    }

    @Test func layoutFieldsUpdateLiveAndMarkChanges() throws {
        let layout = try StructLayout.parse("counter u32le @0\nname char[8]")
        let h = Harness(layout: layout)
        #expect(h.state.layoutFields.map(\.display) == ["0", "\"\""])
        h.source.bytes[0] = 5
        h.source.bytes.replaceSubrange(4..<6, with: Array("hi".utf8))
        h.tick()
        #expect(h.state.layoutFields.map(\.display) == ["5", "\"hi\""])
        // By member ordinal: counter is 0, name 1.
        #expect(h.state.layoutChangedAt == [0: h.now, 1: h.now])
        h.source.bytes[0] = 6
        h.tick()
        #expect(h.state.layoutChangedAt[0] == h.now)
        #expect(h.state.layoutChangedAt[1] == h.now - 0.1)
    }
}

@Suite struct PanelRenderTests {
    let color = Theme(useColor: true)

    func state(width: Int = 60, height: Int = 20, panel: Panel) -> HexViewState {
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes.replaceSubrange(0..<8, with: [0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x3f])
        bytes.replaceSubrange(8..<13, with: Array("hello".utf8))
        var s = HexViewState(target: "qt:demo", kind: "Qt SysV", size: bytes.count, readOnly: false)
        s.width = width
        s.height = height
        s.frame = Frame(offset: 0, bytes: bytes)
        s.now = 100
        s.panel = panel
        return s
    }

    @Test func whoPaneListsLockAndProcesses() {
        var s = state(width: 80, panel: .who)
        s.who = WhoInfo(
            attached: [
                AttachedProcess(pid: 4242, command: "qtpeer", uid: 0, access: .readWrite),
                AttachedProcess(pid: 4343, command: "python3", uid: 0, access: .readOnly),
            ],
            lock: LockInfo(
                mechanism: .qtSystemV, nativeName: "/tmp/k", semid: 7, value: 0, lastPID: 4242, lastCommand: "qtpeer",
                waiters: 1, stuck: false))
        let b = renderHexScreen(s, theme: color)
        // 20 rows: status, 11 hex rows, a 6-row pane, message, key bar.
        #expect(b.lines[12] == "─ Who " + String(repeating: "─", count: 74))
        #expect(
            Array(b.lines[13...17]) == [
                " lock qt-sysv-semaphore: held by pid 4242 (qtpeer); value 0; waiters 1",
                " pid 4242 qtpeer uid 0 (root) rw",
                " pid 4343 python3 uid 0 (root) r",
                "", "",
            ])
        #expect(b.style(x: 1, y: 13) == color.error)
        #expect(b.style(x: 2, y: 12) == color.heading)
        #expect(b.style(x: 0, y: 12) == color.border)
        s.who = WhoInfo(entry: nil)
        #expect(renderHexScreen(s, theme: color).lines[13] == " not in the catalog: removed, or not visible to us")
    }

    @Test func inspectorShowsEveryTypeInBothOrders() {
        var s = state(width: 80, height: 30, panel: .inspector)
        s.byteChangeCounts[0] = 3
        let b = renderHexScreen(s, theme: color)
        let top = 1 + s.visibleRows
        #expect(s.panelRows == 13)
        #expect(b.lines[top].hasPrefix("─ Inspector @0x00000000 changed 3x │ LE │ BE ─"))
        #expect(
            Array(b.lines[(top + 1)...(top + 12)]) == [
                " u8  52",
                " i8  52",
                " u16 4660                   13330",
                " i16 4660                   13330",
                " u32 4660                   873594880",
                " i32 4660                   873594880",
                " u64 4593671619917910580    3752061439553093695",
                " i64 4593671619917910580    3752061439553093695",
                " f32 6.530050843753648e-42  1.3597309589385986e-07",
                " f64 0.12500000000012934    7.168913600165672e-58",
                " bin 00110100 00010010 00000000 00000000",
                " str \"4\\x12\"",
            ])
    }

    @Test func activityMapColoursCellsByAge() {
        var s = state(width: 40, height: 10, panel: .activity)
        s.activity = ActivitySummary(
            bytesPerCell: 16, lastChange: [99.5, 95, 50, -.infinity], counts: [1, 12, 3, 0])
        s.cursor = 20
        let b = renderHexScreen(s, theme: color)
        // 40x10: 7 rows for data, half of it (3) for the pane, 4 hex rows.
        #expect(s.visibleRows == 4 && s.panelRows == 3)
        #expect(b.lines[5] == "─ Activity: 1 cell = 16 B; > < next/prev")
        // Each row starts with its offset; the last row of the pane is the legend.
        #expect(b.lines[6] == " 0000 1*3·")
        #expect(b.style(x: 6, y: 6) == Style(fg: .white, bg: .red, bold: true))
        #expect(b.style(x: 7, y: 6) == Style(fg: .yellow, bold: true, reverse: true))  // the cursor's cell
        #expect(b.style(x: 8, y: 6) == Style(fg: .green))
        #expect(b.style(x: 9, y: 6) == Style(fg: .brightBlack))
        let mono = renderHexScreen(s, theme: Theme(useColor: false))
        #expect(mono.style(x: 6, y: 6) == Style(bold: true))
        #expect(mono.style(x: 9, y: 6) == Style(dim: true))
    }

    /// Offset labels on every row, round cell sizes, and a legend of glyphs and colours (issue 13, item 6).
    @Test func activityMapHasOffsetLabelsRoundCellsAndALegend() {
        // About 100 KB in cells of 512 B: 64 columns a row at 80 columns, so rows start at multiples of 32 KiB.
        var s = state(width: 80, height: 24, panel: .activity)
        s.size = 100_000
        let geometry = ActivityGeometry(width: 80, size: s.size)
        #expect(geometry.labelWidth == 6 && geometry.columns == 64)
        let cells = (100_000 + 511) / 512
        s.activity = ActivitySummary(
            bytesPerCell: 512, lastChange: Array(repeating: -.infinity, count: cells),
            counts: Array(repeating: 0, count: cells))
        s.activity.lastChange[64] = 99.5
        s.activity.counts[64] = 2
        s.now = 100
        let b = renderHexScreen(s, theme: color)
        let top = 1 + s.visibleRows
        #expect(b.lines[top].hasPrefix("─ Activity: 1 cell = 512 B; > < next/prev"))
        #expect(b.lines[top + 1] == " 00000 " + String(repeating: "·", count: 64))
        #expect(b.lines[top + 2].hasPrefix(" 08000 2" + String(repeating: "·", count: 63)))
        #expect(b.style(x: 1, y: top + 2) == color.heading)
        #expect(b.style(x: 7, y: top + 2) == Style(fg: .white, bg: .red, bold: true))
        let legend = top + s.panelRows - 1
        #expect(b.lines[legend].hasPrefix(" · none  1-9 changes  * 10+  last change: <1s <10s older never"))
        let at = b.lines[legend].distance(
            from: b.lines[legend].startIndex, to: b.lines[legend].firstRange(of: "<1s")!.lowerBound)
        #expect(b.style(x: at, y: legend) == color.activity(age: 0))
        #expect(b.style(x: at + 4, y: legend) == color.activity(age: 5))
        #expect(b.style(x: at + 9, y: legend) == color.activity(age: 60))
        #expect(b.style(x: at + 15, y: legend) == color.activity(age: .infinity))
    }

    @Test func activityCellsAreAPowerOfTwoBlocks() {
        // 3000 blocks of 16 B into at most 256 cells: 16 blocks (256 B) per cell, not 12 (192 B).
        let tracker = ChangeTracker(length: 3000 * 16, blockSize: 16)
        let summary = ActivitySummary(tracker: tracker, cells: 256)
        #expect(summary.bytesPerCell == 256)
        #expect(summary.counts.count == (3000 + 15) / 16)
    }

    @Test func layoutFieldsAreTintedAlternatelyAndTheStatusLineNamesTheOneUnderTheCursor() throws {
        var s = state(width: 80, height: 20, panel: .who)
        s.panel = nil
        s.structLayout = try StructLayout.parse("count u16 @0\nscale f32 @4\nname char[5]\ntemps u8[2] @14")
        s.cursor = 5
        let b = renderHexScreen(s, theme: color)
        let l = s.layout
        // Members by ordinal: count 0, scale 1, name 2, temps[0] 3, temps[1] 4; bytes 2-3 and 13 are padding.
        let expected: [Int: Color] = [0: .tintA, 1: .tintA, 2: .default, 4: .tintB, 7: .tintB, 8: .tintA, 12: .tintA,
                                      13: .default, 14: .tintB, 15: .tintA, 16: .default]
        for (offset, bg) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(b.style(x: l.hexX(offset), y: 1).bg == bg, "byte \(offset)")
            #expect(b.style(x: l.asciiX(offset), y: 1).bg == bg, "text of byte \(offset)")
        }
        // The class colour stays, and the cursor is still reversed; the gap between two bytes of a field is tinted.
        #expect(b.style(x: l.hexX(8), y: 1) == Style(fg: .cyan, bg: .tintA))
        #expect(b.style(x: l.hexX(5), y: 1) == Style(fg: .brightBlack, bg: .tintB, reverse: true))
        #expect(b.style(x: l.hexX(4) + 2, y: 1) == Style(bg: .tintB))
        #expect(b.style(x: l.hexX(7) + 2, y: 1) == .plain)  // scale ends at 7, name starts at 8
        #expect(b.lines[0].contains("│ @0x00000005 scale │ 10 Hz"))
        s.cursor = 15
        #expect(renderHexScreen(s, theme: color).lines[0].contains("│ @0x0000000f temps[1] │ 10 Hz"))
        s.cursor = 2
        #expect(renderHexScreen(s, theme: color).lines[0].contains("│ @0x00000002 │ 10 Hz"))
        // Without colour every other field is underlined.
        let mono = renderHexScreen(s, theme: Theme(useColor: false))
        #expect(mono.style(x: l.hexX(0), y: 1).underline && !mono.style(x: l.hexX(4), y: 1).underline)
    }

    @Test func layoutPaneExpandsArraysAndFollowsTheCursor() throws {
        var s = state(width: 60, height: 14, panel: .layout)
        s.structLayout = try StructLayout.parse("count u16 @0\nscale f32 @4\ntemps u8[6] @8\nlast u8")
        s.layoutFrame = s.frame
        s.cursor = 12
        let b = renderHexScreen(s, theme: color)
        let top = 1 + s.visibleRows
        // 14 rows: a 5-row pane (4 of the 9 members), scrolled so temps[4] (under the cursor) is on its second row.
        #expect(s.panelRows == 5)
        #expect(
            Array(b.lines[(top + 1)...(top + 4)]) == [
                " temps[3] u8 @0x000b 108", " temps[4] u8 @0x000c 111", " temps[5] u8 @0x000d 0", " last     u8 @0x000e 0",
            ])
        #expect(b.style(x: 1, y: top + 2) == color.selection)
        #expect(layoutRows(s, rows: 4) == 5..<9)
    }

    @Test func fJumpsToAFieldByPathOrUniqueLastPart() throws {
        var s = state(width: 80, panel: .who)
        #expect(hexAction(for: .char("f"), in: s) == .openPrompt(.field))
        _ = reduce(&s, .openPrompt(.field))
        #expect(s.mode == .normal && s.message?.text == "no layout: start with --layout FILE (or FILE.h --struct NAME)")
        s.structLayout = StructLayout(fields: [
            .init(name: "hdr.state", type: .scalar(.u32, .little), offset: 4),
            .init(name: "items[1].x", type: .scalar(.i32, .little), offset: 16),
            .init(name: "counter", type: .scalar(.u16, .little), count: 4, offset: 24),
            .init(name: "a.x", type: .scalar(.u8, .little), offset: 40),
            .init(name: "b.x", type: .scalar(.u8, .little), offset: 41),
        ])
        func jump(_ text: String) {
            _ = reduce(&s, .openPrompt(.field))
            for c in text { _ = reduce(&s, .promptInput(c)) }
            _ = reduce(&s, .promptSubmit)
        }
        jump("items[1].x")
        #expect(s.cursor == 16 && s.message == .info("items[1].x: i32le at 0x00000010, 4 bytes"))
        jump("counter[2]")
        #expect(s.cursor == 28)
        jump("STATE")
        #expect(s.cursor == 4 && s.message?.text.hasPrefix("hdr.state:") == true)
        jump("x")
        #expect(s.cursor == 4 && s.message == .error("`x` is ambiguous: items[1].x, a.x, b.x"))
        jump("stat")
        #expect(s.cursor == 4 && s.message == .error("no field `stat`: did you mean hdr.state?"))
        jump("counter[9]")
        #expect(s.message?.isError == true && s.cursor == 4)
    }

    @Test func layoutTableHighlightsChangedFieldsAndTheCursorField() throws {
        var s = state(width: 60, height: 20, panel: .layout)
        s.structLayout = try StructLayout.parse("count u16 @0\nscale f32 @4\nname char[5]")
        s.layoutFrame = s.frame
        s.layoutChangedAt = [1: 99.9]
        s.cursor = 1
        let b = renderHexScreen(s, theme: color)
        let top = 1 + s.visibleRows
        #expect(s.panelRows == 4)
        #expect(
            Array(b.lines[top...(top + 3)]) == [
                "─ Layout (3 fields); f jumps to a field " + String(repeating: "─", count: 20),
                " count u16le   @0x0000 4660",
                " scale f32le   @0x0004 1.5",
                " name  char[5] @0x0008 \"hello\"",
            ])
        #expect(b.style(x: 1, y: top + 1) == color.selection)
        #expect(b.style(x: 23, y: top + 1) == .plain)
        #expect(b.style(x: 23, y: top + 2) == color.changed(level: 3))
        #expect(b.style(x: 1, y: top + 2) == .plain)
    }

    @Test func diffModeHighlightsBytesThatDifferFromTheSnapshot() {
        var s = state(width: 80, panel: .who)
        s.panel = nil
        var snapshot = s.frame.bytes
        snapshot[1] = 0
        s.snapshot = snapshot
        s.diffMode = true
        let b = renderHexScreen(s, theme: color)
        let l = s.layout
        #expect(b.style(x: l.hexX(1), y: 1) == color.diff)
        #expect(b.style(x: l.hexX(2), y: 1) == color.byte(0))
        #expect(b.lines[0].hasSuffix("│ DIFF"))
    }

    @Test func panesFitTheMinimumTerminal() {
        var s = state(width: 40, height: 10, panel: .inspector)
        s.byteChangeCounts = [:]
        let b = renderHexScreen(s, theme: color)
        #expect(s.visibleRows == 4 && s.panelRows == 3)
        #expect(b.lines[5].hasPrefix("─ Inspector @0x00000000 changed 0x"))
        #expect(b.lines[6] == " u8  52")
        #expect(b.lines[7] == " i8  52")
        #expect(b.lines[8] == "")
        s.width = 39
        #expect(
            s.panelRows == 0 && renderHexScreen(s, theme: color).lines.contains { $0.contains("terminal too small") })
    }
}
