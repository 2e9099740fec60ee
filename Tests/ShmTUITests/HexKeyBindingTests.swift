import Testing
import ShmCore

@testable import ShmTUI

/// Every key binding of the hex view, driven through the key map, the reducer and the session against an
/// in-memory source (80x24: 16 bytes per row, 21 data rows).
@Suite struct HexKeyBindingTests {
    final class Harness {
        let source: MemorySource
        let session: HexSession
        var now = 10.0

        init(bytes: [UInt8] = Array(repeating: 0, count: 1024), readOnly: Bool = false, hasLock: Bool = true) {
            source = MemorySource(bytes: bytes, readOnly: readOnly, hasLock: hasLock)
            source.holderCommand = "qtpeer"
            session = HexSession(
                source: source, who: NoWho(reason: "in-memory test source"), layout: .none, settings: HexViewSettings(),
                theme: Theme(useColor: true), width: 80, height: 24, now: now)
        }

        var state: HexViewState { session.state }

        func press(_ keys: Key...) {
            for key in keys { session.send(key, now: now) }
        }

        func type(_ text: String) {
            for ch in text { session.send(.char(ch), now: now) }
        }

        /// Advances the clock by one refresh interval and runs the loop's tick.
        func tick(_ seconds: Double = 0.1) {
            now += seconds
            session.tick(now: now)
        }

        var message: String? { state.message?.text }
    }

    @Test func arrowsAndHjkl() {
        let h = Harness()
        h.press(.right)
        #expect(h.state.cursor == 1)
        h.press(.char("l"))
        #expect(h.state.cursor == 2)
        h.press(.left, .char("h"))
        #expect(h.state.cursor == 0)
        h.press(.left)
        #expect(h.state.cursor == 0)
        h.press(.down)
        #expect(h.state.cursor == 16)
        h.press(.char("j"))
        #expect(h.state.cursor == 32)
        h.press(.up)
        #expect(h.state.cursor == 16)
        h.press(.char("k"), .char("k"))
        #expect(h.state.cursor == 0)
    }

    @Test func pagesScrollTheView() {
        let h = Harness()
        h.press(.right, .pageDown)
        #expect(h.state.cursor == 21 * 16 + 1)
        #expect(h.state.top == 16)
        h.press(.pageUp)
        #expect(h.state.cursor == 1)
        #expect(h.state.top == 0)
        h.press(.pageUp)
        #expect(h.state.cursor == 1)
    }

    @Test func homeEndAndTopBottom() {
        let h = Harness()
        h.press(.down, .right, .right, .right, .home)
        #expect(h.state.cursor == 16)
        h.press(.end)
        #expect(h.state.cursor == 31)
        h.press(.char("G"))
        #expect(h.state.cursor == 1023)
        #expect(h.state.top == 1008 - 20 * 16)
        h.press(.down)
        #expect(h.state.cursor == 1023)
        h.press(.char("g"))
        #expect(h.state.cursor == 0)
        #expect(h.state.top == 0)
    }

    @Test func tabSwitchesPaneAndTextPaneTypesEdits() {
        let h = Harness()
        h.press(.tab)
        #expect(h.state.pane == .ascii)
        h.type("q")
        #expect(h.state.staged == [0: 0x71])
        #expect(!h.session.isFinished)
        h.press(.backTab)
        #expect(h.state.pane == .hex)
        h.press(.tab, .escape)
        #expect(h.state.pane == .hex)
        #expect(h.message == "hex pane")
        h.press(.escape)
        #expect(h.message == nil)
    }

    @Test func gotoAcceptsDecimalHexAndRelative() {
        let h = Harness()
        h.press(.char(":"))
        #expect(h.state.mode == .prompt(Prompt(kind: .goto)))
        h.type("0x40")
        h.press(.enter)
        #expect(h.state.cursor == 64)
        h.press(.ctrl("g"))
        h.type("+16")
        h.press(.enter)
        #expect(h.state.cursor == 80)
        h.press(.function(4))
        h.type("-0x20")
        h.press(.enter)
        #expect(h.state.cursor == 48)
        h.press(.char(":"))
        h.type("1000")
        h.press(.enter)
        #expect(h.state.cursor == 1000)
        #expect(h.state.top == 992 - 20 * 16)
    }

