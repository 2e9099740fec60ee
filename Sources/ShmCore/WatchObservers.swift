/// `watch --until`: evaluates a condition after every poll on just the bytes it reads, and ends the run on a hit.
public final class WatchBreakpoint: WatchObserver {
    public let evaluator: ConditionEvaluator
    private let segment: any ByteReader
    /// When the condition first held, and the values it read then.
    public private(set) var hit: (time: Double, values: [ConditionValue])?

    public init(_ evaluator: ConditionEvaluator, segment: any ByteReader) {
        self.evaluator = evaluator
        self.segment = segment
    }

    public func observe(_ event: WatchEvent, time: Double) {}

    public func afterPoll(time: Double) -> Bool {
        guard hit == nil else { return true }
        let segment = self.segment
        let holds = evaluator.evaluate { offset, count in
            guard offset + count <= segment.byteCount else { throw ConditionRangeError() }
            var bytes = [UInt8](repeating: 0, count: count)
            try bytes.withUnsafeMutableBytes { try segment.read(into: $0, offset: offset) }
            return bytes
        }
        if holds { hit = (time, evaluator.values()) }
        return holds
    }

    private struct ConditionRangeError: Error {}
}

/// `watch --record`: writes the segment's contents after the first poll, then every change and event, into a
/// `RecordingWriter`; bounded to `limit` bytes of changes per second: past that, changes are dropped (`onGap` tells
/// the user once) until the next second, which starts with a gap entry and a keyframe. A keyframe also follows a
/// resize or re-creation. A write failure ends the run (`failure`).
public final class WatchRecorder: WatchObserver {
    public let writer: RecordingWriter
    public let limit: Int
    private let segment: any ByteReader
    private let onGap: (String) -> Void
    private let who: () -> RecordedWho?
    private var needKeyframe = true
    private var windowStart = -Double.infinity
    private var windowBytes = 0
    private var dropping = false
    private var droppedChanges = 0
    private var droppedBytes = 0
    private var lastWho = -Double.infinity
    public private(set) var failure: ShmError?
    public private(set) var changes = 0
    public private(set) var gaps = 0

    public init(
        writer: RecordingWriter, segment: any ByteReader, limit: Int, onGap: @escaping (String) -> Void,
        who: @escaping () -> RecordedWho?
    ) {
        self.writer = writer
        self.segment = segment
        self.limit = limit
        self.onGap = onGap
        self.who = who
    }

    private func append(_ entry: RecordingEntry) {
        guard failure == nil else { return }
        do { try writer.append(entry) } catch { failure = error }
    }

    public func observe(_ event: WatchEvent, time: Double) {
        switch event {
        case .change(let c):
            if time - windowStart >= 1 { startWindow(time) }
            if dropping || windowBytes + c.length > limit {
                if !dropping {
                    onGap(
                        "recording: the segment changes faster than \(formatBytes(limit))/s; changes are dropped until the next second, then a gap marker and the whole segment are recorded"
                    )
                }
                dropping = true
                droppedChanges += 1
                droppedBytes += c.length
                return
            }
            windowBytes += c.length
            changes += 1
            append(.change(time: time, offset: c.offset, new: c.new, oldKnown: c.old != nil))
        case .resized, .reattached:
            append(.event(time: time, event))
            needKeyframe = true
        case .removed, .detached:
            append(.event(time: time, event))
        }
    }

    private func startWindow(_ time: Double) {
        windowStart = time
        windowBytes = 0
        if dropping {
            append(.gap(time: time, droppedChanges: droppedChanges, droppedBytes: droppedBytes, limit: limit))
            gaps += 1
            dropping = false
            droppedChanges = 0
            droppedBytes = 0
            needKeyframe = true
        }
    }

    public func afterPoll(time: Double) -> Bool {
        if dropping && time - windowStart >= 1 { startWindow(time) }
        if needKeyframe {
            var bytes = [UInt8](repeating: 0, count: segment.byteCount)
            if (try? bytes.withUnsafeMutableBytes { try segment.read(into: $0, offset: 0) }) != nil {
                append(.keyframe(time: time, bytes: bytes))
                needKeyframe = false
            }
        }
        if time - lastWho >= 5 {
            recordWho(time: time)
        }
        return failure != nil
    }

    /// Records who is attached now (at the start, every 5 seconds, at a hit and at the end).
    public func recordWho(time: Double) {
        lastWho = time
        if let w = who() { append(.who(time: time, w)) }
    }

    /// Ends the recording: who is attached, the end entry, the last block.
    public func finish(time: Double, reason: String) throws(ShmError) {
        if let failure { throw failure }
        if dropping { startWindow(time) }
        recordWho(time: time)
        try writer.finish(time: time, reason: reason)
    }
}

/// `1 MiB`, `512 KiB`, `100 B`.
func formatBytes(_ n: Int) -> String {
    if n >= 1 << 20, n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
    if n >= 1 << 10, n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
    return "\(n) B"
}
