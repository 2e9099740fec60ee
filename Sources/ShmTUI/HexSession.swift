import ShmCore

/// Runs the hex view against a `LiveSource`: feeds keys through the key map and reducer, performs the effects,
/// and reports their results back as actions. All I/O is here; all decisions are in `reduce`.
package final class HexSession: TUIProgram {
    package private(set) var state: HexViewState
    package let source: any LiveSource
    package let theme: Theme
    package private(set) var isFinished = false
    package var wantsFullRedraw = false
    /// How long one lock attempt may block the loop; short, so the UI stays responsive while waiting.
    package var lockPollTimeout: Duration = .milliseconds(20)
    private var lastRefresh = -Double.infinity
    /// The change-following engine `watch --log` uses too: presence, resize, re-creation and the scans for the
    /// activity map and per-byte change counts.
    private let watcher: SegmentWatcher
    package var tracker: ChangeTracker { watcher.tracker }
    private var nextScan = -Double.infinity
    /// Time spent scanning in the current pass (seconds).
    private var passSeconds = 0.0
    /// The last frame rendered and the state it showed (with `now` set aside when nothing on screen depends on
    /// the time), so an idle view does not rebuild the screen on every loop turn.
    private var rendered: (key: HexViewState, buffer: ScreenBuffer)?
    /// Segments up to this size get their baseline scan before the first frame (about a millisecond); bigger ones
    /// are scanned in steps, so their first frame appears at once.
    package static let eagerBaselineLimit = 4 << 20
    /// Screens actually drawn (not reused), for tests of the idle path.
    package private(set) var framesDrawn = 0
    /// Attached processes and lock state for the who pane (slow, so at most once a second).
    private let whoProvider: any WhoProvider
    private var lastWho = -Double.infinity
    /// A replay's timeline, or the live stand-in.
    private let timeline: any SegmentTimeline
    private let breakpoints = BreakpointSet()
    private var playStarted: Double?
    private var pendingBell = false
    private var lastDiffCompare = -Double.infinity
    private var diffCompareSeconds = 0.0

    /// Every dependency is required: a route cannot forget the Who pane or the layout. Build it through
    /// `HexViewComposer`, the one place that knows how a route's options become these values.
    package init(
        source: any LiveSource, who: any WhoProvider, timeline: any SegmentTimeline = LiveTimeline(), layout: ViewLayout,
        settings: HexViewSettings, theme: Theme, width: Int = 80, height: Int = 24, now: Double = 0
    ) {
        self.source = source
        self.theme = theme
        self.whoProvider = who
        self.timeline = timeline
        // Per-byte counts for the inspector, bounded (about 8 MiB at most).
        watcher = SegmentWatcher(segment: source, blockSizing: .scaled, byteCountLimit: 1 << 18)
        var s = HexViewState(
            target: source.targetName, kind: source.kindName, size: source.size, readOnly: source.isReadOnly)
        s.intervalMS = max(10, settings.intervalMS)
        s.fixedBytesPerRow = settings.bytesPerRow
        s.noLock = settings.noLock
        s.width = width
        s.height = height
        s.now = now
        s.lock = source.lockStatus()
        s.attachedReadWrite = source.isAttachedReadWrite
        s.structLayout = layout.structLayout
        s.debug.timeline = timeline.status
        state = s
        refresh(now: now)
        if source.size <= Self.eagerBaselineLimit {
            // The baseline in one go, so the first changes are measured against the segment as we found it.
            watcher.scanPass(now: now)
            publishActivity()
        }
        nextScan = now
    }

    /// The loop sleeps until the next refresh when nothing needs it sooner: a lock being waited for, a highlight
    /// fading, or a whole-segment scan in progress for a pane that shows it.
    package var pollIntervalMS: Int {
        let busy = state.lockWait != nil || !state.changedAt.isEmpty || (scanDemanded && passSeconds > 0)
        return busy ? min(state.intervalMS, 50) : state.intervalMS
    }

    /// Whether something on screen needs whole-segment scans at full pace: the activity map, the inspector's change
    /// counts. Otherwise scans run in the background within a small CPU budget, so the map and counts are ready
    /// when asked for, and an idle view of a big segment costs next to nothing.
    private var scanDemanded: Bool { state.panel == .activity || state.panel == .inspector }

    /// Share of a core that background scanning may use (0.1%: a 1 GiB pass every few minutes), and the slice of
    /// one loop turn it takes.
    package static let backgroundBudget = 0.001
    private var scanSlice: Duration { scanDemanded ? .milliseconds(10) : .milliseconds(2) }

    package func send(_ key: Key, now: Double) {
        dispatch(.tick(now: now))
        if let action = hexAction(for: key, in: state) { dispatch(action) }
    }

    /// The prompts' history a previous view left (the browser hands it from one view to the next).
    package func adoptHistory(_ history: PromptHistory) { state.history = history }

    package func dispatch(_ action: HexAction) {
        for effect in reduce(&state, action) { perform(effect) }
    }

    package func tick(now: Double) {
        dispatch(.tick(now: now))
        if state.lockWait != nil { attemptLock() }
        // A millisecond of slack so a loop woken exactly one interval later does refresh.
        if now - lastRefresh >= Double(state.intervalMS) / 1000 - 0.001 {
            let events = watcher.followPresence()
            for event in events { dispatch(.segmentEvent(event)) }
            if !events.isEmpty { publishActivity() }
            if !state.paused {
                refresh(now: now)
                checkBreakpoints()
            }
            lastRefresh = now
            if state.lockWait == nil { dispatch(.lockStatus(source.lockStatus())) }
        }
        if scanDemanded && nextScan > now + Double(state.intervalMS) / 1000 {
            // A pane that shows scan results just opened: do not wait out the background pause.
            nextScan = now
        }
        if now >= nextScan { scanActivity(now: now) }
        if let speed = state.debug.playing { advancePlayback(now: now, speed: speed) }
        // The diff pane follows the segment: compared again at most twice a second while it is open, and a big
        // segment no more than a fifth of the time (a compare reads the whole segment).
        if state.panel == .diff, state.snapshot != nil, !state.paused,
            now - lastDiffCompare >= max(0.5, diffCompareSeconds * 5)
        {
            compareWithSnapshot(jump: nil, now: now)
        }
        if state.panel == .who, state.who == nil || now - lastWho >= 1 {
            dispatch(.who(whoProvider.who()))
            lastWho = now
        }
    }

    /// Scans on for about 10 ms per loop turn while a pane shows the results (2 ms otherwise), so the keys stay
    /// live even on a 1 GiB segment; a whole pass then takes several turns. After a pass it pauses at least one
    /// refresh interval and 1.5 times the pass's scanning time when demanded, which keeps scanning under 40% of a
    /// core; in the background it pauses long enough to stay within `backgroundBudget`.
    private func scanActivity(now: Double) {
        let started = ContinuousClock.now
        var found = false
        var complete = false
        let slice = scanSlice
        while !complete && ContinuousClock.now - started < slice {
            do {
                complete = try watcher.scanStep(now: now, maxBytes: ChangeTracker.chunkSize) { _ in found = true }
            } catch {
                // The segment shrank under us or went away; try again a little later.
                nextScan = now + Double(state.intervalMS) / 1000
                return
            }
        }
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        passSeconds += Double(seconds) + Double(attoseconds) / 1e18
        if complete {
            let factor = scanDemanded ? 1.5 : 1 / Self.backgroundBudget - 1
            nextScan = now + max(Double(state.intervalMS) / 1000, passSeconds * factor)
            passSeconds = 0
        } else if !scanDemanded {
            // Spread a background pass too: one slice per ~`1/budget` slices of wall time.
            nextScan = now + (Double(slice.components.attoseconds) / 1e18) / Self.backgroundBudget
        }
        if found || complete { publishActivity() }
    }

    private func publishActivity() {
        let rows = activityCellRows(
            panelRows: state.panel == .activity ? state.panelRows : Panel.activity.wantedRows(fields: 0))
        let columns = ActivityGeometry(width: state.width, size: state.size).columns
        let summary = ActivitySummary(tracker: tracker, cells: columns * rows)
        dispatch(.activity(summary, byteCounts: byteCounts()))
    }

    /// Per-byte change counts for the bytes in the frame (the window), for the inspector; nothing is built while the
    /// inspector is closed.
    private func byteCounts() -> [Int: UInt32] {
        guard state.panel == .inspector else { return [:] }
        var counts: [Int: UInt32] = [:]
        for offset in state.frame.offset..<(state.frame.offset + state.frame.bytes.count) {
            let n = tracker.changes(atByte: offset)
            if n > 0 { counts[offset] = n }
        }
        return counts
    }

    /// The screen for the current state; the same state draws the same screen, so an idle turn reuses it.
    package func render() -> ScreenBuffer {
        var key = state
        // Fading highlights and the activity map's and layout table's ages are all that depends on the clock.
        let timeShown = !state.changedAt.isEmpty || state.panel == .activity || state.panel == .layout
        if !timeShown { key.now = 0 }
        if let rendered, rendered.key == key { return ringing(rendered.buffer) }
        framesDrawn += 1
        let buffer = renderHexScreen(state, theme: theme)
        rendered = (key, buffer)
        return ringing(buffer)
    }

    package func shutdown() {
        source.close()
    }

    private func refresh(now: Double) {
        let window = state.window
        // A few bytes past the window, so the inspector can decode a u64 or a string at the last byte on screen.
        let count = min(source.size - window.offset, window.count + 64)
        do {
            let bytes = try source.read(offset: window.offset, count: max(0, count))
            dispatch(.frame(Frame(offset: window.offset, bytes: bytes), now: now))
            dispatch(.activity(state.activity, byteCounts: byteCounts()))
        } catch {
            dispatch(.failed("read failed: \(error)"))
        }
        if let layout = state.structLayout {
            let span = layout.span.clamped(to: 0..<source.size)
            if let bytes = try? source.read(offset: span.lowerBound, count: span.count) {
                dispatch(.layoutBytes(Frame(offset: span.lowerBound, bytes: bytes), now: now))
            }
        }
        lastRefresh = now
    }

    /// Compares the segment now with the snapshot (which is in memory already, so the segment is read whole once)
    /// and reports the runs that differ.
    private func compareWithSnapshot(jump: DiffJump?, now: Double? = nil) {
        guard let snapshot = state.snapshot else { return }
        do {
            let started = ContinuousClock.now
            let bytes = try source.read(offset: 0, count: min(source.size, snapshot.count))
            let changes = Snapshot.differences(snapshot, bytes)
            let runs = changes.prefix(HexViewState.diffRunLimit).map(DiffRun.init)
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            diffCompareSeconds = Double(seconds) + Double(attoseconds) / 1e18
            lastDiffCompare = now ?? state.now
            dispatch(.differenceRuns(Array(runs), truncated: changes.count > runs.count, jump: jump))
        } catch {
            dispatch(.failed("diff failed: \(error)"))
        }
    }

    private func attemptLock() {
        do {
            let acquired = try source.tryLock(timeout: lockPollTimeout)
            dispatch(.lockAttempt(acquired: acquired, status: acquired ? .lockedByUs : source.lockStatus()))
        } catch {
            dispatch(.lockFailed("\(error)"))
        }
    }

    private func perform(_ effect: HexEffect) {
        switch effect {
        case .refreshNow:
            refresh(now: state.now)
        case .snapshot:
            do {
                let bytes = try source.read(offset: 0, count: source.size)
                dispatch(.frame(Frame(offset: 0, bytes: bytes), now: state.now))
            } catch {
                dispatch(.failed("snapshot failed: \(error)"))
            }
        case .tryLock:
            attemptLock()
        case .unlock:
            do {
                try source.unlock()
                dispatch(.unlocked(error: nil))
            } catch {
                dispatch(.unlocked(error: "\(error)"))
            }
        case .attachReadWrite(let then):
            do {
                try source.attachReadWrite()
                dispatch(.attachedReadWrite(then: then, error: nil))
            } catch {
                dispatch(.attachedReadWrite(then: then, error: "\(error)"))
            }
        case .prepareCommit(let runs):
            dispatch(.commitPlan(CommitPlan(
                    runs: runs, lock: source.lockDescription(), who: whoProvider.who(), noLock: state.noLock)))
        case .write(let runs, let unlockAfter):
            // The old bytes are read under the same lock just before each write, so `u` can put them back.
            var failure: String?
            var previous: [WriteRun] = []
            for run in runs where failure == nil {
                do {
                    let old = try source.read(offset: run.offset, count: run.bytes.count)
                    try source.write(run.bytes, at: run.offset)
                    previous.append(WriteRun(offset: run.offset, bytes: old))
                } catch { failure = "\(error)" }
            }
            if unlockAfter {
                do { try source.unlock() } catch { failure = failure ?? "unlock: \(error)" }
                dispatch(.lockStatus(source.lockStatus()))
            }
            dispatch(.wrote(count: runs.reduce(0) { $0 + $1.bytes.count }, error: failure, previous: previous))
        case .revert(let record, let unlockAfter):
            var failure: String?
            do {
                // Only if nobody wrote over our bytes since: otherwise putting the old ones back would destroy a
                // peer's newer data.
                for run in record.written {
                    let now = try source.read(offset: run.offset, count: run.bytes.count)
                    if now != run.bytes {
                        failure =
                            "the segment changed at 0x\(hexPadded(run.offset, width: 8)) since the commit; nothing written"
                        break
                    }
                }
                if failure == nil {
                    for run in record.previous { try source.write(run.bytes, at: run.offset) }
                }
            } catch {
                failure = "\(error)"
            }
            if unlockAfter {
                do { try source.unlock() } catch { failure = failure ?? "unlock: \(error)" }
                dispatch(.lockStatus(source.lockStatus()))
            }
            dispatch(.reverted(count: record.byteCount, error: failure))
        case .completePath(let typed):
            dispatch(.promptCompleted(PathCompletion.complete(typed, home: processEnvironment()["HOME"]) {
                DirectoryListing.entries($0)
            }))
        case .saveStaged(let typed, let runs):
            let path = expandingTilde(typed)
            // Our mapping of a removed segment stays valid: save it with the staged bytes applied, as a snapshot
            // that O (or `shmscope diff`) can load.
            do {
                var bytes = try source.read(offset: 0, count: source.size)
                for run in runs where run.offset + run.bytes.count <= bytes.count {
                    bytes.replaceSubrange(run.offset..<(run.offset + run.bytes.count), with: run.bytes)
                }
                let snapshot = Snapshot(target: source.targetName, time: wallClockSeconds(), bytes: bytes)
                try snapshot.write(toFile: path)
                dispatch(.stagedSaved(path: path, error: nil))
            } catch let error as ShmError {
                dispatch(.stagedSaved(path: path, error: error.message))
            } catch {
                dispatch(.stagedSaved(path: path, error: "\(error)"))
            }
        case .search(let query, let from, let forward):
            let hit: (offset: Int, wrapped: Bool)?
            if state.paused, state.frame.offset == 0, state.frame.bytes.count == source.size {
                let hay = query.ignoreCase ? asciiLowercased(state.frame.bytes) : state.frame.bytes
                hit = findBytes(query.needle, in: hay, from: from, forward: forward)
            } else {
                // In chunks: a big (sparse) segment is never copied whole, and its holes are never faulted in.
                do {
                    hit = try findBytes(query.needle, size: source.size, from: from, forward: forward) {
                        let bytes = try source.read(offset: $0, count: $1)
                        return query.ignoreCase ? asciiLowercased(bytes) : bytes
                    }
                } catch {
                    dispatch(.failed("search failed: \(error)"))
                    return
                }
            }
            dispatch(.searchResult(query: query, offset: hit?.offset, wrapped: hit?.wrapped ?? false))
        case .takeSnapshot:
            do {
                let bytes = try source.read(offset: 0, count: source.size)
                dispatch(.snapshotTaken(bytes: bytes, time: wallClockSeconds(), source: "taken"))
            } catch {
                dispatch(.failed("snapshot failed: \(error)"))
            }
        case .saveSnapshot(let typed, let replace):
            guard let bytes = state.snapshot else { return }
            let path = expandingTilde(typed)
            let snapshot = Snapshot(
                target: source.targetName, time: state.snapshotTime ?? wallClockSeconds(), bytes: bytes)
            do {
                try snapshot.write(toFile: path, replace: replace)
                dispatch(.snapshotSaved(path: path, error: nil))
            } catch where error.kind == .alreadyExists && !replace {
                dispatch(.snapshotExists(path: path))
            } catch {
                dispatch(.snapshotSaved(path: path, error: error.message))
            }
        case .loadSnapshot(let typed):
            let path = expandingTilde(typed)
            do {
                let snapshot = try Snapshot.read(fromFile: path)
                dispatch(.snapshotTaken(bytes: snapshot.bytes, time: snapshot.time, source: "loaded from \(path)"))
            } catch {
                dispatch(.failed("cannot load: \(error.message)"))
            }
        case .compareWithSnapshot(let jump):
            compareWithSnapshot(jump: jump)
        case .debug(let effect):
            performDebug(effect)
        case .redraw:
            wantsFullRedraw = true
        case .quit:
            isFinished = true
        }
    }
}