    @Test func gotoRejectsBadInputAndEscCancels() {
        let h = Harness()
        h.press(.char(":"))
        h.type("zz")
        h.press(.enter)
        #expect(h.state.cursor == 0)
        #expect(h.message == "`zz` is not an offset (e.g. 4096, 0x1000, 4K)")
        #expect(h.state.message?.isError == true)
        // A well-formed offset past the end goes to the last byte and says so (decisions: the prompt clamps).
        h.press(.char(":"))
        h.type("5000")
        h.press(.enter)
        #expect(h.state.cursor == 1023)
        #expect(h.message == "offset 5000 is outside the segment (0…1023): went to 1023")
        #expect(h.state.message?.isError == false)
        h.press(.char(":"))
        h.type("-2000")
        h.press(.enter)
        #expect(h.state.cursor == 0)
        #expect(h.message == "offset -977 is outside the segment (0…1023): went to 0")
        h.press(.char(":"))
        h.type("0xffffffffffffffffff")
        h.press(.enter)
        #expect(h.message == "`0xffffffffffffffffff` is too large")
        #expect(h.state.cursor == 0)
        h.press(.char(":"))
        h.type("12")
        h.press(.backspace)
        #expect(h.state.mode == .prompt(Prompt(kind: .goto, text: "1")))
        h.press(.escape)
        #expect(h.state.mode == .normal)
        #expect(h.state.cursor == 0)
    }

    @Test func searchTextHexAndRepeat() {
        var bytes = [UInt8](repeating: 0, count: 1024)
        bytes.replaceSubrange(100..<105, with: Array("hello".utf8))
        bytes.replaceSubrange(600..<605, with: Array("hello".utf8))
        bytes.replaceSubrange(300..<302, with: [0xde, 0xad])
        let h = Harness(bytes: bytes)
        h.press(.char("/"))
        h.type("hello")
        h.press(.enter)
        #expect(h.state.cursor == 100)
        #expect(h.message == "found hello at 0x00000064")
        h.press(.char("n"))
        #expect(h.state.cursor == 600)
        h.press(.char("n"))
        #expect(h.state.cursor == 100)
        #expect(h.message == "found hello at 0x00000064 (wrapped)")
        h.press(.char("N"))
        #expect(h.state.cursor == 600)
        h.press(.function(6))
        h.type("x de ad")
        h.press(.enter)
        #expect(h.state.cursor == 300)
        #expect(h.message == "found x de ad at 0x0000012c (wrapped)")
        h.press(.char("/"))
        h.type("nope")
        h.press(.enter)
        #expect(h.state.cursor == 300)
        #expect(h.message == "not found: nope")
        #expect(h.state.message?.isError == true)
    }

    @Test func repeatWithoutSearchExplains() {
        let h = Harness()
        h.press(.char("n"))
        #expect(h.message == "no search yet: press / to search")
    }

    @Test func liveRefreshHighlightsChangesAndPauseFreezes() {
        let h = Harness()
        h.source.bytes[3] = 0x7a
        h.tick()
        #expect(h.state.frame.byte(at: 3) == 0x7a)
        #expect(h.state.changeLevel(3) == 3)
        h.tick(0.5)
        #expect(h.state.changeLevel(3) == 2)
        h.tick(0.6)
        #expect(h.state.changeLevel(3) == 0)
        #expect(h.state.changedAt.isEmpty)

        h.press(.char("p"))
        #expect(h.state.paused)
        #expect(h.state.frame.bytes.count == 1024)
        h.source.bytes[4] = 0x55
        h.tick()
        h.tick()
        #expect(h.state.frame.byte(at: 4) == 0)
        #expect(h.message == "paused: showing a frozen snapshot; p resumes")
        // Scrolling while paused shows the snapshot, not the live bytes.
        h.press(.char("G"))
        #expect(h.state.frame.bytes.count == 1024)
        h.press(.char("g"), .function(5))
        #expect(!h.state.paused)
        #expect(h.state.frame.byte(at: 4) == 0x55)
        #expect(h.state.changeLevel(4) == 3)
    }

    @Test func lockWaitsForAnotherHolderThenAcquires() {
        let h = Harness()
        h.source.holderPID = 4242
        h.tick()
        #expect(h.state.lock == .heldBy(pid: 4242, command: "qtpeer"))
        h.press(.char("L"))
        #expect(h.state.lockWait == .hold)
        let screen = h.session.render()
        #expect(screen.line(22) == "waiting for lock held by pid 4242 (qtpeer)… Esc cancels")
        #expect(screen.line(0).contains("│ waiting… pid 4242 (qtpeer) │"))
        h.tick()
        h.tick()
        #expect(h.state.lockWait == .hold)
        #expect(h.source.lockAttempts >= 3)
        h.source.holderPID = nil
        h.tick()
        #expect(h.state.lockWait == nil)
        #expect(h.state.lock == .lockedByUs)
        #expect(h.source.lockedByUs)
        #expect(h.message == "locked: peers wait until you press U")
        h.press(.char("U"))
        #expect(!h.source.lockedByUs)
        #expect(h.state.lock == .unlocked)
        h.press(.function(2))
        #expect(h.source.lockedByUs)
        h.press(.function(3))
        #expect(!h.source.lockedByUs)
        h.press(.char("U"))
        #expect(h.message == "not locked by us: nothing to release")
    }

