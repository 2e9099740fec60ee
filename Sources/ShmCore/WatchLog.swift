import Glibc

/// `watch --log`: polls a `SegmentWatcher` and prints one line per changed run and per event, paced so scanning a
/// big segment stays under 20% of a core. The loop lives here so tests drive it without the binary; the command
/// only supplies where lines go and how to wait (its signal handling).
public final class WatchLog {
    public struct Settings: Sendable {
        /// Seconds between scans.
        public var interval: Double
        /// Stop after this many changed runs.
        public var count: Int?
        /// Stop after this many seconds.
        public var duration: Double?
        public var json: Bool
        /// Fields that name each changed run (and split runs that span fields).
        public var layout: StructLayout?
        /// Print change and event lines (false: `--record`/`--until` without `--log`).
        public var printsLines: Bool

        public init(
            interval: Double = 0.1, count: Int? = nil, duration: Double? = nil, json: Bool = false,
            layout: StructLayout? = nil, printsLines: Bool = true
        ) {
            self.interval = interval
            self.count = count
            self.duration = duration
            self.json = json
            self.layout = layout
            self.printsLines = printsLines
        }
    }

    public let watcher: SegmentWatcher
    public let settings: Settings
    private let formatter: Formatter

    public init(watcher: SegmentWatcher, settings: Settings) {
        self.watcher = watcher
        self.settings = settings
        formatter = Formatter(json: settings.json, layout: settings.layout)
    }

    /// Why `run` returned.
    public enum StopReason: Equatable, Sendable {
        /// `--count` or `--duration` ended it.
        case limit
        /// A signal (`wait` said stop) or the reader went away.
        case stopped
        /// An observer stopped it (a breakpoint hit).
        case observer
    }

    /// Runs until `--count` or `--duration` ends it, `write` reports the reader gone (returns false), `wait`
    /// reports a stop request (returns true), or `observer` stops it. `wait(seconds)` sleeps between scans.
    /// The observer sees every event with the time its log line carries, and each finished poll.
    @discardableResult
    public func run(write: (String) -> Bool, wait: (Double) -> Bool, observer: (any WatchObserver)? = nil) -> StopReason {
        let started = monotonicSeconds()
        var changes = 0
        while true {
            let scanStart = monotonicSeconds()
            let scanCPUStart = threadCPUSeconds()
            var stop: StopReason?
            watcher.poll(now: wallClockSeconds()) { event in
                guard stop == nil else { return }
                let time = wallClockSeconds()
                observer?.observe(event, time: time)
                // `--count` counts change lines as printed (a run split at fields is several), or changes unprinted.
                let printed: [String?] = settings.printsLines ? lines(for: event, time: time) : [nil]
                for line in printed where stop == nil {
                    if let line, !write(line) { stop = .stopped }
                    if case .change = event {
                        changes += 1
                        if let count = settings.count, changes >= count { stop = stop ?? .limit }
                    }
                }
            }
            if let observer, observer.afterPoll(time: wallClockSeconds()) { return .observer }
            if let stop { return stop }
            // Sleep four times as long as the scan used the CPU (at least): a scan of a big segment then uses at most
            // 20% of a core. CPU time, not wall time: on a busy machine a scan waits for the CPU too, and that wait
            // costs nothing. With in-place hashing a 1 GiB pass takes about as long as reading it, so a change still
            // shows within a few tenths of a second.
            let took = monotonicSeconds() - scanStart
            let used = threadCPUSeconds() - scanCPUStart
            var pause = max(settings.interval - took, used * 4)
            if let duration = settings.duration {
                let left = duration - (monotonicSeconds() - started)
                if left <= 0 { return .limit }
                pause = min(pause, left)
            }
            if wait(pause) { return .stopped }
        }
    }

    /// The lines one event prints: a change is split at field boundaries when a layout is given.
    public func lines(for event: WatchEvent, time: Double) -> [String] { formatter.lines(for: event, time: time) }

    /// How events become log lines (the live log and `replay --log` alike).
    public struct Formatter {
        let json: Bool
        let layout: StructLayout?