extension HexSession {
    /// The frame with the bell, once, after a breakpoint hit.
    private func ringing(_ buffer: ScreenBuffer) -> ScreenBuffer {
        guard pendingBell else { return buffer }
        pendingBell = false
        var b = buffer
        b.bell = true
        return b
    }

    /// After each live refresh: every breakpoint reads just its own bytes.
    private func checkBreakpoints() {
        guard state.debug.timeline == nil, !breakpoints.items.isEmpty else { return }
        let source = self.source
        if let hit = breakpoints.check(read: { try source.read(offset: $0, count: $1) }, time: wallClockSeconds()) {
            hitFound(hit)
        }
    }

    private func hitFound(_ hit: BreakpointHit) {
        pendingBell = true
        dispatch(.debug(.breakpointHit(hit)))
    }

    /// The timeline moved: the view reads the new state at once.
    private func timelineMoved(_ message: String?) {
        guard let status = timeline.status else { return }
        for event in watcher.followPresence() { dispatch(.segmentEvent(event)) }
        dispatch(.debug(.timelineMoved(status, message: message)))
        lastWho = -Double.infinity
    }

    private func advancePlayback(now: Double, speed: Double) {
        guard let started = playStarted else {
            playStarted = now
            timeline.startPlaying()
            return
        }
        let target = timeline.playTarget(elapsed: now - started, speed: speed)
        let evaluators = breakpoints.evaluators
        if !evaluators.isEmpty, let match = timeline.firstMatch(evaluators, upTo: target) {
            timeline.move(toStep: match.step)
            playStarted = nil
            timelineMoved(nil)
            hitFound(replayHit(match.index))
            return
        }
        guard target != timeline.status?.step else { return }
        timeline.move(toStep: target)
        timelineMoved(nil)
        if target >= timeline.lastStep {
            playStarted = nil
            dispatch(.debug(.playbackEnded("end of the recording")))
        }
    }

