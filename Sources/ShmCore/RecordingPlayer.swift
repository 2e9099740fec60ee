/// A recording as a timeline: the segment's state at any step, stepping by change, seeking by time, the log as
/// `watch --log` printed it, and the next step where a breakpoint's condition holds. What `replay` drives.
public final class RecordingPlayer {
    public struct Step: Equatable, Sendable {
        public enum Kind: Equatable, Sendable {
            case keyframe([UInt8])
            case change(offset: Int, new: [UInt8], oldKnown: Bool)
            case event(WatchEvent)
            case gap(droppedChanges: Int, droppedBytes: Int, limit: Int)
        }
        public var time: Double
        public var kind: Kind
    }

    public let target: String
    public let kind: String
    /// When the recording began (its header).
    public let recordingStarted: Double
    /// The time of its first contents: `+0s`, where offsets (`+12.5s`) count from.
    public let startTime: Double
    public let intervalMS: Int
    public let endTime: Double
    public let truncation: String?
    /// Every step in order; step 0 is the first keyframe.
    public let steps: [Step]
    /// The indices of the change steps: "change n of N".
    public let changeSteps: [Int]
    private let whos: [(time: Double, who: RecordedWho)]
    private let keyframeSteps: [Int]
    /// The largest keyframe: a size event never grows the state past it (a recorder always follows one with a
    /// keyframe, so only a damaged or cut-off file could ask for more, and it must not make us allocate it).
    private let largestKeyframe: Int

    /// The position: the state after `steps[position]` is applied.
    public private(set) var position = 0
    /// The segment at `position`.
    public private(set) var bytes: [UInt8] = []
    /// Whether the segment was removed (and not created again) at `position`.
    public private(set) var removed = false

    public init(_ recording: Recording) throws(RecordingFormatError) {
        guard case .header(let target, let kind, let start, let interval) = recording.entries.first else {
            throw RecordingFormatError("the recording has no header entry")
        }
        self.target = target
        self.kind = kind
        recordingStarted = start
        intervalMS = interval
        truncation = recording.truncation
        var steps: [Step] = []
        var whos: [(Double, RecordedWho)] = []
        var end = start
        for entry in recording.entries.dropFirst() {
            end = max(end, entry.time)
            switch entry {
            case .keyframe(let t, let b): steps.append(Step(time: t, kind: .keyframe(b)))
            case .change(let t, let o, let n, let k):
                steps.append(Step(time: t, kind: .change(offset: o, new: n, oldKnown: k)))
            case .event(let t, let e): steps.append(Step(time: t, kind: .event(e)))
            case .gap(let t, let c, let b, let l):
                steps.append(Step(time: t, kind: .gap(droppedChanges: c, droppedBytes: b, limit: l)))
            case .who(let t, let w): whos.append((t, w))
            case .header, .end: break
            }
        }
        guard let first = steps.firstIndex(where: { if case .keyframe = $0.kind { true } else { false } }) else {
            throw RecordingFormatError("the recording has no starting contents (it ended before the first poll)")
        }
        // Anything before the first keyframe cannot be shown; the first keyframe is step 0.
        let kept = Array(steps[first...])
        self.steps = kept
        startTime = kept[0].time
        endTime = end
        self.whos = whos
        changeSteps = kept.indices.filter { if case .change = kept[$0].kind { true } else { false } }
        keyframeSteps = kept.indices.filter { if case .keyframe = kept[$0].kind { true } else { false } }
        largestKeyframe = kept.reduce(0) { if case .keyframe(let b) = $1.kind { max($0, b.count) } else { $0 } }
        seek(step: 0)
    }

    public var changeCount: Int { changeSteps.count }

