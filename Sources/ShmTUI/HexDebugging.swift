import ShmCore

// Data breakpoints (`B`) and a replay's timeline (`,` `.` `T` `p` `P`) in the hex view: state, actions and the
// reducer for them, kept together so every route (open, watch, demo, the browser, replay) has them.

/// Where a replay is: position, time, change n of N.
package struct TimelineStatus: Equatable, Sendable {
    /// `+12.345s` from the start.
    package var offsetText: String
    package var time: Double
    package var change: Int
    package var changes: Int
    package var step: Int
    package var steps: Int

    package init(offsetText: String, time: Double, change: Int, changes: Int, step: Int, steps: Int) {
        self.offsetText = offsetText
        self.time = time
        self.change = change
        self.changes = changes
        self.step = step
        self.steps = steps
    }

    /// `REPLAY +1.234s 12:00:01.234 change 3/12`.
    package var text: String {
        let clock = iso8601(time).dropFirst(11).dropLast()
        return "REPLAY \(offsetText) \(clock) change \(change)/\(changes)"
    }
}

package struct BreakpointItem: Equatable, Sendable {
    package var id: Int
    package var text: String
    /// Take the lock on a hit (the prompt's Tab toggles it).
    package var freeze: Bool
    package var hits = 0

    package init(id: Int, text: String, freeze: Bool, hits: Int = 0) {
        self.id = id
        self.text = text
        self.freeze = freeze
        self.hits = hits
    }
}

package struct BreakpointHit: Equatable, Sendable {
    package var id: Int
    package var text: String
    package var time: Double
    package var values: [ConditionValue]
    /// The bytes the condition read, highlighted in the hex view.
    package var ranges: [Range<Int>]

    package init(id: Int, text: String, time: Double, values: [ConditionValue], ranges: [Range<Int>]) {
        self.id = id
        self.text = text
        self.time = time
        self.values = values
        self.ranges = ranges
    }
}

/// The hex view's debugging state: the timeline (nil when live), the breakpoints and the last hit.
package struct DebugViewState: Equatable, Sendable {
    package var timeline: TimelineStatus?
    /// Playback speed while playing.
    package var playing: Double?
    package var speed = 1.0
    package var breakpoints: [BreakpointItem] = []
    package var hit: BreakpointHit?

    package init() {}

    package func hitCovers(_ offset: Int) -> Bool {
        hit?.ranges.contains { $0.contains(offset) } ?? false
    }
}

package enum DebugAction: Equatable, Sendable {
    /// `B`: the breakpoint prompt, prefilled for the field or byte under the cursor.
    case openBreakpointPrompt
    /// Tab in the breakpoint prompt: freeze on a hit or not.
    case toggleFreeze
    /// `.` / `,`: next / previous change of a replay.
    case step(Int)
    /// `T`: seek to a time.
    case openSeekPrompt
    /// `p` in a replay: play / stop.
    case togglePlay
    /// `P`: playback speed.
    case openSpeedPrompt
    /// `R`: remove breakpoints.
    case openDeletePrompt
    // Results
    case timelineMoved(TimelineStatus, message: String?)
    case breakpointAdded(BreakpointItem, message: String?)
    case breakpointHit(BreakpointHit)
    case breakpointsRemoved(remaining: [BreakpointItem], message: String)
    case playbackEnded(String)
}

package enum DebugEffect: Equatable, Sendable {
    case step(Int)
    case seek(String)
    case play(speed: Double?)
    case addBreakpoint(String, freeze: Bool)
    /// nil: all.
    case removeBreakpoints([Int]?)
}

/// The condition `B` suggests for the cursor: `changed(FIELD)` inside a layout field, else `changed(u8@0xOFF)`.
package func suggestedCondition(_ s: HexViewState) -> String {
    if let layout = s.structLayout,
        let field = layout.fields.first(where: { $0.offset <= s.cursor && s.cursor < $0.offset + $0.size })
    {
        if case .scalar(let t, _) = field.type, field.count != nil {
            return "changed(\(field.name)[\((s.cursor - field.offset) / t.size)])"
        }
        return "changed(\(field.name))"
    }
    return "changed(u8@0x\(String(s.cursor, radix: 16)))"
}