    @Test func escCancelsALockWait() {
        let h = Harness()
        h.source.holderPID = 4242
        h.press(.char("L"))
        h.press(.escape)
        #expect(h.state.lockWait == nil)
        #expect(h.message == "stopped waiting for the lock")
        let attempts = h.source.lockAttempts
        h.source.holderPID = nil
        h.tick()
        #expect(h.source.lockAttempts == attempts)
        #expect(!h.source.lockedByUs)
    }

    @Test func hexDigitsStageNibblesAndUndo() {
        let h = Harness()
        h.type("4")
        #expect(h.state.staged == [0: 0x40])
        #expect(h.state.cursor == 0)
        h.type("1")
        #expect(h.state.staged == [0: 0x41])
        #expect(h.state.cursor == 1)
        h.type("fF")
        #expect(h.state.staged == [0: 0x41, 1: 0xff])
        #expect(h.source.bytes[0] == 0)
        h.press(.char("u"))
        #expect(h.state.staged == [0: 0x41])
        #expect(h.state.cursor == 1)
        h.type("a")
        h.press(.backspace)
        #expect(h.state.staged == [0: 0x41])
        h.press(.ctrl("u"))
        #expect(h.state.staged.isEmpty)
        #expect(h.message == "dropped 1 staged byte")
        h.press(.char("u"))
        #expect(h.message == "nothing to undo")
    }

    @Test func undoRestoresAnEarlierStagedValue() {
        let h = Harness()
        h.type("11")
        h.press(.left)
        h.type("22")
        #expect(h.state.staged == [0: 0x22])
        h.press(.char("u"))
        #expect(h.state.staged == [0: 0x11])
    }

    @Test func commitLocksWritesAndUnlocks() {
        let h = Harness()
        h.press(.tab)
        h.type("hi")
        h.press(.char("w"))
        // Tab went to the text pane, so `w` was typed; commit there is Ctrl-S.
        #expect(h.state.staged == [0: 0x68, 1: 0x69, 2: 0x77])
        h.press(.ctrl("s"))
        #expect(Array(h.source.bytes[0..<3]) == Array("hiw".utf8))
        #expect(h.source.writes.count == 1)
        #expect(!h.source.lockedByUs)
        #expect(h.state.staged.isEmpty)
        #expect(h.message == "wrote 3 bytes")
    }

    @Test func commitWaitsWhileAnotherProcessHoldsTheLock() {
        let h = Harness()
        h.source.holderPID = 99
        h.type("ab")
        h.press(.function(8))
        #expect(h.state.lockWait == .commit)
        h.tick()
        #expect(h.source.bytes[0] == 0)
        h.source.holderPID = nil
        h.tick()
        #expect(h.source.bytes[0] == 0xab)
        #expect(!h.source.lockedByUs)
        #expect(h.state.lockWait == nil)
        #expect(h.state.lock == .unlocked)
    }

    @Test func commitWhileWeHoldTheLockKeepsIt() {
        let h = Harness()
        h.press(.char("L"))
        h.type("12")
        h.press(.char("w"))
        #expect(h.source.bytes[0] == 0x12)
        #expect(h.source.lockedByUs)
        #expect(h.state.lock == .lockedByUs)
        h.press(.char("w"))
        #expect(h.message == "nothing staged: type hex digits or text first")
    }

    @Test func segmentWithoutLockWritesStraightAndRefusesL() {
        let h = Harness(hasLock: false)
        #expect(h.state.lock == .none)
        h.press(.char("L"))
        #expect(h.message == "this segment has no lock shmscope can take")
        h.type("ff")
        h.press(.char("w"))
        #expect(h.source.bytes[0] == 0xff)
    }

    @Test func readOnlyRefusesEditsLockAndWrite() {
        let h = Harness(readOnly: true)
        h.type("4")
        #expect(h.state.staged.isEmpty)
        #expect(h.message == "attached read-only: edits are refused; use open without --read-only to edit")
        #expect(h.state.message?.isError == true)
        h.press(.char("L"))
        #expect(h.message == "attached read-only: locking is for editing; use open without --read-only")
        #expect(h.source.lockAttempts == 0)
        h.press(.char("w"))
        #expect(h.message == "attached read-only: nothing can be written")
        h.press(.tab)
        h.type("x")
        #expect(h.state.staged.isEmpty)
        #expect(h.source.writes.isEmpty)
    }

    @Test func quitAsksWhenEditsAreStaged() {
        let h = Harness()
        h.type("1")
        h.press(.char("q"))
        #expect(h.state.mode == .confirmQuit)
        #expect(!h.session.isFinished)
        h.press(.char("n"))
        #expect(h.state.mode == .normal)
        h.press(.function(10))
        h.press(.char("y"))
        #expect(h.session.isFinished)
    }