    private func replayHit(_ index: Int) -> BreakpointHit {
        let item = breakpoints.item(at: index)
        let evaluator = breakpoints.evaluators[index]
        // The values at the step it stopped on (the search evaluated further states on a copy).
        evaluator.resetBaseline()
        _ = evaluator.evaluate(segment: timeline.currentBytes)
        return BreakpointHit(
            id: item.id, text: item.text, time: timeline.status?.time ?? 0, values: evaluator.values(),
            ranges: evaluator.ranges)
    }

    private func performDebug(_ effect: DebugEffect) {
        switch effect {
        case .step(let delta):
            playStarted = nil
            timelineMoved(timeline.step(delta))
        case .seek(let text):
            playStarted = nil
            do { timelineMoved(try timeline.seek(text)) } catch {
                dispatch(.failed("\(error)"))
            }
        case .play(let speed):
            playStarted = nil
            if speed != nil, let status = timeline.status, status.step >= timeline.lastStep {
                timeline.move(toStep: 0)
                timelineMoved("from the start")
            }
        case .addBreakpoint(let text, let freeze):
            let added: (BreakpointItem, ConditionEvaluator)
            do { added = try breakpoints.add(text, freeze: freeze, layout: state.structLayout) } catch {
                dispatch(.failed("breakpoint: \(error)"))
                return
            }
            let (item, evaluator) = added
            guard state.debug.timeline != nil else {
                // The baseline for changed() and for becoming true: the bytes now.
                let source = self.source
                breakpoints.baseline(item.id) { try source.read(offset: $0, count: $1) }
                dispatch(.debug(.breakpointAdded(item, message: nil)))
                return
            }
            dispatch(.debug(.breakpointAdded(item, message: nil)))
            // On a recording: jump to the next step where it holds.
            let index = breakpoints.evaluators.count - 1
            if let match = timeline.firstMatch([evaluator], upTo: timeline.lastStep) {
                timeline.move(toStep: match.step)
                timelineMoved(nil)
                hitFound(replayHit(index))
            } else {
                dispatch(.failed("breakpoint \(item.id): \(text) does not hold after this point of the recording"))
            }
        case .removeBreakpoints(let ids):
            let (remaining, removed) = breakpoints.remove(ids)
            dispatch(.debug(.breakpointsRemoved(
                remaining: remaining, message: removed == 0 ? "no such breakpoint" : "removed \(removed) breakpoint\(removed == 1 ? "" : "s")")))
        }
    }
}

/// `~` and `~/…` in a path typed at a prompt, as a shell would expand them ($HOME); other text is unchanged.
package func expandingTilde(_ path: String) -> String {
    expandTilde(path, home: processEnvironment()["HOME"])
}
