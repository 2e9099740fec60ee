import ArgumentParser
import Glibc
import ShmCore
import ShmCurses
import ShmTUI

/// `shmscope watch TARGET`: the hex view attached read-only, or with `--log` a headless change log.
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch a segment read-only: the live hex view, or with --log one line per change.",
        discussion: """
            The segment is mapped read-only (SHM_RDONLY, or O_RDONLY + PROT_READ): nothing can be written through it.

            --log prints one line per changed run of bytes, flushed at once: TIME OFFSET LENGTH OLD NEW, e.g. `2026-11-27T01:30:00.123Z 0x00000010 5 68656c6c6f 776f726c64`; and one line per event: `TIME event removed`, `resized FROM TO`, `reattached SIZE` or `detached REASON`. With --json, one NDJSON object per line (README "watch").

            OLD is `?` (null in JSON) when the block was not in the 32 MiB cache of block contents: the run is then the whole 4 KiB block, and later changes to it are exact.

            The whole segment (or --range) is scanned every interval; after each scan it sleeps at least 1.5 times as long as the scan took, so scanning stays under 40% of a core. SIGINT, SIGTERM, SIGHUP and a closed pipe end the log with status 0.

            Examples:
              shmscope watch SharedMemory_Key
              shmscope watch /psm_1234 --log --json | jq .
              shmscope watch shmid:30 --log --range 0x100:64 --count 10
            """)

    @OptionGroup var target: TargetOptions

    @Flag(name: .long, help: "Print changes instead of opening the hex view.")
    var log = false

    @Flag(name: .long, help: "With --log: one JSON object per line (NDJSON).")
    var json = false

    @Option(name: .long, help: "Time between scans: 10ms...60s, e.g. 100ms, 1s (a bare number is milliseconds).")
    var interval = "100ms"

    @Option(name: .long, help: "With --log: watch only OFF:LEN (e.g. 0x100:64, 4K:1K).")
    var range: String?

    @Option(name: .long, help: "With --log: stop after N changes.")
    var count: String?

    @Option(name: .long, help: "With --log: stop after this long: 500ms, 30s, 5m, 1h (a bare number is seconds).")
    var duration: String?

    @Option(name: .long, help: "A layout file: show its fields as a live table (see README \"Layouts\").")
    var layout: String?

    @Option(name: .long, help: "Bytes per row: 4, 8, 16 or 32 (default: fit the terminal width).")
    var bytesPerRow: String?

    func validate() throws {
        _ = try intervalMS()
        _ = try changeLimit()
        _ = try timeLimit()
        _ = try watchedRange()
        if !log && (json || range != nil || count != nil || duration != nil) {
            throw ValidationError("--json, --range, --count and --duration go with --log")
        }
        _ = try rowWidth()
    }

    private func intervalMS() throws -> Int {
        try usage { () throws(NumberSyntaxError) in try NumberParser.interval(interval, label: "--interval", in: 10...60_000) }
    }

    private func changeLimit() throws -> Int? {
        guard let count else { return nil }
        return try usage { () throws(NumberSyntaxError) in try NumberParser.count(count, label: "--count", in: 1...Int.max) }
    }

    /// A week at most: a longer unattended log is surely a typo, and it keeps the pacing arithmetic exact.
    private func timeLimit() throws -> Duration? {
        guard let duration else { return nil }
        return try usage { () throws(NumberSyntaxError) in
            try NumberParser.duration(
                duration, label: "--duration", defaultUnit: .seconds, in: .milliseconds(1) ... .seconds(7 * 86_400))
        }
    }

    private func watchedRange() throws -> (offset: Int, length: Int)? {
        guard let range else { return nil }
        return try usage { () throws(NumberSyntaxError) in try NumberParser.range(range, label: "--range") }
    }

    private func rowWidth() throws -> Int? {
        guard let bytesPerRow else { return nil }
        let n = try usage { () throws(NumberSyntaxError) in try NumberParser.count(bytesPerRow, label: "--bytes-per-row") }
        guard HexLayout.choices.contains(n) else {
            throw ValidationError("--bytes-per-row must be 4, 8, 16 or 32, got \(n)")
        }
        return n
    }

    func run() throws {
        let structLayout = try layout.map(loadLayout)
        if !log {
            let parsed = try target.parsedTarget()
            let options = try target.options()
            let source: SharedMemorySource
            do { source = try SharedMemorySource(target: parsed, readOnly: true, options: options) } catch {
                tuiFail(.runtime(error.description))
            }
            runHexView(source: source, interval: try intervalMS(), bytesPerRow: try rowWidth(), layout: structLayout)
            return
        }
        let memory = try target.memory()
        try memory.attach(.readOnly)
        let (offset, length) = try watchedRange().map { ($0.offset, Optional($0.length)) } ?? (0, nil)
        guard offset < max(1, memory.size) else {
            throw CommandError(
                message: "--range starts at \(offset), past the end of the segment (\(memory.size) bytes)")
        }
        let watcher = SegmentWatcher(memory: memory, rangeOffset: offset, rangeLength: length)
        runLog(
            watcher, interval: Double(try intervalMS()) / 1000, count: try changeLimit(),
            duration: try timeLimit().map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 })
    }

    private func runLog(_ watcher: SegmentWatcher, interval: Double, count: Int?, duration: Double?) -> Never {
        // The exit signals are blocked and taken synchronously by the pacing wait, so a scan is never cut short
        // and the log always ends after a whole line.
        var signals = sigset_t()
        sigemptyset(&signals)
        for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, sig) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let out = Output.standard
        let started = monotonicSeconds()
        var changes = 0
        while true {
            let scanStart = monotonicSeconds()
            watcher.poll(now: wallClockSeconds()) { event in
                out.print(WatchLogLine.format(event, time: wallClockSeconds(), json: json))
                out.flush()
                if case .change = event {
                    changes += 1
                    if let count, changes >= count { Glibc.exit(0) }
                }
            }
            // Sleep 1.5 times as long as the scan took (at least): a scan of a big segment then uses at most 40%
            // of a core, safely under half even with the wake-ups and output around it.
            let took = monotonicSeconds() - scanStart
            var pause = max(interval - took, took * 1.5)
            if let duration {
                let left = duration - (monotonicSeconds() - started)
                if left <= 0 { Glibc.exit(0) }
                pause = min(pause, left)
            }
            if stdoutReaderGone() { Glibc.exit(0) }
            var timeout = timespec(tv_sec: Int(pause), tv_nsec: Int((pause - pause.rounded(.down)) * 1e9))
            if sigtimedwait(&signals, nil, &timeout) > 0 { Glibc.exit(0) }
        }
    }

    /// A pipe whose reader went away (`| head -n 1`) shows POLLERR on our end; notice it even when nothing changes.
    private func stdoutReaderGone() -> Bool {
        var pfd = pollfd(fd: 1, events: 0, revents: 0)
        return poll(&pfd, 1, 0) > 0 && pfd.revents & Int16(POLLERR) != 0
    }
}