func reduceDebug(_ s: inout HexViewState, _ action: DebugAction) -> [HexEffect] {
    switch action {
    case .openBreakpointPrompt:
        s.mode = .prompt(Prompt(kind: .breakpoint(freeze: false), text: suggestedCondition(s)))
        return []
    case .toggleFreeze:
        guard case .prompt(var p) = s.mode, case .breakpoint(let freeze) = p.kind else { return [] }
        p.kind = .breakpoint(freeze: !freeze)
        s.mode = .prompt(p)
        return []
    case .step(let delta):
        guard s.debug.timeline != nil else {
            s.message = .error("\(delta > 0 ? "." : ","): steps through a recording (shmscope replay FILE)")
            return []
        }
        s.debug.playing = nil
        return [.debug(.step(delta))]
    case .openSeekPrompt:
        guard s.debug.timeline != nil else {
            s.message = .error("T seeks in a recording (shmscope replay FILE)")
            return []
        }
        s.mode = .prompt(Prompt(kind: .seekTime))
        return []
    case .togglePlay:
        if s.debug.playing != nil {
            s.debug.playing = nil
            s.message = .info("stopped")
            return [.debug(.play(speed: nil))]
        }
        s.debug.playing = s.debug.speed
        s.message = .info("playing at \(speedText(s.debug.speed)); p stops, P sets the speed")
        return [.debug(.play(speed: s.debug.speed))]
    case .openSpeedPrompt:
        guard s.debug.timeline != nil else {
            s.message = .error("P sets the playback speed of a recording (shmscope replay FILE)")
            return []
        }
        s.mode = .prompt(Prompt(kind: .playSpeed))
        return []
    case .openDeletePrompt:
        guard !s.debug.breakpoints.isEmpty else {
            s.message = .error("no breakpoints: B sets one on the field or byte under the cursor")
            return []
        }
        s.mode = .prompt(Prompt(kind: .deleteBreakpoint))
        return []
    case .timelineMoved(let status, let message):
        s.debug.timeline = status
        if let message { s.message = .info(message) }
        return [.refreshNow]
    case .breakpointAdded(let item, let message):
        s.debug.breakpoints.append(item)
        s.message = .info(message ?? "breakpoint \(item.id) set: \(item.text)")
        return []
    case .breakpointHit(let hit):
        s.debug.hit = hit
        s.debug.playing = nil
        if let i = s.debug.breakpoints.firstIndex(where: { $0.id == hit.id }) { s.debug.breakpoints[i].hits += 1 }
        var effects: [HexEffect] = []
        // The view stays on the frame that matched: paused (a replay is already still).
        if s.debug.timeline == nil && !s.paused {
            s.paused = true
            effects.append(.snapshot)
        }
        if let first = hit.ranges.first { effects += moveCursorTo(&s, first.lowerBound) }
        let freeze = s.debug.breakpoints.first(where: { $0.id == hit.id })?.freeze == true
        if s.panel != .who { effects += reduce(&s, .togglePanel(.who)) }
        let values = hit.values.map(\.display).joined(separator: " ")
        s.message = .error("breakpoint \(hit.id) hit at \(iso8601(hit.time)): \(values)")
        if freeze && s.debug.timeline == nil { effects += reduce(&s, .lock) }
        return effects
    case .breakpointsRemoved(let remaining, let message):
        s.debug.breakpoints = remaining
        if remaining.isEmpty { s.debug.hit = nil }
        s.message = .info(message)
        return []
    case .playbackEnded(let message):
        s.debug.playing = nil
        s.message = .info(message)
        return []
    }
}

private func moveCursorTo(_ s: inout HexViewState, _ offset: Int) -> [HexEffect] {
    reduce(&s, .move(offset - s.cursor))
}

func speedText(_ speed: Double) -> String {
    speed == speed.rounded() ? "\(Int(speed))x" : "\(speed)x"
}

/// Enter in a debugging prompt.
func submitDebug(_ s: inout HexViewState, _ p: Prompt) -> [HexEffect] {
    let text = p.text.trimmingSpaces()
    switch p.kind {
    case .breakpoint(let freeze):
        guard !text.isEmpty else {
            s.message = .error("no condition given: e.g. changed(state) or u32@0x40 == 3")
            return []
        }
        return [.debug(.addBreakpoint(text, freeze: freeze))]
    case .seekTime:
        guard !text.isEmpty else { return [] }
        s.debug.playing = nil
        return [.debug(.seek(text))]
    case .playSpeed:
        guard let speed = Double(text), speed.isFinite, speed >= 0.1, speed <= 1000 else {
            s.message = .error("`\(text)` is not a speed: 0.1 to 1000 (1 is as recorded, 4 four times as fast)")
            return []
        }
        s.debug.speed = speed
        s.debug.playing = speed
        s.message = .info("playing at \(speedText(speed)); p stops")
        return [.debug(.play(speed: speed))]
    case .deleteBreakpoint:
        if text == "*" || text == "all" { return [.debug(.removeBreakpoints(nil))] }
        let ids = text.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Int($0) }
        guard !ids.isEmpty else {
            s.message = .error("give breakpoint numbers (1 3) or * for all")
            return []
        }
        return [.debug(.removeBreakpoints(ids))]
    default:
        return []
    }
}

