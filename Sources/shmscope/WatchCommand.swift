import ArgumentParser
import Glibc
import ShmCore
import ShmCurses
import ShmTUI

/// `shmscope watch TARGET`: the hex view attached read-only, or with `--log` a headless change log.
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch a segment read-only: the live hex view, or with --log one line per change.",
        discussion: """
            The segment is mapped read-only (SHM_RDONLY, or O_RDONLY + PROT_READ): nothing can be written through it.

            --log prints one line per changed run of bytes, flushed at once: TIME OFFSET LENGTH OLD NEW FIELD, e.g. `2026-11-27T01:30:00.123Z 0x00000010 5 68656c6c6f 776f726c64 message`; FIELD is the --layout field the run belongs to (a layout file, or the peer's header with --struct: `temps[2]` for an array element, `hdr.state` in a nested struct; a run that spans fields is split at their boundaries), or `-`; and one line per event: `TIME event removed`, `resized FROM TO`, `reattached SIZE` or `detached REASON`. With --json, one NDJSON object per line (README "watch").

            OLD is `?` (null in JSON) when the block was not in the 32 MiB cache of block contents: the run is then the whole 4 KiB block, and later changes to it are exact.

            The whole segment (or --range) is scanned every interval; after each scan it sleeps at least four times as long as the scan took, so scanning stays under 20% of a core. SIGINT, SIGTERM, SIGHUP and a closed pipe end the log with status 0.

            --until COND stops at the first poll where COND holds (e.g. `state == 3`, `u32@0x40 != 0`, `changed(counter) && counter >= 1000`; README "Data breakpoints"), prints the hit and exits 0; it exits 1 when --duration or --count end first. --freeze then holds the segment's lock (an existing one; never created) until Enter or --hold ends; --exec runs `sh -c CMD` with SHMSCOPE_HIT_TIME, SHMSCOPE_HIT_OFFSET, SHMSCOPE_HIT_FIELDS and SHMSCOPE_HIT_PIDS set. --record FILE writes every change into a compressed recording for `shmscope replay`. Both run without the hex view; --log adds change lines.

            Examples:
              shmscope watch SharedMemory_Key
              shmscope watch /psm_1234 --log --json | jq .
              shmscope watch shmid:30 --log --range 0x100:64 --count 10
              shmscope watch SharedMemory_Key --layout peer.layout --until 'state == 3' --freeze --hold 10s
              shmscope watch SharedMemory_Key --record run.shmrec --duration 1m
            """)

    @OptionGroup var target: TargetOptions

    @Flag(name: .long, help: "Print changes instead of opening the hex view.")
    var log = false

    @Flag(name: .long, help: "With --log: one JSON object per line (NDJSON).")
    var json = false

    @Option(name: .long, help: "With --log: watch only OFF:LEN (e.g. 0x100:64, 4K:1K).")
    var range: String?

    @Option(name: .long, help: "With --log, --until or --record: stop after N changes.")
    var count: String?

    @Option(name: .long, help: "With --log, --until or --record: stop after this long: 500ms, 30s, 5m, 1h (a bare number is seconds).")
    var duration: String?

    @OptionGroup var debugging: WatchDebuggingOptions

    @OptionGroup var view: HexViewOptions

    func validate() throws {
        try target.refuseNoLock(in: "watch")
        _ = try changeLimit()
        _ = try timeLimit()
        _ = try watchedRange()
        try debugging.validate()
        if json && !log { throw ValidationError("--json goes with --log") }
        if !log && !debugging.isHeadless && (range != nil || count != nil || duration != nil) {
            throw ValidationError("--range, --count and --duration go with --log, --until or --record")
        }
        if log && view.bytesPerRow != nil {
            throw ValidationError("--bytes-per-row is for the hex view; --log prints changed runs, not rows")
        }
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

    func run() throws {
        if !log && !debugging.isHeadless {
            requireTerminal("watch", hint: "; add --log for a change log on stdout")
            // The same view as `open`, attached read-only.
            runHexView(try view.composer(context: try target.context()), target: try target.parsedTarget(), readOnly: true)
            return
        }
        let layout = try view.layouts.load()
        let memory = try target.memory()
        try memory.attach(.readOnly)
        let (offset, length) = try watchedRange().map { ($0.offset, Optional($0.length)) } ?? (0, nil)
        guard offset < max(1, memory.size) else {
            throw CommandError(
                message: "--range starts at \(offset), past the end of the segment (\(memory.size) bytes)")
        }
        let watcher = SegmentWatcher(memory: memory, rangeOffset: offset, rangeLength: length)
        let settings = WatchLog.Settings(
            interval: Double(try view.intervalMS()) / 1000, count: try changeLimit(),
            duration: try timeLimit().map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 },
            json: json, layout: layout, printsLines: log)
        let watchLog = WatchLog(watcher: watcher, settings: settings)
        if debugging.isHeadless {
            try debugging.run(
                watchLog, memory: memory, resolved: try target.resolved(), layout: layout, interval: try view.intervalMS())
        }
        runLog(watchLog)
    }

    /// The exit signals are blocked and taken synchronously by the pacing wait, so a scan is never cut short and
    /// the log always ends after a whole line. SIGINT, SIGTERM, SIGHUP and a closed pipe end it with status 0.
    func runLog(_ log: WatchLog) -> Never {
        var signals = sigset_t()
        sigemptyset(&signals)
        for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, sig) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let out = Output.standard
        log.run(
            write: { line in
                out.print(line)
                out.flush()
                return true
            },
            wait: { pause in
                if stdoutReaderGone() { return true }
                var timeout = timespec(tv_sec: Int(pause), tv_nsec: Int((pause - pause.rounded(.down)) * 1e9))
                return sigtimedwait(&signals, nil, &timeout) > 0
            })
        out.flush()
        Glibc.exit(0)
    }

    /// A pipe whose reader went away (`| head -n 1`) shows POLLERR on our end; notice it even when nothing changes.
    private func stdoutReaderGone() -> Bool {
        var pfd = pollfd(fd: 1, events: 0, revents: 0)
        return poll(&pfd, 1, 0) > 0 && pfd.revents & Int16(POLLERR) != 0
    }
}

/// Reads and parses a layout file; a problem is a usage-style error (exit 2) naming the file and line.
func loadLayout(_ path: String) throws -> StructLayout {
    let text: String
    do { text = String(decoding: try readFile(path, limit: 1 << 20), as: UTF8.self) } catch {
        throw CommandError(message: "--layout: \(error.message)", code: 2)
    }
    do { return try StructLayout.parse(text) } catch {
        throw CommandError(message: "\(path): \(error)", code: 2)
    }
}