        public init(json: Bool, layout: StructLayout?) {
            self.json = json
            self.layout = layout
        }

        public func lines(for event: WatchEvent, time: Double) -> [String] {
            guard case .change(let change) = event else {
                return [WatchLogLine.format(event, time: time, json: json)]
            }
            let pieces = layout?.split(change) ?? [(change, nil)]
            return pieces.map {
                WatchLogLine.format(.change($0.change), time: time, json: json, field: $0.field)
            }
        }
    }
}

/// Sees what a `WatchLog` run sees: a recording, a breakpoint.
public protocol WatchObserver: AnyObject {
    /// Each event, with the time its log line carries.
    func observe(_ event: WatchEvent, time: Double)
    /// After each poll (the first one is the baseline); true ends the run.
    func afterPoll(time: Double) -> Bool
}

/// Several observers, each told everything in order; the run ends when any asks.
public final class WatchObservers: WatchObserver {
    public let all: [any WatchObserver]
    public init(_ all: [any WatchObserver]) { self.all = all }
    public func observe(_ event: WatchEvent, time: Double) { for o in all { o.observe(event, time: time) } }
    public func afterPoll(time: Double) -> Bool {
        var stop = false
        for o in all where o.afterPoll(time: time) { stop = true }
        return stop
    }
}

/// The text and NDJSON forms of one watch event (documented in README "watch"). A change line's sixth column is
/// its field (`-` without a layout, or between fields); NDJSON has `"field"` (null there).
public enum WatchLogLine {
    public static func format(_ event: WatchEvent, time: Double, json: Bool, field: String? = nil) -> String {
        let t = iso8601(time)
        switch (event, json) {
        case (.change(let c), false):
            return
                "\(t) 0x\(hexPadded(c.offset, width: 8)) \(c.length) \(c.old.map(hexString) ?? "?") \(hexString(c.new)) \(field ?? "-")"
        case (.change(let c), true):
            let old = c.old.map { "\"" + hexString($0) + "\"" } ?? "null"
            let name = field.map(jsonString) ?? "null"
            return
                "{\"time\":\"\(t)\",\"type\":\"change\",\"offset\":\(c.offset),\"length\":\(c.length),\"old\":\(old),\"new\":\"\(hexString(c.new))\",\"field\":\(name)}"
        case (.removed, false): return "\(t) event removed"
        case (.removed, true): return "{\"time\":\"\(t)\",\"type\":\"removed\"}"
        case (.resized(let from, let to), false): return "\(t) event resized \(from) \(to)"
        case (.resized(let from, let to), true):
            return "{\"time\":\"\(t)\",\"type\":\"resized\",\"from\":\(from),\"to\":\(to)}"
        case (.reattached(let size), false): return "\(t) event reattached \(size)"
        case (.reattached(let size), true): return "{\"time\":\"\(t)\",\"type\":\"reattached\",\"size\":\(size)}"
        case (.detached(let reason), false): return "\(t) event detached \(reason)"
        case (.detached(let reason), true):
            return "{\"time\":\"\(t)\",\"type\":\"detached\",\"reason\":\(jsonString(reason))}"
        }
    }
}

extension WatchLogLine {
    /// A recording's gap (changes dropped past its per-second bound): `TIME event gap CHANGES BYTES LIMIT`.
    public static func gap(time: Double, droppedChanges: Int, droppedBytes: Int, limit: Int, json: Bool) -> String {
        let t = iso8601(time)
        if json {
            return
                "{\"time\":\"\(t)\",\"type\":\"gap\",\"changes\":\(droppedChanges),\"bytes\":\(droppedBytes),\"limit\":\(limit)}"
        }
        return "\(t) event gap \(droppedChanges) \(droppedBytes) \(limit)"
    }
}

/// A JSON string literal.
public func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                out += "\\u00" + hexPadded(Int(scalar.value), width: 2)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// CPU time the calling thread has used, in seconds, for pacing scans to a share of a core.
public func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Monotonic clock in seconds, for pacing and the hex view's loop.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