/// The text and NDJSON forms of one watch event (documented in README "watch").
enum WatchLogLine {
    static func format(_ event: WatchEvent, time: Double, json: Bool) -> String {
        let t = iso8601(time)
        switch (event, json) {
        case (.change(let c), false):
            return
                "\(t) 0x\(hexPadded(c.offset, width: 8)) \(c.length) \(c.old.map(hexString) ?? "?") \(hexString(c.new))"
        case (.change(let c), true):
            let old = c.old.map { "\"" + hexString($0) + "\"" } ?? "null"
            return
                "{\"time\":\"\(t)\",\"type\":\"change\",\"offset\":\(c.offset),\"length\":\(c.length),\"old\":\(old),\"new\":\"\(hexString(c.new))\"}"
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

/// A JSON string literal.
func jsonString(_ s: String) -> String {
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

/// Reads and parses a layout file; a problem is a usage-style error (exit 2) naming the file and line.
func loadLayout(_ path: String) throws -> StructLayout {
    let text: String
    do { text = String(decoding: try readFile(path), as: UTF8.self) } catch {
        throw CommandError(message: "--layout: \(error.message)", code: 2)
    }
    do { return try StructLayout.parse(text) } catch {
        throw CommandError(message: "\(path): \(error)", code: 2)
    }
}