/// The Breakpoints pane's lines: `1 changed(state)  2 hits  freeze`, and the last hit.
package func breakpointLines(_ d: DebugViewState) -> [String] {
    guard !d.breakpoints.isEmpty else { return ["no breakpoints: B sets one on the field or byte under the cursor"] }
    var lines = d.breakpoints.map {
        "\($0.id)  \($0.text)  \($0.hits) hit\($0.hits == 1 ? "" : "s")\($0.freeze ? "  freeze" : "")"
    }
    if let hit = d.hit {
        lines.append("last hit: \(hit.id) at \(iso8601(hit.time)) " + hit.values.map(\.display).joined(separator: " "))
    }
    lines.append("R removes (numbers or *)")
    return lines
}

// MARK: The session's side

/// A replay's timeline, or the live stand-in that says there is none (the view is the same either way).
package protocol SegmentTimeline: AnyObject {
    /// nil for a live segment.
    var status: TimelineStatus? { get }
    /// Moves by `delta` changes; a message when it cannot.
    func step(_ delta: Int) -> String?
    /// Moves to a time typed at the prompt (`+12.5s`, an ISO 8601 time); a message when it lands elsewhere.
    func seek(_ text: String) throws -> String?
    /// Playback starts from the position now.
    func startPlaying()
    /// The step that `elapsed` wall seconds at `speed` reach from where playback started.
    func playTarget(elapsed: Double, speed: Double) -> Int
    func move(toStep step: Int)
    var lastStep: Int { get }
    /// The first step after the position, up to `limit`, where one of `evaluators` holds: which one, and the step.
    /// Each evaluator's `changed()` baseline is the position.
    func firstMatch(_ evaluators: [ConditionEvaluator], upTo limit: Int) -> (index: Int, step: Int)?
    /// The segment's bytes at the position (for a hit's values).
    var currentBytes: [UInt8] { get }
}

/// The live view: no recording to move in.
package final class LiveTimeline: SegmentTimeline {
    package init() {}
    package var status: TimelineStatus? { nil }
    package func step(_ delta: Int) -> String? { "not a recording" }
    package func seek(_ text: String) throws -> String? { "not a recording" }
    package func startPlaying() {}
    package func playTarget(elapsed: Double, speed: Double) -> Int { 0 }
    package func move(toStep step: Int) {}
    package var lastStep: Int { 0 }
    package func firstMatch(_ evaluators: [ConditionEvaluator], upTo limit: Int) -> (index: Int, step: Int)? { nil }
    package var currentBytes: [UInt8] { [] }
}

/// A recording being replayed: the bytes the view reads are the player's state at its position.
package final class RecordingSource: LiveSource, SegmentTimeline {
    package let player: RecordingPlayer
    private var reportedSize: Int
    private var reportedRemoved = false
    private var playStart: (step: Int, time: Double)?

    package init(player: RecordingPlayer) {
        self.player = player
        reportedSize = player.bytes.count
    }

    package var targetName: String { player.target }
    package var kindName: String { player.kind }
    package var size: Int { player.bytes.count }
    package var isReadOnly: Bool { true }
    package var isAttachedReadWrite: Bool { false }
    package func attachReadWrite() throws { throw SourceError("a recording is read-only") }
    package func lockDescription() -> String? { nil }

    package func read(offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset + count <= player.bytes.count else {
            throw SourceError("read out of range")
        }
        return Array(player.bytes[offset..<(offset + count)])
    }

    package func write(_ bytes: [UInt8], at offset: Int) throws { throw SourceError("a recording is read-only") }
    package func tryLock(timeout: Duration) throws -> Bool { throw SourceError("a recording has no lock") }
    package func unlock() throws {}
    package func lockStatus() -> LockStatus { .none }
    package func close() {}

    /// The player's size and removal as the engine's events, so the view follows them as it does live.
    package func followPresence() -> [WatchEvent] {
        var events: [WatchEvent] = []
        if player.removed != reportedRemoved {
            events.append(player.removed ? .removed : .reattached(size: player.bytes.count))
            reportedRemoved = player.removed
            reportedSize = player.bytes.count
        }
        if player.bytes.count != reportedSize {
            events.append(.resized(from: reportedSize, to: player.bytes.count))
            reportedSize = player.bytes.count
        }
        return events
    }

    package var status: TimelineStatus? {
        TimelineStatus(
            offsetText: player.offsetText(player.time), time: player.time, change: player.changesApplied,
            changes: player.changeCount, step: player.position, steps: player.steps.count)
    }

    package func step(_ delta: Int) -> String? {
        var moved = 0
        while moved < abs(delta) {
            guard let next = delta > 0 ? player.nextChange() : player.previousChange() else { break }
            player.seek(step: next)
            moved += 1
        }
        if moved == 0 {
            if delta < 0 && player.position > 0 {
                player.seek(step: 0)
                return "at the start"
            }
            return delta > 0 ? "no later change: at the end of the recording" : "at the start"
        }
        return nil
    }

    package func seek(_ text: String) throws -> String? {
        let time = try player.time(parsing: text, label: "time")
        player.seek(step: player.step(atTime: time))
        return time > player.endTime ? "past the end: at the last step" : nil
    }

    package func startPlaying() { playStart = (player.position, player.time) }

    package func playTarget(elapsed: Double, speed: Double) -> Int {
        guard let start = playStart else { return player.position }
        return max(start.step, player.step(atTime: start.time + elapsed * speed))
    }

    package func move(toStep step: Int) { player.seek(step: step) }
    package var lastStep: Int { player.steps.count - 1 }
    package var currentBytes: [UInt8] { player.bytes }

    package func firstMatch(_ evaluators: [ConditionEvaluator], upTo limit: Int) -> (index: Int, step: Int)? {
        var best: (index: Int, step: Int)?
        for (i, evaluator) in evaluators.enumerated() {
            if let step = player.nextStep(where: evaluator, upTo: best.map { $0.step - 1 } ?? limit) {
                best = (i, step)
            }
        }
        return best
    }
}

