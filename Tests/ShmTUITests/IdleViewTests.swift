import ShmCore
import Testing

@testable import ShmTUI

/// An idle view costs next to nothing: the same state reuses its screen, the loop sleeps a whole refresh interval
/// when nothing fades or waits, and a big segment's first frame comes without a blocking baseline pass.
@Suite struct IdleViewTests {
    func session(bytes: Int, now: Double = 10) -> (HexSession, MemorySource) {
        let source = MemorySource(bytes: Array(repeating: 0, count: bytes))
        let session = HexSession(
            source: source, who: NoWho(reason: "in-memory test source"), layout: .none, settings: HexViewSettings(),
            theme: Theme(useColor: true), width: 80, height: 24, now: now)
        return (session, source)
    }

    @Test func anUnchangedStateReusesItsScreen() {
        let (s, _) = session(bytes: 4096)
        let first = s.render()
        let drawn = s.framesDrawn
        for turn in 1...20 {
            s.tick(now: 10 + Double(turn) * 0.1)
            #expect(s.render() == first)
        }
        #expect(s.framesDrawn == drawn, "nothing changed, nothing redrawn")
    }

    @Test func aChangeIsDrawnAndFadesThenTheScreenIsReusedAgain() {
        let (s, source) = session(bytes: 4096)
        _ = s.render()
        source.bytes[3] = 0x41
        s.tick(now: 10.1)
        #expect(s.state.changedAt[3] != nil)
        #expect(s.pollIntervalMS == 50, "a fading highlight wants smooth frames")
        let drawn = s.framesDrawn
        _ = s.render()
        #expect(s.framesDrawn == drawn + 1)
        s.tick(now: 12)
        _ = s.render()
        #expect(s.state.changedAt.isEmpty)
        #expect(s.pollIntervalMS == s.state.intervalMS, "idle: sleep a whole refresh interval")
        let settled = s.framesDrawn
        s.tick(now: 12.1)
        _ = s.render()
        #expect(s.framesDrawn == settled)
    }

    @Test func aBigSegmentShowsItsFirstFrameWithoutAWholePass() {
        let (big, _) = session(bytes: HexSession.eagerBaselineLimit + 4096)
        #expect(big.tracker.scanCount == 0, "no blocking baseline")
        #expect(!big.state.frame.bytes.isEmpty, "the first frame is there")
        let (small, _) = session(bytes: 4096)
        #expect(small.tracker.scanCount == 1, "a small segment gets its baseline at once")
    }

    @Test func perByteCountsAreBuiltOnlyForTheInspector() {
        let (s, source) = session(bytes: 1024)
        source.bytes[7] = 1
        s.tick(now: 10.2)
        #expect(s.state.byteChangeCounts.isEmpty)
        s.send(.char("i"), now: 10.3)
        s.tick(now: 10.4)
        #expect(s.state.byteChangeCounts[7] == 1)
    }
}

/// The status line says how many wait for a lock a peer holds (issue "fits the hands": who and the lock first).
@Suite struct LockWaitersTests {
    @Test func theStatusLineShowsWaiters() {
        let source = MemorySource(bytes: Array(repeating: 0, count: 256))
        source.holderPID = 4242
        source.holderCommand = "qtpeer"
        source.waiters = 2
        let s = HexSession(
            source: source, who: NoWho(reason: "in-memory test source"), layout: .none, settings: HexViewSettings(),
            theme: Theme(useColor: false), width: 100, height: 24, now: 1)
        s.tick(now: 1.2)
        #expect(s.render().line(0).contains("held by pid 4242 (qtpeer), 2 waiting"), "\(s.render().line(0))")
        source.waiters = 0
        s.tick(now: 1.4)
        #expect(s.render().line(0).contains("held by pid 4242 (qtpeer) │"), "\(s.render().line(0))")
    }
}
