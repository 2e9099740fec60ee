import ArgumentParser
import CShmShims
import Glibc
import ShmCore
import ShmCurses
import ShmTUI

/// `shmscope demo`: a Qt-compatible segment, a writer that behaves like a Qt peer, and the live view on it.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Try shmscope on live data: a Qt-compatible demo segment, a writer process, and the hex view.",
        discussion: """
            Creates the Qt key `shmscope-demo` (512 bytes, the layout in examples/demo.layout), starts a writer \
            process that, like a Qt peer, takes the segment's lock, updates a counter, a timestamp, a message and \
            a few floats several times a second, and releases the lock; then opens the live view. Press L to take \
            the lock yourself and watch the writer stall; q quits. On exit the writer stops and the segment, its \
            key files and its semaphore are removed.

            Examples:
              shmscope demo
              shmscope demo --writer-only &        # just the writer, for scripts
              shmscope list; shmscope dump shmscope-demo --length 128
            """)

    @Option(name: .long, help: "The Qt key of the demo segment.")
    var key = "shmscope-demo"

    @Flag(name: .long, help: "Run only the writer (until SIGINT/SIGTERM); the segment is created if missing.")
    var writerOnly = false

    @Option(name: .long, help: "Time between updates: 10ms...60s, e.g. 200ms, 1s (a bare number is milliseconds).")
    var interval = "200ms"

    @Option(
        name: .long,
        help: "How long the writer holds the lock for each update (a critical section): 0...10s, shorter than --interval (a bare number is milliseconds).")
    var hold = "40ms"

    func validate() throws {
        if try holdMS() >= intervalMS() { throw ValidationError("--hold must be shorter than --interval") }
        if key.isEmpty { throw ValidationError("--key must not be empty") }
    }

    private func intervalMS() throws -> Int {
        try usage { () throws(NumberSyntaxError) in try NumberParser.interval(interval, label: "--interval", in: 10...60_000) }
    }

    private func holdMS() throws -> Int {
        try usage { () throws(NumberSyntaxError) in try NumberParser.interval(hold, label: "--hold", in: 0...10_000) }
    }

    func run() throws {
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        KnownKeys.remember(key)
        if writerOnly {
            try runWriter(target)
            return
        }
        let memory = try createDemoSegment(target)
        try memory.detach()
        let writer = try spawnWriter()
        var code: Int32 = 0
        do {
            let source = try SharedMemorySource(target: target, readOnly: false)
            let session = HexSession(
                source: source, theme: .from(environment: tuiEnvironment()), intervalMS: 100, fixedBytesPerRow: nil)
            code = try runTUI(session, useColor: Theme.from(environment: tuiEnvironment()).useColor)
        } catch {
            stopWriter(writer)
            try? memory.remove()
            throw CommandError(message: "demo: \(error)")
        }
        stopWriter(writer)
        try? memory.remove()
        if code != 0 { throw ExitCode(code) }
    }

    /// Makes the demo segment, replacing a leftover from a demo that was killed (nobody attached).
    private func createDemoSegment(_ target: SegmentTarget) throws -> SharedMemory {
        let memory = SharedMemory(target, options: .init(detachPolicy: .keep))
        do {
            try memory.create(size: DemoRecord.size)
        } catch {
            guard error.kind == .alreadyExists else { throw error }
            if let entry = Catalog.scan(.init()).entry(for: target), entry.nattch > 0 {
                let who = entry.attached.map { "\($0.command)(\($0.pid))" }.joined(separator: ", ")
                throw CommandError(
                    message: "the demo segment \(target) is in use (\(who)): stop that demo, or pass --key OTHER")
            }
            try memory.remove()
            try memory.create(size: DemoRecord.size)
        }
        return memory
    }

    /// The writer runs as its own process, as a real peer would; it dies with us (PR_SET_PDEATHSIG) and must not
    /// draw on the terminal the view owns.
    private func spawnWriter() throws -> pid_t {
        let argv = [
            ChildProcess.ownExecutable, "demo", "--writer-only", "--key", key, "--interval", "\(try intervalMS())ms",
            "--hold", "\(try holdMS())ms",
        ]
        return try ChildProcess.spawn(argv, searchPath: false, silent: true)
    }

    private func stopWriter(_ pid: pid_t) {
        kill(pid, SIGTERM)
        _ = ChildProcess.wait(pid)
    }

    /// Updates the record under the lock every `interval` ms until SIGINT, SIGTERM or SIGHUP.
    private func runWriter(_ target: SegmentTarget) throws {
        let interval = try intervalMS()
        let hold = try holdMS()
        _ = shm_shim_set_parent_death_signal(SIGTERM)
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let memory = SharedMemory(target, options: .init(detachPolicy: .keep))
        var created = false
        do { try memory.attach(.readWrite) } catch {
            guard error.kind == .notFound else { throw error }
            try memory.create(size: DemoRecord.size)
            created = true
        }
        defer {
            try? memory.unlock()
            if created { try? memory.remove() } else { try? memory.detach() }
        }
        guard memory.size >= DemoRecord.size else {
            throw CommandError(message: "\(target) has \(memory.size) bytes; the demo needs \(DemoRecord.size)")
        }
        var histogram = try memory.read(offset: 120, count: 64)
        var counter = UInt64.littleEndianValue(try memory.read(offset: 8, count: 8))
        if created { Output.standard.print("demo writer: created \(target), pid \(getpid())") }
        Output.standard.flush()
        while true {
            if try memory.tryLock(timeout: .milliseconds(Int64(interval))) {
                counter += 1
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                let record = DemoRecord(
                    counter: counter, timeNanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec),
                    writerPID: UInt32(getpid()), intervalMS: UInt32(interval))
                for (offset, bytes) in record.encode(histogram: histogram) {
                    try memory.write(bytes, at: offset)
                    if offset == 120 { histogram = bytes }
                }
                // Hold the lock a little, as a peer with a real critical section does.
                if hold > 0, waitForSignal(signals, milliseconds: hold) != nil {
                    try memory.unlock()
                    return
                }
                try memory.unlock()
            }
            if waitForSignal(signals, milliseconds: interval - hold) != nil { return }
        }
    }

    /// Waits up to `milliseconds` for one of `signals`; returns it, or nil when the time passed.
    private func waitForSignal(_ signals: sigset_t, milliseconds: Int) -> Int32? {
        var set = signals
        var ts = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        let sig = sigtimedwait(&set, nil, &ts)
        return sig > 0 ? sig : nil
    }
}

extension UInt64 {
    static func littleEndianValue(_ bytes: [UInt8]) -> UInt64 {
        bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}