/// The recorded Who for a replay: who was attached at the position, as recorded (the explicit stand-in for asking
/// the system, which would describe today's processes).
package final class RecordedWhoProvider: WhoProvider {
    private let player: RecordingPlayer

    package init(player: RecordingPlayer) { self.player = player }

    package func who() -> WhoInfo {
        guard let recorded = player.who else {
            return WhoInfo(unavailable: "recorded: nobody was recorded as attached")
        }
        var info = WhoInfo(
            attached: recorded.attached.map {
                AttachedProcess(
                    pid: $0.pid, command: $0.command, uid: $0.uid, access: $0.readWrite ? .readWrite : .readOnly)
            },
            lock: nil)
        info.recorded =
            "as recorded at \(iso8601(player.time))"
            + (recorded.lock.map { "; lock \($0)" } ?? "") + (recorded.lastPID.map { "; last pid \($0)" } ?? "")
        return info
    }
}

/// The breakpoints a view checks, with their evaluators (the conditions, parsed against the view's layout).
package final class BreakpointSet {
    private(set) var items: [(item: BreakpointItem, evaluator: ConditionEvaluator)] = []
    private var nextID = 1
    /// Whether each condition held at the last check, by id: a live view stops when one becomes true, not on every
    /// refresh while it stays true (resuming with `p` would otherwise stop again at once).
    private var held: [Int: Bool] = [:]

    package init() {}

    func add(_ text: String, freeze: Bool, layout: StructLayout?) throws(ConditionError) -> (
        BreakpointItem, ConditionEvaluator
    ) {
        let evaluator = try ConditionEvaluator(parsing: text, fields: layout ?? StructLayout(fields: []))
        let item = BreakpointItem(id: nextID, text: text, freeze: freeze)
        nextID += 1
        items.append((item, evaluator))
        return (item, evaluator)
    }

    func remove(_ ids: [Int]?) -> (remaining: [BreakpointItem], removed: Int) {
        let before = items.count
        if let ids { items.removeAll { ids.contains($0.item.id) } } else { items.removeAll() }
        return (items.map(\.item), before - items.count)
    }

    /// Evaluates a new breakpoint once on the bytes now: its baseline for `changed()` and for becoming true.
    func baseline(_ id: Int, read: (Int, Int) throws -> [UInt8]) {
        guard let evaluator = items.first(where: { $0.item.id == id })?.evaluator else { return }
        held[id] = evaluator.evaluate(read: read)
    }

    /// The first breakpoint whose condition became true on the bytes `read` gives (each reads only its own bytes).
    func check(read: (Int, Int) throws -> [UInt8], time: Double) -> BreakpointHit? {
        var hit: BreakpointHit?
        // Every evaluator sees every refresh, so `changed()` compares consecutive refreshes.
        for (item, evaluator) in items {
            let holds = evaluator.evaluate(read: read)
            let before = held[item.id] ?? false
            held[item.id] = holds
            if holds, !before, hit == nil {
                hit = BreakpointHit(
                    id: item.id, text: item.text, time: time, values: evaluator.values(), ranges: evaluator.ranges)
            }
        }
        return hit
    }

    var evaluators: [ConditionEvaluator] { items.map(\.evaluator) }
    func item(at index: Int) -> BreakpointItem { items[index].item }
}
