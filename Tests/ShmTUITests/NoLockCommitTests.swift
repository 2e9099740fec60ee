import ShmCore
import Testing

@testable import ShmTUI

/// `--no-lock` in the TUI is the same explicit choice as `write --no-lock`: the dialog says the lock is not taken,
/// and `y` writes without it, even where the segment has one.
@Suite struct NoLockCommitTests {
    func session(noLock: Bool, hasLock: Bool) -> (HexSession, MemorySource) {
        let source = MemorySource(bytes: Array(repeating: 0, count: 256), hasLock: hasLock)
        let session = HexSession(
            source: source, who: NoWho(reason: "in-memory test source"), layout: .none,
            settings: HexViewSettings(noLock: noLock), theme: Theme(useColor: false), width: 80, height: 24, now: 1)
        return (session, source)
    }

    func stageAndOpenDialog(_ s: HexSession) {
        s.send(.char("e"), now: 1)
        for ch in "41" { s.send(.char(ch), now: 1) }
        s.send(.function(8), now: 1)
    }

    @Test func noLockWritesWithoutTakingTheLock() throws {
        let (s, source) = session(noLock: true, hasLock: true)
        stageAndOpenDialog(s)
        guard case .commitDialog(let plan) = s.state.mode else {
            Issue.record("no dialog: \(s.state.mode)")
            return
        }
        let lines = commitDialogLines(plan)
        #expect(lines.contains { $0.hasPrefix("Lock: NOT TAKEN (--no-lock)") })
        #expect(lines.last == "y writes WITHOUT the lock (--no-lock)   Esc/n cancels")
        s.send(.char("y"), now: 1)
        #expect(source.bytes[0] == 0x41)
        #expect(source.lockAttempts == 0, "the lock was never asked for")
    }

    @Test func withoutNoLockALocklessSegmentNeedsTheExclamationMark() {
        let (s, source) = session(noLock: false, hasLock: false)
        stageAndOpenDialog(s)
        s.send(.char("y"), now: 1)
        #expect(source.bytes[0] == 0)
        #expect(s.state.message?.text == "no lock: ! writes without a lock, Esc cancels")
        s.send(.char("!"), now: 1)
        #expect(source.bytes[0] == 0x41)
    }
}
