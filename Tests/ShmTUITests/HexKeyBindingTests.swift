import Glibc
import Testing

@testable import ShmCore
@testable import ShmTUI

/// Every key binding of the hex view, driven through the key map, the reducer and the session against an
/// in-memory source (80x24: 16 bytes per row, 21 data rows).
@Suite struct HexKeyBindingTests {
    final class Harness {
        let source: MemorySource
        let session: HexSession
        var now = 10.0

        init(
            bytes: [UInt8] = Array(repeating: 0, count: 1024), readOnly: Bool = false, hasLock: Bool = true,
            who: any WhoProvider = NoWho(reason: "in-memory test source"), layout: ViewLayout = .none
        ) {
            source = MemorySource(bytes: bytes, readOnly: readOnly, hasLock: hasLock)
            source.holderCommand = "qtpeer"
            session = HexSession(
                source: source, who: who, layout: layout, settings: HexViewSettings(),
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

        /// `e`: edit mode (the source re-attaches read-write).
        func edit() { press(.char("e")) }

        /// F8 then the dialog's `y`.
        func commit() { press(.function(8), .char("y")) }
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

    @Test func tabSwitchesPaneAndNeverEdits() {
        let h = Harness()
        h.press(.tab)
        #expect(h.state.pane == .ascii)
        #expect(h.message == "text pane")
        #expect(!h.state.editing)
        // In view mode the text pane's letters are view keys: `j` moves, nothing is staged.
        h.type("j")
        #expect(h.state.cursor == 16)
        #expect(h.state.staged.isEmpty)
        h.edit()
        #expect(h.state.editing)
        h.type("q")
        #expect(h.state.staged == [16: 0x71])
        #expect(!h.session.isFinished)
        h.press(.backTab)
        #expect(h.state.pane == .hex)
        #expect(h.state.editing)
        h.press(.escape)
        #expect(!h.state.editing)
        #expect(h.state.staged == [16: 0x71], "Esc keeps what is staged")
        #expect(h.message == "view mode: 1 byte staged; F8 commits, X discards")
        h.press(.escape)
        #expect(h.message == nil)
    }

    @Test func viewModeNeverStagesOrWrites() {
        let h = Harness()
        for key in "0123456789abcdfABCDEF:hjklwb$ gGnNpsx][WmitSO=>".map({ Key.char($0) })
            + [.tab, .backspace, .enter, .ctrl("u"), .ctrl("d"), .ctrl("f"), .ctrl("b"), .ctrl("s"), .function(8)]
        {
            h.press(key)
            if h.state.mode != .normal { h.press(.escape) }
        }
        h.tick()
        #expect(h.state.staged.isEmpty)
        #expect(h.source.writes.isEmpty)
        #expect(!h.state.editing)
        #expect(h.source.readWriteAttaches == 0, "looking never re-attaches read-write")
        #expect(!h.source.isAttachedReadWrite)
        #expect(h.source.lockAttempts == 0)
    }

    @Test func countsRepeatMotions() {
        let h = Harness()
        h.type("16j")
        #expect(h.state.cursor == 16 * 16)
        #expect(h.state.pendingCount == nil)
        h.type("3l")
        #expect(h.state.cursor == 16 * 16 + 3)
        h.type("10h")
        #expect(h.state.cursor == 16 * 16 - 7)
        h.type("2k")
        #expect(h.state.cursor == 14 * 16 - 7)
        h.type("3w")
        #expect(h.state.cursor == 14 * 16 - 8 + 12)
        // `0` continues a count and otherwise goes to the row start.
        h.type("0")
        #expect(h.state.cursor == 14 * 16)
        h.type("10")
        #expect(h.state.pendingCount == 10)
        h.press(.down)
        #expect(h.state.cursor == 24 * 16)
        // A count survives the clock and refreshes, and is dropped by any other key.
        h.type("5")
        h.tick()
        #expect(h.state.pendingCount == 5)
        h.press(.escape)
        #expect(h.state.pendingCount == nil)
        h.type("j")
        #expect(h.state.cursor == 25 * 16)
    }

    @Test func rowStartEndAndValueSteps() {
        let h = Harness()
        h.press(.down, .right, .right, .right, .right, .right)
        h.type("$")
        #expect(h.state.cursor == 31)
        h.type("0")
        #expect(h.state.cursor == 16)
        h.type("w")
        #expect(h.state.cursor == 20)
        h.press(.right)
        h.type("w")
        #expect(h.state.cursor == 24)
        h.press(.right)
        h.type("b")
        #expect(h.state.cursor == 24, "b from inside a value goes to its start")
        h.type("b")
        #expect(h.state.cursor == 20)
        h.type("2b")
        #expect(h.state.cursor == 12)
        h.type("g")
        h.type("b")
        #expect(h.state.cursor == 0)
    }

    @Test func valueStepsFollowFieldsWhenTheLayoutIsShown() throws {
        let layout = try StructLayout.parse("counter u32 @0\nvalue f64 @8\nname char[16] @24\n")
        let h = Harness(layout: .given(layout))
        h.type("w")
        #expect(h.state.cursor == 4, "without the layout pane: 4-byte values")
        h.type("g")
        h.press(.char("t"))
        h.type("w")
        #expect(h.state.cursor == 8)
        h.type("w")
        #expect(h.state.cursor == 24)
        h.type("w")
        #expect(h.state.cursor == 24)
        h.type("2b")
        #expect(h.state.cursor == 0)
    }

    @Test func valueStepsVisitEachArrayElementWhenTheLayoutIsShown() throws {
        let layout = try StructLayout.parse("counter u32 @0\ntemps u16[3] @8\nname char[16] @20\n")
        let h = Harness(layout: .given(layout))
        h.press(.char("t"))
        var visited: [Int] = []
        for _ in 0..<6 {
            h.type("w")
            visited.append(h.state.cursor)
        }
        #expect(visited == [8, 10, 12, 20, 20, 20])
        h.type("b")
        #expect(h.state.cursor == 12)
        h.press(.left)
        h.type("b")
        #expect(h.state.cursor == 10, "from inside temps[1] back to its start")
        h.type("3b")
        #expect(h.state.cursor == 0)
    }

    @Test func pagesAndHalfPages() {
        let h = Harness()
        h.type(" ")
        #expect(h.state.cursor == 21 * 16)
        h.press(.ctrl("b"))
        #expect(h.state.cursor == 0)
        h.press(.ctrl("f"))
        #expect(h.state.cursor == 21 * 16)
        h.press(.ctrl("u"))
        #expect(h.state.cursor == 11 * 16)
        h.press(.ctrl("d"))
        #expect(h.state.cursor == 21 * 16)
        h.type("2")
        h.press(.ctrl("d"))
        #expect(h.state.cursor == 41 * 16)
    }

    @Test func gotoAcceptsDecimalHexRelativeAndExpressions() {
        let h = Harness()
        h.press(.char(":"))
        #expect(h.state.mode == .prompt(Prompt(kind: .command)))
        h.type("0x40")
        h.press(.enter)
        #expect(h.state.cursor == 64)
        h.press(.ctrl("g"))
        #expect(h.state.mode == .prompt(Prompt(kind: .goto)))
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
        h.press(.char(":"))
        h.type("0x40+8")
        h.press(.enter)
        #expect(h.state.cursor == 72)
        h.press(.char(":"))
        h.type("$")
        h.press(.enter)
        #expect(h.state.cursor == 1023)
        h.press(.char(":"))
        h.type("$-15")
        h.press(.enter)
        #expect(h.state.cursor == 1008)
        h.press(.char(":"))
        h.type("1K-1")
        h.press(.enter)
        #expect(h.state.cursor == 1023)
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
        #expect(h.state.mode == .prompt(Prompt(kind: .command, text: "1")))
        h.press(.escape)
        #expect(h.state.mode == .normal)
        #expect(h.state.cursor == 0)
    }

    @Test func commandLineQuitAndWrite() {
        let h = Harness()
        h.press(.char(":"))
        h.type("w")
        h.press(.enter)
        #expect(h.message == "nothing staged: e enters edit mode, then type hex digits or text")
        h.edit()
        h.type("41")
        h.press(.escape, .char(":"))
        h.type("q")
        h.press(.enter)
        #expect(h.state.mode == .confirmQuit, ":q with staged bytes asks")
        h.press(.char("n"), .char(":"))
        h.type("w")
        h.press(.enter)
        guard case .commitDialog = h.state.mode else {
            Issue.record(":w opens the commit dialog, got \(h.state.mode)")
            return
        }
        h.press(.escape)
        #expect(h.state.staged == [0: 0x41])
        h.press(.char(":"))
        h.type("q!")
        h.press(.enter)
        #expect(h.session.isFinished)
        #expect(h.source.writes.isEmpty)
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
        #expect(h.message == "found hello at 0x00000064 (wrapped past the end to the start)")
        h.press(.char("N"))
        #expect(h.state.cursor == 600)
        h.press(.function(6))
        h.type("x de ad")
        h.press(.enter)
        #expect(h.state.cursor == 300)
        #expect(h.message == "found x de ad at 0x0000012c (wrapped past the end to the start)")
        h.press(.char("/"))
        h.type("nope")
        h.press(.enter)
        #expect(h.state.cursor == 300)
        #expect(h.message == "not found: nope")
        #expect(h.state.message?.isError == true)
    }

    @Test func questionMarkSearchesBackward() {
        var bytes = [UInt8](repeating: 0, count: 1024)
        bytes.replaceSubrange(100..<105, with: Array("hello".utf8))
        bytes.replaceSubrange(600..<605, with: Array("hello".utf8))
        let h = Harness(bytes: bytes)
        h.press(.char(":"))
        h.type("700")
        h.press(.enter)
        h.press(.char("?"))
        #expect(h.state.mode == .prompt(Prompt(kind: .searchBackward)))
        h.type("hello")
        h.press(.enter)
        #expect(h.state.cursor == 600)
        // `n` repeats the direction of the last search, `N` reverses it.
        h.press(.char("n"))
        #expect(h.state.cursor == 100)
        h.press(.char("N"))
        #expect(h.state.cursor == 600)
        h.press(.char("n"), .char("n"))
        #expect(h.state.cursor == 600)
        #expect(h.message == "found hello at 0x00000258 (wrapped past the start to the end)")
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

    @Test func editModeReattachesReadWriteOnce() {
        let h = Harness()
        #expect(!h.state.attachedReadWrite)
        #expect(h.session.render().line(0).contains(" VIEW │ "))
        h.press(.insert)
        #expect(h.source.readWriteAttaches == 1)
        #expect(h.source.isAttachedReadWrite)
        #expect(h.state.attachedReadWrite)
        #expect(h.state.editing)
        #expect(h.message == "EDIT: hex digits stage bytes; Backspace undoes; F8 commits; Esc leaves")
        #expect(h.session.render().line(0).contains(" EDIT │ "))
        h.press(.escape)
        h.edit()
        #expect(h.source.readWriteAttaches == 1, "attached read-write once")
        h.press(.insert)
        #expect(h.message == "already in edit mode: Esc leaves it")
    }

    @Test func lockReattachesReadWriteFirst() {
        let h = Harness()
        h.press(.char("L"))
        #expect(h.source.readWriteAttaches == 1)
        #expect(h.source.lockedByUs)
        #expect(h.state.lock == .lockedByUs)
        #expect(!h.state.editing, "L locks, it does not enter edit mode")
    }

    @Test func aFailedReattachSaysWhyAndStaysInViewMode() {
        let h = Harness()
        h.source.attachFailure = "permission denied"
        h.edit()
        #expect(!h.state.editing)
        #expect(h.message == "cannot attach read-write: permission denied")
        h.press(.char("L"))
        #expect(h.state.lockWait == nil)
        #expect(h.source.lockAttempts == 0)
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
        #expect(h.message == "locked: peers that take this lock wait until you press U")
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

    @Test func hexDigitsStageNibblesAndBackspaceUndoes() {
        let h = Harness()
        h.edit()
        h.type("4")
        #expect(h.state.staged == [0: 0x40])
        #expect(h.state.cursor == 0)
        h.type("1")
        #expect(h.state.staged == [0: 0x41])
        #expect(h.state.cursor == 1)
        h.type("fF")
        #expect(h.state.staged == [0: 0x41, 1: 0xff])
        #expect(h.source.bytes[0] == 0)
        h.press(.backspace)
        #expect(h.state.staged == [0: 0x41])
        #expect(h.state.cursor == 1)
        h.type("a")
        h.press(.backspace)
        #expect(h.state.staged == [0: 0x41])
        // In edit mode `u` is not an undo of staged bytes (that is Backspace): it says so.
        h.type("u")
        #expect(h.message == "u undoes the last commit in view mode: Esc first (Backspace undoes a staged byte)")
        h.press(.backspace, .backspace)
        #expect(h.message == "nothing to undo")
    }

    @Test func discardAsksFirst() {
        let h = Harness()
        h.type("X")
        #expect(h.message == "nothing staged")
        h.edit()
        h.type("1122")
        h.press(.escape)
        h.type("X")
        #expect(h.state.mode == .confirmDiscard)
        #expect(h.session.render().line(22) == "Discard 2 staged bytes? (y/n)")
        h.type("n")
        #expect(h.state.staged.count == 2)
        h.type("X")
        h.type("y")
        #expect(h.state.staged.isEmpty)
        #expect(h.message == "dropped 2 staged bytes")
        #expect(h.source.writes.isEmpty)
    }

    @Test func undoRestoresAnEarlierStagedValue() {
        let h = Harness()
        h.edit()
        h.type("11")
        h.press(.left)
        h.type("22")
        #expect(h.state.staged == [0: 0x22])
        h.press(.backspace)
        #expect(h.state.staged == [0: 0x11])
    }

    @Test func commitDialogSaysWhatItWillDoThenWritesUnderTheLock() {
        let who = ClosureWho {
            WhoInfo(
                attached: [AttachedProcess(pid: 4242, command: "qtpeer", uid: 0, access: .readWrite)], lock: nil)
        }
        let h = Harness(who: who)
        h.edit()
        h.press(.tab)
        h.type("hiw")
        #expect(h.state.staged == [0: 0x68, 1: 0x69, 2: 0x77])
        h.press(.right, .right)
        h.type("!")
        h.press(.ctrl("s"))
        guard case .commitDialog(let plan) = h.state.mode else {
            Issue.record("Ctrl-S opens the commit dialog")
            return
        }
        #expect(plan.runs == [WriteRun(offset: 0, bytes: Array("hiw".utf8)), WriteRun(offset: 5, bytes: [0x21])])
        #expect(plan.lock == "fake-semaphore qt:demo")
        #expect(h.source.writes.isEmpty, "the dialog writes nothing")
        let screen = h.session.render().lines.joined(separator: "\n")
        #expect(screen.contains("Write 4 bytes in 2 runs:"))
        #expect(screen.contains("0x00000000 3 bytes: 68 69 77"))
        #expect(screen.contains("0x00000005 1 byte: 21"))
        #expect(screen.contains("Lock: fake-semaphore qt:demo"))
        #expect(screen.contains("pid 4242 qtpeer (rw)"))
        #expect(screen.contains("y writes under the lock   Esc/n cancels"))
        h.type("!")
        #expect(h.message == "this segment has a lock: y writes under it")
        #expect(h.source.writes.isEmpty)
        h.type("y")
        #expect(Array(h.source.bytes[0..<3]) == Array("hiw".utf8))
        #expect(h.source.bytes[5] == 0x21)
        #expect(h.source.writes.count == 2)
        #expect(h.source.lockAttempts == 1)
        #expect(!h.source.lockedByUs)
        #expect(h.state.staged.isEmpty)
        #expect(h.message == "wrote 4 bytes; u (view mode) undoes")
    }

    @Test func escOrNCancelsTheDialogAndKeepsTheBytes() {
        let h = Harness()
        h.edit()
        h.type("ab")
        h.press(.function(8))
        h.press(.escape)
        #expect(h.state.mode == .normal)
        #expect(h.message == "commit cancelled: 1 byte still staged")
        h.press(.function(8))
        h.type("n")
        #expect(h.state.mode == .normal)
        #expect(h.state.staged == [0: 0xab])
        #expect(h.source.writes.isEmpty)
    }

    @Test func commitWaitsWhileAnotherProcessHoldsTheLock() {
        let h = Harness()
        h.source.holderPID = 99
        h.edit()
        h.type("ab")
        h.commit()
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
        h.edit()
        h.type("12")
        h.commit()
        #expect(h.source.bytes[0] == 0x12)
        #expect(h.source.lockedByUs)
        #expect(h.state.lock == .lockedByUs)
        h.press(.function(8))
        #expect(h.message == "nothing staged: e enters edit mode, then type hex digits or text")
    }

    @Test func withoutALockTheDialogNeedsBang() {
        let h = Harness(hasLock: false)
        #expect(h.state.lock == .none)
        h.press(.char("L"))
        #expect(h.message == "this segment has no lock shmscope can take")
        h.edit()
        h.type("ff")
        h.press(.function(8))
        let screen = h.session.render().lines.joined(separator: "\n")
        #expect(screen.contains("Lock: none (no lock shmscope can take)"))
        #expect(screen.contains("! writes WITHOUT a lock   Esc/n cancels"))
        #expect(screen.contains("Attached: unknown (in-memory test source)"))
        h.type("y")
        #expect(h.message == "no lock: ! writes without a lock, Esc cancels")
        #expect(h.source.writes.isEmpty)
        h.type("!")
        #expect(h.source.bytes[0] == 0xff)
        #expect(h.state.lastCommit?.underLock == false)
    }

    @Test func undoLastCommitWritesTheOldBytesBackUnderTheLock() {
        var bytes = [UInt8](repeating: 0, count: 1024)
        bytes[0] = 0x11
        bytes[1] = 0x22
        let h = Harness(bytes: bytes)
        h.type("u")
        #expect(h.message == "no commit to undo")
        h.edit()
        h.type("aabb")
        h.commit()
        #expect(Array(h.source.bytes[0..<2]) == [0xaa, 0xbb])
        #expect(
            h.state.lastCommit
                == CommitRecord(
                    written: [WriteRun(offset: 0, bytes: [0xaa, 0xbb])],
                    previous: [WriteRun(offset: 0, bytes: [0x11, 0x22])],
                    underLock: true))
        h.press(.escape)
        let attempts = h.source.lockAttempts
        h.type("u")
        #expect(Array(h.source.bytes[0..<2]) == [0x11, 0x22])
        #expect(h.source.lockAttempts == attempts + 1, "under the same lock")
        #expect(!h.source.lockedByUs)
        #expect(h.message == "undid the last commit: wrote back 2 bytes")
        h.type("u")
        #expect(h.message == "no commit to undo")
    }

    @Test func undoLastCommitRefusesWhenThePeerWroteSince() {
        let h = Harness()
        h.edit()
        h.type("aabb")
        h.commit()
        h.press(.escape)
        h.source.bytes[1] = 0x99
        h.type("u")
        #expect(Array(h.source.bytes[0..<2]) == [0xaa, 0x99], "the peer's newer byte is kept")
        #expect(h.message == "not undone: the segment changed at 0x00000000 since the commit; nothing written")
        #expect(h.state.message?.isError == true)
        #expect(!h.source.lockedByUs)
    }

    @Test func aRemovedSegmentIsNotWrittenAndTheBytesCanBeSaved() throws {
        let h = Harness()
        h.edit()
        h.type("4142")
        h.source.pendingEvent = .removed
        h.tick()
        #expect(h.state.removed)
        h.press(.function(8))
        #expect(h.state.mode == .prompt(Prompt(kind: .saveStaged)))
        #expect(h.message == "segment removed by another process: not written; save the staged bytes to a file (Esc keeps them)")
        #expect(h.source.writes.isEmpty)
        let path = "/tmp/shmscope-staged-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).snap"
        defer { unlink(path) }
        h.type(path)
        h.press(.enter)
        #expect(h.message == "staged bytes saved as a snapshot to \(path) (O loads it); still staged")
        let saved = try Snapshot.read(fromFile: path)
        #expect(Array(saved.bytes[0..<3]) == [0x41, 0x42, 0x00])
        #expect(h.state.staged == [0: 0x41, 1: 0x42])
        // Never lost silently: quitting asks.
        h.press(.escape, .char("q"))
        #expect(h.state.mode == .confirmQuit)
        // And `e` on a removed segment is refused.
        h.press(.char("n"), .char("e"))
        #expect(!h.state.editing)
        #expect(h.message == "segment removed by another process: edits could never be written")
    }

    @Test func readOnlyRefusesEditModeLockAndCommit() {
        let h = Harness(readOnly: true)
        h.edit()
        #expect(!h.state.editing)
        #expect(h.message == "attached read-only (--read-only, watch): no edit mode; use open to edit")
        #expect(h.state.message?.isError == true)
        h.press(.insert)
        #expect(!h.state.editing)
        h.press(.char("L"))
        #expect(h.message == "attached read-only (--read-only, watch): locking is for editing; use open")
        #expect(h.source.lockAttempts == 0)
        h.press(.function(8))
        #expect(h.message == "attached read-only: nothing can be written")
        h.press(.tab)
        h.type("4x")
        #expect(h.state.staged.isEmpty)
        #expect(h.source.writes.isEmpty)
        #expect(h.source.readWriteAttaches == 0)
        #expect(h.session.render().line(0).contains(" RO │ "))
    }

    @Test func quitAsksWhenEditsAreStaged() {
        let h = Harness()
        h.edit()
        h.type("1")
        h.press(.escape, .char("q"))
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
        h.press(.function(1))
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
        #expect(!h.state.editing, "a click never enters edit mode")
        h.type("j")
        #expect(h.state.cursor == 21)
        #expect(h.state.staged.isEmpty)
        h.press(.click(x: 0, y: 1))
        #expect(h.state.cursor == 21)
        h.press(.wheelDown)
        #expect(h.state.top == 48)
        #expect(h.state.cursor == 53)
        #expect(h.state.frame.offset == 48)
        h.press(.wheelUp, .wheelUp)
        #expect(h.state.top == 0)
        #expect(h.source.readWriteAttaches == 0)
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
        #expect(try parseGoto("0x40+8", cursor: 5) == 72)
        #expect(try parseGoto("$", cursor: 5, size: 100) == 99)
        #expect(try parseGoto("$-9", cursor: 5, size: 100) == 90)
        #expect(try parseGoto("4K - 1K", cursor: 5) == 3072)
        #expect(try parseGoto("-10", cursor: 5) == -5, "clamping is the reducer's job")
        #expect(try parseGoto("+0x7fffffffffffffff", cursor: 5) == Int.max)
        #expect(throws: NumberSyntaxError("nothing is not an offset (e.g. 4096, 0x1000, 4K)")) {
            try parseGoto("", cursor: 5)
        }
        #expect(throws: NumberSyntaxError("nothing is not an offset (e.g. 4096, 0x1000, 4K)")) {
            try parseGoto("+", cursor: 5)
        }
        #expect(throws: NumberSyntaxError("nothing is not an offset (e.g. 4096, 0x1000, 4K)")) {
            try parseGoto("0x40+", cursor: 5)
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

/// `]` `[` by run, the diff pane, and search in any case (issue 13, item 5).
@Suite struct DiffRunAndSearchTests {
    typealias Harness = HexKeyBindingTests.Harness

    /// Three runs: 10..<14, 100..<101, 500..<508.
    func changed(_ h: Harness) {
        h.press(.char("s"))
        for i in 10..<14 { h.source.bytes[i] = 0xaa }
        h.source.bytes[100] = 1
        for i in 500..<508 { h.source.bytes[i] = UInt8(i & 0xff) }
        h.tick()
    }

    @Test func bracketsJumpByRunNotByte() {
        let h = Harness()
        changed(h)
        h.press(.char("]"))
        #expect(h.state.cursor == 10)
        #expect(h.message == "diff run 1/3 at 0x0000000a, 4 bytes")
        // The next run, not the next byte of this one.
        h.press(.char("]"))
        #expect(h.state.cursor == 100)
        #expect(h.message == "diff run 2/3 at 0x00000064, 1 byte")
        h.press(.char("]"))
        #expect(h.state.cursor == 500)
        h.press(.char("]"))
        #expect(h.state.cursor == 10)
        #expect(h.message == "diff run 1/3 at 0x0000000a, 4 bytes (wrapped to the start)")
        h.press(.char("["))
        #expect(h.state.cursor == 500)
        #expect(h.message == "diff run 3/3 at 0x000001f4, 8 bytes (wrapped to the end)")
        // Inside a run, `[` goes to its start first (as vim's [c), then to the run before.
        h.press(.char("l"), .char("l"), .char("l"))
        #expect(h.state.cursor == 503)
        h.press(.char("["))
        #expect(h.state.cursor == 500)
        h.press(.char("["))
        #expect(h.state.cursor == 100)
    }

    @Test func nextDiffRunIsPure() {
        let runs = [DiffRun(offset: 4, length: 2, old: [0, 0], new: [1, 1]), DiffRun(offset: 9, length: 1, old: [0], new: [2])]
        #expect(nextDiffRun(runs, from: 0, forward: true)! == (0, false))
        #expect(nextDiffRun(runs, from: 4, forward: true)! == (1, false))
        #expect(nextDiffRun(runs, from: 5, forward: true)! == (1, false))
        #expect(nextDiffRun(runs, from: 9, forward: true)! == (0, true))
        #expect(nextDiffRun(runs, from: 9, forward: false)! == (0, false))
        #expect(nextDiffRun(runs, from: 4, forward: false)! == (1, true))
        #expect(nextDiffRun([], from: 0, forward: true) == nil)
    }

    @Test func diffPaneListsRunsAndAClickSelectsOne() {
        let h = Harness()
        changed(h)
        h.press(.char("D"))
        #expect(h.state.panel == .diff)
        #expect(h.state.diffRuns.map(\.offset) == [10, 100, 500])
        let screen = renderHexScreen(h.state, theme: Theme(useColor: false))
        let rows = (0..<screen.height).map { screen.line($0) }
        let title = 1 + h.state.visibleRows
        #expect(rows[title].contains(" Diff: 3 runs, 13 bytes differ; ] [ jump, click selects "))
        #expect(rows[title + 1] == " 0x0000000a      4  00 00 00 00 → aa aa aa aa")
        #expect(rows[title + 3].hasPrefix(" 0x000001f4      8  00 00 00 00 00 00 00 00 → f4 f5 f6 f7 f8 f9 fa fb"))
        // The run at or after the cursor is the selected one (reverse video).
        #expect(screen.style(x: 2, y: title + 1) == Theme(useColor: false).selection)
        h.session.dispatch(.click(x: 5, y: title + 3))
        #expect(h.state.cursor == 500)
        #expect(h.message == "diff run 3/3 at 0x000001f4, 8 bytes")
        // The pane follows the segment while open.
        h.source.bytes[700] = 7
        h.tick(0.6)
        #expect(h.state.diffRuns.map(\.offset) == [10, 100, 500, 700])
    }

    @Test func searchInAnyCaseWithBackslashC() throws {
        var bytes = [UInt8](repeating: 0, count: 1024)
        bytes.replaceSubrange(200..<205, with: Array("HeLLo".utf8))
        let h = Harness(bytes: bytes)
        h.press(.char("/"))
        h.type("hello")
        h.press(.enter)
        #expect(h.message == "not found: hello")
        h.press(.char("/"))
        h.type("hello\\c")
        h.press(.enter)
        #expect(h.state.cursor == 200)
        #expect(h.message == "found hello (any case) at 0x000000c8")
        // \C forces the exact case again.
        #expect(try SearchQuery.parse("\\Chello")?.ignoreCase == false)
        #expect(try SearchQuery.parse("he\\cllo") == SearchQuery(bytes: Array("hello".utf8), display: "hello (any case)", ignoreCase: true))
        #expect(findBytes(asciiLowercased(Array("HELLO".utf8)), size: 1024, from: 0, forward: true, chunkSize: 64) {
            asciiLowercased(Array(bytes[$0..<min(1024, $0 + $1)]))
        }! == (200, false))
    }

    @Test func backwardSearchAndNRespectDirection() {
        var bytes = [UInt8](repeating: 0, count: 1024)
        for at in [100, 400, 800] { bytes.replaceSubrange(at..<(at + 3), with: Array("abc".utf8)) }
        let h = Harness(bytes: bytes)
        h.press(.char(":"))
        h.type("500")
        h.press(.enter)
        h.press(.char("?"))
        h.type("abc")
        h.press(.enter)
        #expect(h.state.cursor == 400)
        #expect(h.message == "found abc at 0x00000190")
        h.press(.char("n"))
        #expect(h.state.cursor == 100)
        h.press(.char("n"))
        #expect(h.state.cursor == 800)
        #expect(h.message == "found abc at 0x00000320 (wrapped past the start to the end)")
        h.press(.char("N"))
        #expect(h.state.cursor == 100)
        #expect(h.message == "found abc at 0x00000064 (wrapped past the end to the start)")
    }
}
