import Testing

@testable import ShmCore
@testable import ShmTUI

/// Widgets drawn into a ScreenBuffer and compared line by line, styles included.
@Suite struct HexRenderTests {
    static let bytes: [UInt8] =
        Array("hello".utf8) + [0x00, 0x20, 0x09, 0x01, 0xff] + Array(repeating: 0x41, count: 30)
    let color = Theme(useColor: true)
    let mono = Theme(useColor: false)

    func state(width: Int = 80, height: Int = 10) -> HexViewState {
        var s = HexViewState(target: "qt:demo", kind: "Qt SysV", size: Self.bytes.count, readOnly: false)
        s.width = width
        s.height = height
        s.frame = Frame(offset: 0, bytes: Self.bytes)
        s.now = 100
        return s
    }

    @Test func wholeScreenLines() {
        let b = renderHexScreen(state(), theme: color)
        #expect(
            b.lines == [
                " qt:demo (Qt SysV) 40 B VIEW │ unlocked │ @0x00000000 │ 10 Hz",
                "00000000  68 65 6c 6c 6f 00 20 09  01 ff 41 41 41 41 41 41  |hello⋄ _•×AAAAAA|",
                "00000010  41 41 41 41 41 41 41 41  41 41 41 41 41 41 41 41  |AAAAAAAAAAAAAAAA|",
                "00000020  41 41 41 41 41 41 41 41" + String(repeating: " ", count: 27) + "|AAAAAAAA|",
                "", "", "", "", "",
                "F1Help eEdit F2Lock L F3Unlock U F4Goto : F5Pause p F6Find / F8Commit F10Quit q",
            ])
    }

    @Test func editModeSaysEditInTheStatusLineAndTheKeyBar() {
        var s = state()
        s.editing = true
        s.attachedReadWrite = true
        let b = renderHexScreen(s, theme: color)
        #expect(b.line(0) == " qt:demo (Qt SysV) 40 B EDIT │ unlocked │ @0x00000000 │ 10 Hz")
        #expect(b.style(x: 24, y: 0) == Style(fg: .white, bg: .red, bold: true))
        #expect(b.line(9) == "EDIT EscView BSUndo TabPane F1Help F2Lock F4Goto F8Commit F10Quit")
    }

    @Test func commitDialogWithAndWithoutALock() {
        var s = state(width: 80, height: 24)
        let who = WhoInfo(
            attached: [
                AttachedProcess(pid: 4242, command: "qtpeer", uid: 0, access: .readWrite),
                AttachedProcess(pid: 77, command: "shmscope", uid: 0, access: .readOnly),
            ], lock: nil)
        s.staged = [0: 0x68, 1: 0x69, 16: 0xff]
        s.mode = .commitDialog(
            CommitPlan(runs: writeRuns(s.staged), lock: "qt-sysv-semaphore /tmp/qipc_systemsem_demo", who: who))
        let lines = renderHexScreen(s, theme: color).lines
        let expected = [
            "Write 3 bytes in 2 runs:",
            "  0x00000000 2 bytes: 68 69",
            "  0x00000010 1 byte: ff",
            "Lock: qt-sysv-semaphore /tmp/qipc_systemsem_demo",
            "Attached:",
            "  pid 4242 qtpeer (rw)",
            "  pid 77 shmscope (r)",
            "y writes under the lock   Esc/n cancels",
        ]
        for line in expected {
            #expect(lines.contains { $0.contains("│ " + line) }, "missing dialog line: \(line)")
        }
        #expect(lines.contains { $0.contains("┌─ Commit ─") })
        #expect(lines[22] == "Commit? (y/n)")
        s.mode = .commitDialog(CommitPlan(runs: writeRuns(s.staged), lock: nil, who: WhoInfo(unavailable: "replay")))
        let bare = renderHexScreen(s, theme: color).lines
        #expect(bare.contains { $0.contains("│ Lock: none (no lock shmscope can take)") })
        #expect(bare.contains { $0.contains("│ Attached: unknown (replay)") })
        #expect(bare.contains { $0.contains("│ ! writes WITHOUT a lock   Esc/n cancels") })
        #expect(bare[22] == "Commit without a lock? (!/n)")
    }

    @Test func byteClassColoursLikeHexyl() {
        let b = renderHexScreen(state(), theme: color)
        let l = HexLayout(bytesPerRow: 16)
        #expect(b.style(x: 0, y: 1) == Style(fg: .brightBlack))  // offset
        #expect(b.style(x: l.hexX(1), y: 1) == Style(fg: .cyan))  // 'e' printable
        #expect(b.style(x: l.hexX(5), y: 1) == Style(fg: .brightBlack))  // NUL
        #expect(b.style(x: l.hexX(6), y: 1) == Style(fg: .green))  // space
        #expect(b.style(x: l.hexX(7), y: 1) == Style(fg: .green))  // tab, shown _
        #expect(b.style(x: l.hexX(8), y: 1) == Style(fg: .green))  // other ASCII, shown •
        #expect(b.style(x: l.hexX(9), y: 1) == Style(fg: .yellow))  // non-ASCII, shown ×
        #expect(b.style(x: l.asciiX(9), y: 1) == Style(fg: .yellow))
        #expect(b[l.asciiX(9), 1].character == "×")
        // The cursor: reversed in the active (hex) pane, underlined in the text pane.
        #expect(b.style(x: l.hexX(0), y: 1) == Style(fg: .cyan, reverse: true))
        #expect(b.style(x: l.hexX(0) + 1, y: 1) == Style(fg: .cyan, reverse: true))
        #expect(b.style(x: l.asciiX(0), y: 1) == Style(fg: .cyan, underline: true))
    }

    @Test func cursorFollowsThePane() {
        var s = state()
        s.pane = .ascii
        s.cursor = 17
        let b = renderHexScreen(s, theme: color)
        let l = HexLayout(bytesPerRow: 16)
        #expect(b.style(x: l.asciiX(1), y: 2) == Style(fg: .cyan, reverse: true))
        #expect(b.style(x: l.hexX(1), y: 2) == Style(fg: .cyan, underline: true))
        #expect(b.style(x: l.hexX(0), y: 1) == Style(fg: .cyan))
    }

    @Test func noColorUsesAttributesOnly() {
        var s = state()
        s.staged[2] = 0x58
        s.changedAt[3] = 99.95
        let b = renderHexScreen(s, theme: mono)
        let l = HexLayout(bytesPerRow: 16)
        for y in 0..<b.height {
            for x in 0..<b.width {
                #expect(b.style(x: x, y: y).fg == .default && b.style(x: x, y: y).bg == .default)
            }
        }
        #expect(b.style(x: l.hexX(1), y: 1) == .plain)
        #expect(b.style(x: l.hexX(2), y: 1) == Style(bold: true, underline: true))  // staged
        #expect(b.style(x: l.hexX(3), y: 1) == Style(bold: true))  // just changed
        #expect(b.style(x: 0, y: 9) == Style(bold: true))
        #expect(b.style(x: 2, y: 9) == Style(reverse: true))
    }

    @Test func changedBytesFadeOverASecond() {
        var s = state()
        s.changedAt = [1: 99.9, 2: 99.5, 3: 99.2, 4: 98.8]
        let b = renderHexScreen(s, theme: color)
        let l = HexLayout(bytesPerRow: 16)
        #expect(b.style(x: l.hexX(1), y: 1) == Style(fg: .white, bg: .red, bold: true))
        #expect(b.style(x: l.asciiX(1), y: 1) == Style(fg: .white, bg: .red, bold: true))
        #expect(b.style(x: l.hexX(2), y: 1) == Style(fg: .red, bold: true))
        #expect(b.style(x: l.hexX(3), y: 1) == Style(fg: .red))
        #expect(b.style(x: l.hexX(4), y: 1) == Style(fg: .cyan))  // faded out
    }

    @Test func stagedBytesShowTheirValueInTheirOwnColour() {
        var s = state()
        s.staged = [2: 0x58, 3: 0x00]
        let b = renderHexScreen(s, theme: color)
        let l = HexLayout(bytesPerRow: 16)
        #expect(b.line(1) == "00000000  68 65 58 00 6f 00 20 09  01 ff 41 41 41 41 41 41  |heX⋄o⋄ _•×AAAAAA|")
        #expect(b.style(x: l.hexX(2), y: 1) == Style(fg: .magenta, bold: true))
        #expect(b.style(x: l.asciiX(3), y: 1) == Style(fg: .magenta, bold: true))
        #expect(b.line(0).hasSuffix("│ 10 Hz │ 2 staged"))
    }

    @Test func unreadBytesShowQuestionMarks() {
        var s = state()
        s.frame = Frame(offset: 0, bytes: Array(Self.bytes[0..<4]))
        let b = renderHexScreen(s, theme: color)
        #expect(b.line(1) == "00000000  68 65 6c 6c ?? ?? ?? ??  ?? ?? ?? ?? ?? ?? ?? ??  |hell????????????|")
    }

    @Test(arguments: [
        (LockStatus.unlocked, LockWait?.none, "unlocked"),
        (.lockedByUs, nil, "locked by us"),
        (.heldBy(pid: 4242, command: "qtpeer"), nil, "held by pid 4242 (qtpeer)"),
        (.heldBy(pid: 4242, command: nil), nil, "held by pid 4242"),
        (.heldBy(pid: 4242, command: "qtpeer"), .hold, "waiting… pid 4242 (qtpeer)"),
        (.unlocked, .commit, "waiting…"),
        (.none, nil, "no lock"),
    ])
    func statusLineLockStates(lock: LockStatus, wait: LockWait?, text: String) {
        var s = state()
        s.lock = lock
        s.lockWait = wait
        let b = renderHexScreen(s, theme: color)
        let prefix = " qt:demo (Qt SysV) 40 B VIEW │ "
        #expect(b.line(0) == prefix + text + " │ @0x00000000 │ 10 Hz")
        #expect(b.line(0).count <= 80)
        let x = prefix.count
        let expected: Style =
            switch (lock, wait) {
            case (.lockedByUs, nil): Style(fg: .black, bg: .green, bold: true)
            case (.heldBy, _), (_, .some): Style(fg: .white, bg: .red, bold: true)
            default: Style(reverse: true)
            }
        #expect(b.style(x: x, y: 0) == expected)
        #expect(b.style(x: 1, y: 0) == Style(reverse: true))
    }

    @Test func statusLineReadOnlyPausedCursorAndRate() {
        var s = state()
        s.readOnly = true
        s.paused = true
        s.cursor = 33
        s.intervalMS = 300
        let b = renderHexScreen(s, theme: color)
        #expect(
            b.line(0) == " qt:demo (Qt SysV) 40 B RO │ unlocked │ @0x00000021 │ every 300 ms │ PAUSED"
        )
        s.intervalMS = 250
        #expect(renderHexScreen(s, theme: color).line(0).hasSuffix("│ 4 Hz │ PAUSED"))
    }

    @Test func messageLineShowsPromptsWaitsAndErrors() {
        var s = state()
        s.mode = .prompt(Prompt(kind: .goto, text: "0x1"))
        #expect(renderHexScreen(s, theme: color).line(8) == "Go to (123, 0x7b, 4K, $, 0x40+8, +16): 0x1")
        s.mode = .prompt(Prompt(kind: .command, text: "q!"))
        #expect(renderHexScreen(s, theme: color).line(8) == ":q!")
        s.mode = .prompt(Prompt(kind: .search, text: "x de"))
        #expect(renderHexScreen(s, theme: color).line(8) == "Search (text, or x de ad): x de")
        s.mode = .prompt(Prompt(kind: .searchBackward, text: "ab"))
        #expect(renderHexScreen(s, theme: color).line(8) == "Search backward (text, or x de ad): ab")
        s.mode = .normal
        s.lockWait = .hold
        s.lock = .heldBy(pid: 7, command: "qtpeer")
        #expect(renderHexScreen(s, theme: color).line(8) == "waiting for lock held by pid 7 (qtpeer)… Esc cancels")
        s.lockWait = nil
        s.message = .error("boom")
        let b = renderHexScreen(s, theme: color)
        #expect(b.line(8) == "boom")
        #expect(b.style(x: 0, y: 8) == Style(fg: .red, bold: true))
        s.staged = [0: 1]
        s.mode = .confirmQuit
        #expect(renderHexScreen(s, theme: color).line(8) == "1 staged byte not written. Quit anyway? (y/n)")
        s.mode = .confirmDiscard
        #expect(renderHexScreen(s, theme: color).line(8) == "Discard 1 staged byte? (y/n)")
    }

    @Test func helpOverlayListsEveryKey() {
        var s = state(width: 80, height: 40)
        s.mode = .help(scroll: 0)
        let b = renderHexScreen(s, theme: color)
        let screen = b.lines
        for line in helpLines {
            #expect(screen.contains { $0.contains("│ " + line) }, "missing help line: \(line)")
        }
        #expect(screen.contains { $0.contains("┌─ Keys ─") })
        #expect(screen.contains { $0.contains("└───") })
        let all = helpLines.joined(separator: "\n")
        for key in [
            "h j k l", "16j", "0 start", "$ end", "w next", "b prev", "Space", "Ctrl-F", "Ctrl-B", "Ctrl-D",
            "Ctrl-U", "PgUp", "PgDn", "Home", "End", "g G", ":", "Ctrl-G", "F4", "0x40+8", "/", "F6", "backward ?",
            "x de ad", "n N", "Tab", "e  Insert", "EDIT", "Ctrl-S", "F8", ":w", "y writes", "! without a lock",
            "u ", "X ", "Backspace", "L  F2", "U  F3", "p  F5", "Esc", "Ctrl-L", "click", "wheel", "F1", "q  F10",
            ":q!", "W", "m", "> <", "i", "=", "t", "F7", "s  F9", "S", "O", "x", "] [",
        ] {
            #expect(all.contains(key), "help does not mention \(key)")
        }
    }

    @Test func helpOverlayScrollsOnSmallScreens() {
        var s = state(width: 40, height: 10)
        s.mode = .help(scroll: 0)
        let top = renderHexScreen(s, theme: color).lines
        #expect(top.contains { $0.contains("Move") })
        #expect(top.contains { $0.contains("more: j/↓") })
        s.mode = .help(scroll: 100)
        let bottom = renderHexScreen(s, theme: color).lines
        #expect(bottom.contains { $0.contains("Help        F1     Quit  q  F10") })
        #expect(!bottom.contains { $0.contains("Move ") })
    }

    @Test func tooSmallNotice() {
        let b = renderHexScreen(state(width: 39, height: 10), theme: color)
        #expect(
            b.lines == ["", "", "", "", "          terminal too small", "              need 40x10", "", "", "", ""])
        #expect(b.style(x: 10, y: 4) == Style(bold: true))
        #expect(
            renderHexScreen(state(width: 80, height: 9), theme: color).lines.contains("terminal too small".centered(80))
        )
    }

    @Test func smallestUsableScreenShowsFourBytesPerRow() {
        let b = renderHexScreen(state(width: 40, height: 10), theme: color)
        #expect(b.line(1) == "00000000  68 65 6c 6c  |hell|")
        #expect(b.line(7) == "00000018  41 41 41 41  |AAAA|")
        // The cursor offset and Quit are the last things a narrow terminal cuts.
        #expect(b.line(0) == " qt:demo VIEW │ unlocked │ @0x00000000")
        #expect(b.line(9) == "F1Help eEdit F8Commit F10Quit q")
    }

    @Test func layoutsForEachWidth() {
        #expect(HexLayout.fitting(width: 200).bytesPerRow == 32)
        #expect(HexLayout.fitting(width: 144).bytesPerRow == 32)
        #expect(HexLayout.fitting(width: 143).bytesPerRow == 16)
        #expect(HexLayout.fitting(width: 78).bytesPerRow == 16)
        #expect(HexLayout.fitting(width: 77).bytesPerRow == 8)
        #expect(HexLayout.fitting(width: 45).bytesPerRow == 8)
        #expect(HexLayout.fitting(width: 44).bytesPerRow == 4)
        var s = state(width: 150)
        #expect(renderHexScreen(s, theme: color).line(1).hasSuffix("|hello⋄ _•×AAAAAAAAAAAAAAAAAAAAAA|"))
        s.fixedBytesPerRow = 8
        #expect(renderHexScreen(s, theme: color).line(1) == "00000000  68 65 6c 6c 6f 00 20 09  |hello⋄ _|")
    }
}

extension String {
    func centered(_ width: Int) -> String { String(repeating: " ", count: (width - count) / 2) + self }
}
