import Glibc
import ShmTestSupport
import Testing

@testable import ShmCore
@testable import ShmTUI

/// Breakpoints (`B`, `R`, the Breakpoints pane) and a replay's timeline (`.` `,` `T` `p`) in the shared hex view:
/// keys through the key map, reducer and session, and the screen they draw.
@Suite struct DebuggingViewTests {
    /// An 8-byte recording: a keyframe at 100.0, changes at 101, 102, 103 (byte 0 becomes 1, 2, then bytes 4..<8).
    static func player() throws -> RecordingPlayer {
        let recording = Recording(entries: [
            .header(target: "qt:demo", kind: "Qt SysV", time: 100, intervalMS: 20),
            .who(time: 100, RecordedWho(attached: [.init(pid: 4242, command: "qtpeer")], lastPID: 4242, lock: "free")),
            .keyframe(time: 100, bytes: [0, 0, 0, 0, 0, 0, 0, 0]),
            .change(time: 101, offset: 0, new: [1], oldKnown: true),
            .change(time: 102, offset: 0, new: [2], oldKnown: true),
            .change(time: 103, offset: 4, new: [0xde, 0xad, 0xbe, 0xef], oldKnown: true),
            .end(time: 104, reason: "signal"),
        ])
        return try RecordingPlayer(recording)
    }

    static func replaySession(layout: StructLayout? = nil) throws -> HexSession {
        let composer = HexViewComposer.live(
            theme: Theme(useColor: false), settings: HexViewSettings(intervalMS: 20),
            layout: layout.map { .given($0) } ?? .none, context: TargetContext())
        return composer.session(replaying: try player(), width: 80, height: 24, now: 10)
    }

    /// Erases a prompt's prefilled text (one Backspace more would close it).
    func clearPrompt(_ session: HexSession) {
        guard case .prompt(let p) = session.state.mode else { return }
        for _ in 0..<p.text.count { session.send(.backspace, now: 10) }
    }

    static func text(_ session: HexSession) -> [String] {
        let b = session.render()
        return (0..<b.height).map { b.line($0) }
    }

    @Test func stepsAndSeeksLandOnTheRecordedStates() throws {
        let session = try Self.replaySession()
        var now = 10.0
        func press(_ keys: Key...) {
            for k in keys {
                session.send(k, now: now)
                now += 0.05
                session.tick(now: now)
            }
        }
        #expect(session.state.frame.bytes.prefix(8) == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(Self.text(session)[0].contains("RO │ REPLAY +0.000s 00:01:40.000 change 0/3"))
        #expect(Self.text(session)[23].hasPrefix("F1Help .Next ,Prev TSeek pPlay PSpeed BBreak WWho"))
        press(.char("."))
        #expect(session.state.frame.bytes.prefix(8) == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(Self.text(session)[0].contains("REPLAY +1.000s 00:01:41.000 change 1/3"))
        press(.char("2"), .char("."))
        #expect(session.state.frame.bytes.prefix(8) == [2, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef])
        #expect(session.state.debug.timeline?.change == 3)
        press(.char("."))
        #expect(session.state.message?.text == "no later change: at the end of the recording")
        press(.char(","))
        #expect(session.state.frame.bytes.prefix(8) == [2, 0, 0, 0, 0, 0, 0, 0])
        press(.char(","), .char(","))
        #expect(session.state.frame.bytes.prefix(8) == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(session.state.debug.timeline?.change == 0)
        // The highlight of a change shows as live: byte 0 changed with the last step.
        press(.char("T"))
        for ch in "+1.5s" { session.send(.char(ch), now: now) }
        #expect(Self.text(session)[22].hasPrefix("Seek to (+12.5s from the start"))
        press(.enter)
        #expect(session.state.frame.bytes.prefix(8) == [1, 0, 0, 0, 0, 0, 0, 0])
        press(.char("T"))
        for ch in "soon" { session.send(.char(ch), now: now) }
        press(.enter)
        #expect(session.state.message?.text.hasPrefix("time: `soon` is not a time") == true)
        // The Who pane shows who was recorded.
        press(.char("W"))
        session.tick(now: now + 2)
        let screen = Self.text(session).joined(separator: "\n")
        #expect(screen.contains("as recorded at 1970-01-01T00:01:41.000Z; lock free; last pid 4242"))
        #expect(screen.contains("pid 4242 qtpeer uid 0 (root) rw"))
    }

