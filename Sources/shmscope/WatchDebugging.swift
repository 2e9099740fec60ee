import ArgumentParser
import Glibc
import ShmCore

/// `watch --until/--freeze/--hold/--exec` (a data breakpoint) and `--record/--force/--record-limit` (a recording):
/// both run headless on the one `WatchLog` loop, as observers of what it sees.
struct WatchDebuggingOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Stop when COND holds, print the hit and exit 0 (1 when --duration/--count end first).",
            discussion: "e.g. 'state == 3', 'u32@0x40 != 0', 'changed(counter) && counter >= 1000'.",
            valueName: "COND"))
    var until: String?

    @Flag(
        name: .long,
        help: "With --until: on a hit, take the segment's lock (an existing one) and hold it until Enter or --hold.")
    var freeze = false

    @Option(
        name: .long, help: "With --freeze: release the lock after this long: 500ms, 10s, 1m (a bare number is seconds)."
    )
    var hold: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --until: on a hit run `sh -c CMD` with SHMSCOPE_HIT_TIME, SHMSCOPE_HIT_OFFSET, SHMSCOPE_HIT_FIELDS, SHMSCOPE_HIT_PIDS set.",
            valueName: "CMD"))
    var exec: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Record the starting contents and every change into FILE (compressed; `shmscope replay FILE`).",
            valueName: "FILE"))
    var record: String?

    @Flag(
        name: .long,
        help: "With --record: replace FILE when it is an earlier recording (anything else is never replaced).")
    var force = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --record: at most this many bytes of changes per second (default 1M); past it a gap marker and the whole segment are recorded.",
            valueName: "SIZE"))
    var recordLimit: String?

    /// `--until` or `--record`: no hex view.
    var isHeadless: Bool { until != nil || record != nil }

    func validate() throws {
        if until == nil && (freeze || hold != nil || exec != nil) {
            throw ValidationError("--freeze, --hold and --exec go with --until")
        }
        if hold != nil && !freeze { throw ValidationError("--hold goes with --freeze") }
        if record == nil && (force || recordLimit != nil) {
            throw ValidationError("--force and --record-limit go with --record")
        }
        if freeze && hold == nil && isatty(0) != 1 {
            throw ValidationError(
                "--freeze without a terminal needs --hold (nobody could press Enter to release the lock)")
        }
        if let until, until.trimmingSpaces().isEmpty { throw ValidationError("--until: empty condition") }
        _ = try holdDuration()
        _ = try limit()
    }

    func holdDuration() throws -> Duration? {
        guard let hold else { return nil }
        return try usage { () throws(NumberSyntaxError) in
            try NumberParser.duration(hold, label: "--hold", defaultUnit: .seconds, in: .zero...longestWait)
        }
    }

    func limit() throws -> Int {
        guard let recordLimit else { return 1 << 20 }
        return try usage { () throws(NumberSyntaxError) in
            try NumberParser.size(recordLimit, label: "--record-limit", in: 1024...(1 << 34))
        }
    }

    /// Runs the log loop with the breakpoint and the recorder watching; never returns.
    func run(
        _ log: WatchLog, memory: SharedMemory, resolved: ResolvedTarget, layout: StructLayout?, interval: Int
    ) throws -> Never {
        var breakpoint: WatchBreakpoint?
        if let until {
            let evaluator: ConditionEvaluator
            do {
                evaluator = try ConditionEvaluator(parsing: until, fields: layout ?? StructLayout(fields: []))
            } catch {
                throw CommandError(message: "--until: \(error)", code: 2)
            }
            breakpoint = WatchBreakpoint(evaluator, segment: log.watcher.segment)
        }
        if freeze {
            // Never create a lock to freeze with: a peer that does not use it would not stop anyway.
            guard memory.hasLock else {
                throw CommandError(
                    message: "--freeze: \(memory.target) has no lock of its own: name its semaphore set with --sem")
            }
            guard memory.lockState() != nil else {
                throw CommandError(
                    message:
                        "--freeze: \(memory.target) has no lock object (no peer has created one): nothing to freeze with"
                )
            }
        }
        let who = { () -> RecordedWho? in recordedWho(resolved) }
        var recorder: WatchRecorder?
        if let record {
            let writer = try RecordingWriter(path: record, force: force)
            try writer.append(
                .header(
                    target: memory.target.description, kind: memory.target.kindName, time: wallClockSeconds(),
                    intervalMS: interval))
            recorder = WatchRecorder(
                writer: writer, segment: log.watcher.segment, limit: try limit(),
                onGap: { message in
                    Output.errors.print(message)
                    Output.errors.flush()
                }, who: who)
        }
        var signals = sigset_t()
        sigemptyset(&signals)
        for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, sig) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let out = Output.standard
        let observers: [any WatchObserver] = [recorder as (any WatchObserver)?, breakpoint].compactMap { $0 }
        let reason = log.run(
            write: { line in
                out.print(line)
                out.flush()
                return true
            },
            wait: { pause in
                var timeout = timespec(tv_sec: Int(pause), tv_nsec: Int((pause - pause.rounded(.down)) * 1e9))
                return sigtimedwait(&signals, nil, &timeout) > 0
            }, observer: WatchObservers(observers))
        out.flush()
        let hit = breakpoint?.hit
        if let recorder {
            let why: String
            switch reason {
            case .limit: why = log.settings.count != nil ? "count" : "duration"
            case .stopped: why = "signal"
            case .observer: why = hit != nil ? "breakpoint" : "error"
            }
            if hit != nil { recorder.recordWho(time: hit!.time) }
            do { try recorder.finish(time: wallClockSeconds(), reason: why) } catch {
                throw CommandError(message: "--record: \(error.message)")
            }
            Output.errors.print(
                "recorded \(recorder.changes) change\(recorder.changes == 1 ? "" : "s")"
                    + (recorder.gaps > 0 ? " (\(recorder.gaps) gap\(recorder.gaps == 1 ? "" : "s"))" : "")
                    + " into \(record!) (\(recorder.writer.fileBytes) bytes)"
            )
            Output.errors.flush()
        }
        guard let breakpoint else { Glibc.exit(0) }
        guard let hit else {
            let what =
                reason == .limit
                ? (log.settings.count != nil ? "within --count" : "within --duration") : "before the watch was stopped"
            throw CommandError(message: "--until: `\(breakpoint.evaluator.text)` did not hold \(what)")
        }
        try report(
            hit: hit, evaluator: breakpoint.evaluator, memory: memory, who: who(), signals: signals,
            json: log.settings.json)
        Glibc.exit(0)
    }

    private func report(
        hit: (time: Double, values: [ConditionValue]), evaluator: ConditionEvaluator, memory: SharedMemory,
        who: RecordedWho?, signals: sigset_t, json: Bool
    ) throws {
        let out = Output.standard
        let fields = hit.values.map { ($0.display).terminalSafe() }.joined(separator: " ")
        if json {
            // With --log --json the hit is one more NDJSON object, so a `jq` reading the log reads it too.
            let values = hit.values.map { "\(jsonString($0.name)):\(jsonString($0.text))" }.joined(separator: ",")
            let pids = who?.attached.map { "{\"pid\":\($0.pid),\"command\":\(jsonString($0.command))}" }
            let lastPID = who?.lastPID.map(String.init) ?? "null"
            out.print(
                "{\"time\":\"\(iso8601(hit.time))\",\"type\":\"hit\",\"condition\":\(jsonString(evaluator.text)),\"values\":{\(values)},\"attached\":\(pids.map { "[" + $0.joined(separator: ",") + "]" } ?? "null"),\"last_pid\":\(lastPID)}"
            )
        } else {
            out.print("hit \(iso8601(hit.time)) \((evaluator.text).terminalSafe()): \(fields)")
            out.print("attached: \((who?.attachedText ?? "unknown").terminalSafe())")
            let last = who?.lastPID.map { pid in "\(pid)" + " (\(ProcessInfoReader.command(pid: pid).terminalSafe()))" }
            out.print("last pid: \(last ?? "unknown")")
        }
        out.flush()
        var held = false
        if freeze {
            held = try takeLock(memory, signals: signals)
            if held {
                out.print(
                    "frozen: holding the lock of \(memory.target)" + (hold == nil ? "; press Enter to release" : ""))
                out.flush()
            }
        }
        if let exec {
            setenv("SHMSCOPE_HIT_TIME", iso8601(hit.time), 1)
            setenv("SHMSCOPE_HIT_OFFSET", hit.values.first.map { "0x" + String($0.offset, radix: 16) } ?? "", 1)
            setenv("SHMSCOPE_HIT_FIELDS", hit.values.map(\.display).joined(separator: " "), 1)
            setenv("SHMSCOPE_HIT_PIDS", who?.attached.map { String($0.pid) }.joined(separator: " ") ?? "", 1)
            let status = ChildProcess.wait(
                try ChildProcess.spawn(["/bin/sh", "-c", exec], searchPath: false, silent: false))
            if status != 0 {
                Output.errors.print("--exec: the command exited with status \(status)")
                Output.errors.flush()
            }
        }
        if held {
            waitForRelease(signals: signals)
            try? memory.unlock()
            out.print("released")
            out.flush()
        }
    }

    /// Takes the lock as soon as it is free (a peer may hold it for a moment); false when a signal came first.
    private func takeLock(_ memory: SharedMemory, signals: sigset_t) throws -> Bool {
        var told = false
        while true {
            do {
                if try memory.tryLock(timeout: .milliseconds(100)) { return true }
            } catch {
                throw CommandError(message: "--freeze: \(error.message)")
            }
            if !told {
                let holder = memory.lockState()?.lastPID.map { " (held by pid \($0))" } ?? ""
                Output.errors.print("--freeze: waiting for the lock\(holder)")
                Output.errors.flush()
                told = true
            }
            var set = signals
            var zero = timespec(tv_sec: 0, tv_nsec: 0)
            if sigtimedwait(&set, nil, &zero) > 0 { return false }
        }
    }

    /// Until Enter (on a terminal), `--hold` ends, or a signal.
    private func waitForRelease(signals: sigset_t) {
        let end = (try? holdDuration())?.map { ContinuousClock.now + $0 }
        let terminal = isatty(0) == 1
        while true {
            if let end, ContinuousClock.now >= end { return }
            if terminal {
                var pfd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 0) > 0 {
                    var byte: UInt8 = 0
                    let n = read(0, &byte, 1)
                    if n <= 0 || byte == 10 || byte == 13 { return }
                }
            }
            var set = signals
            var slice = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            if sigtimedwait(&set, nil, &slice) > 0 { return }
        }
    }
}

/// Who is attached to the target now, for a hit and a recording.
func recordedWho(_ resolved: ResolvedTarget) -> RecordedWho? {
    guard let entry = resolved.scanEntry().entry else { return nil }
    return RecordedWho(
        attached: entry.attached.map {
            .init(pid: $0.pid, command: $0.command, uid: $0.uid, readWrite: $0.access == .readWrite)
        }, lastPID: entry.lpid,
        lock: entry.lock?.summary)
}

extension Output {
    /// Standard error, for the notes of a headless watch (a gap, a wait for the lock) that must not mix with stdout.
    nonisolated(unsafe) static let errors = Output(fd: 2)
}