    /// How many changes are applied at `position` (0 at the start).
    public var changesApplied: Int {
        var lo = 0
        var hi = changeSteps.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if changeSteps[mid] <= position { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public var time: Double { steps[position].time }

    /// Who was attached at `position`: the latest record at or before its time (the first one before that).
    public var who: RecordedWho? {
        whos.last(where: { $0.time <= time })?.who ?? whos.first?.who
    }

    /// Moves to `step` (clamped): from the last keyframe at or before it, or on from here when that is nearer.
    public func seek(step target: Int) {
        let target = min(max(0, target), steps.count - 1)
        let keyframe = keyframeSteps.last(where: { $0 <= target }) ?? 0
        var from: Int
        if !bytes.isEmpty, target >= position, position >= keyframe {
            from = position + 1
        } else {
            bytes = []
            removed = false
            from = keyframe
        }
        while from <= target {
            apply(steps[from], to: &bytes, removed: &removed)
            from += 1
        }
        position = target
    }

    /// The last step at or before `time` (the first keyframe when `time` is earlier).
    public func step(atTime time: Double) -> Int {
        var lo = 0
        var hi = steps.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if steps[mid].time <= time { lo = mid + 1 } else { hi = mid }
        }
        return max(0, lo - 1)
    }

    /// The next / previous change step from `position`, nil at either end.
    public func nextChange() -> Int? { changeSteps.first { $0 > position } }
    public func previousChange() -> Int? { changeSteps.last { $0 < position } }

    /// The first step after `position` at which `evaluator` holds, evaluated on each step's state in order with its
    /// baseline at `position` (so `changed()` means "changed since here"). Leaves the position where it was.
    public func nextStep(where evaluator: ConditionEvaluator, upTo limit: Int? = nil) -> Int? {
        var state = bytes
        var gone = removed
        evaluator.resetBaseline()
        _ = evaluator.evaluate(segment: state)
        var i = position + 1
        let last = min(steps.count - 1, limit ?? Int.max)
        while i <= last {
            apply(steps[i], to: &state, removed: &gone)
            if evaluator.evaluate(segment: state) { return i }
            i += 1
        }
        return nil
    }

    /// The state after each step, handed over in order (for `replay --log`), with each change's old bytes.
    private func apply(_ step: Step, to bytes: inout [UInt8], removed: inout Bool) {
        switch step.kind {
        case .keyframe(let b):
            bytes = b
        case .change(let offset, let new, _):
            guard offset >= 0, new.count <= bytes.count, offset <= bytes.count - new.count else { return }
            bytes.replaceSubrange(offset..<(offset + new.count), with: new)
        case .event(.removed):
            removed = true
        case .event(.resized(_, let size)), .event(.reattached(let size)):
            let to = min(size, largestKeyframe)
            if to < bytes.count {
                bytes.removeLast(bytes.count - to)
            } else {
                bytes += [UInt8](repeating: 0, count: to - bytes.count)
            }
            if case .event(.reattached) = step.kind { removed = false }
        case .event, .gap:
            break
        }
    }

    /// The recording as `watch --log` printed it while recording: the same lines, times and fields (a layout splits
    /// runs at field boundaries), plus a line for each gap.
    public func logLines(json: Bool, layout: StructLayout?) -> [String] {
        let log = WatchLog.Formatter(json: json, layout: layout)
        var state: [UInt8] = []
        var gone = false
        var lines: [String] = []
        for step in steps {
            switch step.kind {
            case .change(let offset, let new, let oldKnown):
                var old: [UInt8]?
                if oldKnown, new.count <= state.count, offset <= state.count - new.count {
                    old = Array(state[offset..<(offset + new.count)])
                }
                lines += log.lines(for: .change(ByteChange(offset: offset, old: old, new: new)), time: step.time)
            case .event(let event):
                lines += log.lines(for: event, time: step.time)
            case .gap(let changes, let bytes, let limit):
                lines.append(
                    WatchLogLine.gap(
                        time: step.time, droppedChanges: changes, droppedBytes: bytes, limit: limit, json: json))
            case .keyframe:
                break
            }
            apply(step, to: &state, removed: &gone)
        }
        return lines
    }
}

extension RecordingPlayer {
    /// A moment of the recording as typed: `+12.5s` / `+500ms` from the start, or an ISO 8601 time as `replay --log`
    /// prints it (`2026-11-27T12:00:01.234Z`: a whole millisecond, so the time printed for a change lands on it).
    public func time(parsing text: String, label: String = "--at") throws(NumberSyntaxError) -> Double {
        let trimmed = text.trimmingSpaces()
        if trimmed.hasPrefix("+") {
            let d = try NumberParser.duration(
                String(trimmed.dropFirst()), label: label, defaultUnit: .seconds,
                in: .zero ... .seconds(100 * 365 * 86_400))
            let (s, a) = d.components
            return startTime + Double(s) + Double(a) / 1e18
        }
        guard let t = parseISO8601(trimmed) else {
            throw NumberSyntaxError(
                "\(label): `\(text)` is not a time: write +12.5s (from the start) or an ISO 8601 time like \(iso8601(startTime))"
            )
        }
        // A time printed with milliseconds (rounded to the nearest) stands for the whole millisecond around it.
        return trimmed.contains(".") ? t + 0.000_499 : t
    }

    /// `+12.345s`, how far into the recording `time` is.
    public func offsetText(_ time: Double) -> String {
        let ms = max(0, Int(((time - startTime) * 1000).rounded(.down)))
        let frac = String(ms % 1000)
        return "+\(ms / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)s"
    }
}