    @Test(arguments: [Key.char("q"), .function(10), .ctrl("c")])
    func quitKeys(key: Key) {
        let h = Harness()
        h.press(.char("L"))
        h.press(key)
        #expect(h.session.isFinished)
        h.session.shutdown()
        #expect(h.source.closed)
        #expect(!h.source.lockedByUs)
    }

    @Test func helpOpensAndCloses() {
        let h = Harness()
        h.press(.char("?"))
        #expect(h.state.mode == .help(scroll: 0))
        h.press(.char("j"))
        #expect(h.state.mode == .help(scroll: 1))
        // Keys do nothing else while help is up.
        h.press(.char("G"))
        #expect(h.state.cursor == 0)
        h.press(.escape)
        #expect(h.state.mode == .normal)
        h.press(.function(1))
        #expect(h.state.mode == .help(scroll: 0))
        h.press(.char("q"))
        #expect(h.state.mode == .normal)
        #expect(!h.session.isFinished)
    }

    @Test func mouseClickPlacesCursorAndWheelScrolls() {
        let h = Harness()
        let l = HexLayout(bytesPerRow: 16)
        h.press(.click(x: l.hexX(3) + 1, y: 2))
        #expect(h.state.cursor == 19)
        #expect(h.state.pane == .hex)
        h.press(.click(x: l.asciiX(5), y: 1))
        #expect(h.state.cursor == 5)
        #expect(h.state.pane == .ascii)
        h.press(.click(x: 0, y: 1))
        #expect(h.state.cursor == 5)
        h.press(.wheelDown)
        #expect(h.state.top == 48)
        #expect(h.state.cursor == 53)
        #expect(h.state.frame.offset == 48)
        h.press(.wheelUp, .wheelUp)
        #expect(h.state.top == 0)
    }

    @Test func resizeReflowsBytesPerRow() {
        let h = Harness()
        h.press(.resize(width: 150, height: 30))
        #expect(h.state.bytesPerRow == 32)
        #expect(h.session.render().line(1).hasPrefix("00000000  00"))
        #expect(h.session.render().line(2).hasPrefix("00000020"))
        h.press(.resize(width: 50, height: 12))
        #expect(h.state.bytesPerRow == 8)
        h.press(.resize(width: 30, height: 8))
        #expect(h.session.render().lines.contains { $0.contains("terminal too small") })
    }

    @Test func ctrlLAsksForAFullRedraw() {
        let h = Harness()
        #expect(!h.session.wantsFullRedraw)
        h.press(.ctrl("l"))
        #expect(h.session.wantsFullRedraw)
    }

    @Test func parseHelpers() throws {
        #expect(try parseGoto("123", cursor: 5) == 123)
        #expect(try parseGoto("0x7B", cursor: 5) == 123)
        #expect(try parseGoto("+0x10", cursor: 5) == 21)
        #expect(try parseGoto("-3", cursor: 5) == 2)
        #expect(try parseGoto("4K", cursor: 5) == 4096)
        #expect(try parseGoto("-10", cursor: 5) == -5, "clamping is the reducer's job")
        #expect(try parseGoto("+0x7fffffffffffffff", cursor: 5) == Int.max)
        #expect(throws: NumberSyntaxError("nothing is not an offset (e.g. 4096, 0x1000, 4K)")) {
            try parseGoto("", cursor: 5)
        }
        #expect(throws: NumberSyntaxError("nothing is not an offset (e.g. 4096, 0x1000, 4K)")) {
            try parseGoto("+", cursor: 5)
        }
        #expect(try SearchQuery.parse("x dead BE ef")?.bytes == [0xde, 0xad, 0xbe, 0xef])
        #expect(try SearchQuery.parse("x de:ad")?.bytes == [0xde, 0xad])
        #expect(throws: NumberSyntaxError("`d` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)")) {
            try SearchQuery.parse("x d")
        }
        // Full-width letters are hex digits to Character.isHexDigit; they used to crash the byte conversion.
        #expect(throws: NumberSyntaxError.self) { try SearchQuery.parse("x ＡＡ") }
        #expect(try SearchQuery.parse("xyz")?.bytes == Array("xyz".utf8))
        #expect(try SearchQuery.parse("") == nil)
        #expect(findBytes([1, 2], in: [1, 2, 0, 1, 2], from: 1, forward: true)! == (3, false))
        #expect(findBytes([1, 2], in: [1, 2, 0, 1, 2], from: 2, forward: false)! == (0, false))
        #expect(findBytes([1, 2], in: [1, 2, 0, 1, 2], from: -1, forward: false)! == (3, true))
        #expect(findBytes([9], in: [1, 2], from: 0, forward: true) == nil)
        #expect(
            writeRuns([5: 1, 6: 2, 9: 3]) == [WriteRun(offset: 5, bytes: [1, 2]), WriteRun(offset: 9, bytes: [3])])
    }
}