    @Test func playAdvancesWithTheClockAndStopsAtTheEnd() throws {
        let session = try Self.replaySession()
        session.send(.char("p"), now: 10)
        #expect(session.state.debug.playing == 1)
        session.tick(now: 10)
        session.tick(now: 11.5)
        #expect(session.state.debug.timeline?.change == 1)
        session.tick(now: 13.2)
        #expect(session.state.debug.timeline?.change == 3)
        #expect(session.state.debug.playing == nil)
        #expect(session.state.message?.text == "end of the recording")
        // P sets the speed: 4x from the start again.
        session.send(.char("g"), now: 14)
        session.send(.char("P"), now: 14)
        session.send(.char("4"), now: 14)
        session.send(.enter, now: 14)
        #expect(session.state.debug.playing == 4)
        session.tick(now: 14)
        session.tick(now: 14.3)
        #expect(session.state.debug.timeline?.change == 1, "0.3 s at 4x is 1.2 s of the recording")
        #expect(Self.text(session)[0].contains("▶ 4x"))
    }

    @Test func aBreakpointOnARecordingJumpsToWhereItHolds() throws {
        let layout = try StructLayout.parse("state u8 @0\ntail u32be @4")
        let session = try Self.replaySession(layout: layout)
        session.send(.char("B"), now: 10)
        guard case .prompt(let p) = session.state.mode else {
            Issue.record("no prompt")
            return
        }
        #expect(p.text == "changed(state)")
        #expect(p.kind == .breakpoint(freeze: false))
        clearPrompt(session)
        for ch in "tail == 0xdeadbeef" { session.send(.char(ch), now: 10) }
        session.send(.enter, now: 10)
        session.tick(now: 10.1)
        #expect(session.state.debug.timeline?.change == 3)
        #expect(session.state.frame.bytes.prefix(8) == [2, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef])
        #expect(session.state.message?.text == "breakpoint 1 hit at 1970-01-01T00:01:43.000Z: tail=3735928559")
        #expect(session.state.cursor == 4, "the cursor is on the field the condition read")
        #expect(session.state.panel == .who)
        let screen = Self.text(session).joined(separator: "\n")
        #expect(screen.contains("breakpoint 1 hit 1970-01-01T00:01:43.000Z: tail=3735928559"))
        // A condition that never holds later says so and stays.
        session.send(.char("B"), now: 11)
        clearPrompt(session)
        for ch in "state == 9" { session.send(.char(ch), now: 11) }
        session.send(.enter, now: 11)
        #expect(
            session.state.message?.text == "breakpoint 2: state == 9 does not hold after this point of the recording")
        #expect(session.state.debug.timeline?.change == 3)
    }

    final class Live {
        let source = MemorySource(bytes: Array(repeating: 0, count: 256))
        let session: HexSession
        var now = 10.0

        init() {
            session = HexSession(
                source: source, who: NoWho(reason: "test"), timeline: LiveTimeline(), layout: .none,
                settings: HexViewSettings(intervalMS: 20), theme: Theme(useColor: false), width: 80, height: 24,
                now: now)
        }

        func press(_ keys: Key...) { for k in keys { session.send(k, now: now) } }
        func type(_ text: String) { for ch in text { session.send(.char(ch), now: now) } }
        func tick() {
            now += 0.05
            session.tick(now: now)
        }
    }

    @Test func aLiveHitPausesRingsHighlightsAndIsListed() {
        let live = Live()
        live.press(.char("l"), .char("l"))
        live.press(.char("B"))
        guard case .prompt(let p) = live.session.state.mode else {
            Issue.record("no prompt")
            return
        }
        #expect(p.text == "changed(u8@0x2)")
        clearPrompt(live.session)
        live.type("changed(u16@0x2)")
        live.press(.enter)
        #expect(live.session.state.message?.text == "breakpoint 1 set: changed(u16@0x2)")
        live.tick()
        live.tick()
        #expect(!live.session.state.paused)
        live.source.bytes[2] = 0x41
        live.tick()
        #expect(live.session.state.paused)
        #expect(live.session.state.message?.text.hasPrefix("breakpoint 1 hit at ") == true)
        #expect(live.session.state.message?.text.hasSuffix(": u16@0x2=65") == true)
        #expect(live.session.state.debug.hitCovers(2) && live.session.state.debug.hitCovers(3))
        let frame = live.session.render()
        #expect(frame.bell, "a hit rings the bell once")
        #expect(!live.session.render().bell)
        #expect(frame[HexLayout.fitting(width: 80).hexX(3), 1].style == Theme(useColor: false).breakpointHit)
        // Listed in the Breakpoints pane (F7 cycles to it), with its hit count; R removes it.
        for _ in 0..<3 { live.press(.function(7)) }
        #expect(live.session.state.panel == .breakpoints)
        let screen = Self.text(live.session).joined(separator: "\n")
        #expect(screen.contains("Breakpoints (1)"))
        #expect(screen.contains("1  changed(u16@0x2)  1 hit"))
        live.press(.char("R"))
        live.type("1")
        live.press(.enter)
        #expect(live.session.state.debug.breakpoints.isEmpty)
        #expect(live.session.state.message?.text == "removed 1 breakpoint")
        // A condition that does not parse: the error names the column.
        live.press(.char("B"))
        clearPrompt(live.session)
        live.type("u8@2 = 1")
        live.press(.enter)
        #expect(
            live.session.state.message?.text
                == "breakpoint: column 6: `=` is not a comparison: write `==` in `u8@2 = 1`")
    }

    @Test func aLiveBreakpointStopsWhenItsConditionBecomesTrueNotWhileItStaysTrue() {
        let live = Live()
        live.source.bytes[5] = 1
        live.press(.char("B"))
        clearPrompt(live.session)
        live.type("u8@5 == 1")
        live.press(.enter)
        live.tick()
        live.tick()
        #expect(!live.session.state.paused, "true when set: not a hit until it becomes true again")
        live.source.bytes[5] = 0
        live.tick()
        live.source.bytes[5] = 1
        live.tick()
        #expect(live.session.state.paused)
        #expect(live.session.state.debug.breakpoints.first?.hits == 1)
        live.press(.char("p"))
        live.tick()
        live.tick()
        #expect(!live.session.state.paused, "resuming while it stays true does not stop again")
        live.source.bytes[5] = 2
        live.tick()
        live.source.bytes[5] = 1
        live.tick()
        #expect(live.session.state.paused)
        #expect(live.session.state.debug.breakpoints.first?.hits == 2)
    }

    @Test func tabInThePromptMakesAHitFreezeTheLock() {
        let live = Live()
        live.press(.char("B"), .tab)
        guard case .prompt(let p) = live.session.state.mode else {
            Issue.record("no prompt")
            return
        }
        #expect(p.kind == .breakpoint(freeze: true))
        #expect(Self.text(live.session)[22].hasPrefix("Breakpoint [Tab: FREEZE on hit]"))
        live.press(.enter)
        live.tick()
        live.source.bytes[0] = 1
        live.tick()
        live.tick()
        #expect(live.session.state.lock == .lockedByUs, "the hit took the lock")
        #expect(live.session.state.debug.breakpoints.first?.freeze == true)
    }

    @Test func stepKeysOnALiveViewSayWhatTheyAreFor() {
        let live = Live()
        live.press(.char("."))
        #expect(live.session.state.message?.text == ".: steps through a recording (shmscope replay FILE)")
        #expect(live.source.bytes.count == 256)
    }
}
