import ArgumentParser
import CShmShims
import Glibc
import ShmCore
import ShmCurses
import ShmTUI

/// `shmscope demo`: a Qt-compatible segment, a writer that behaves like a Qt peer, and the live view on it.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Try shmscope on live data: a Qt-compatible demo segment, a writer process, and the hex view.",
        discussion: """
            Creates the Qt key `shmscope-demo` (512 bytes; its layout is built in: press t), starts a writer \
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

    @Flag(
        name: .long,
        help: "Run only the writer, for scripts: it runs until SIGINT/SIGTERM/SIGHUP (it outlives the shell that started it unless --die-with-parent), shows as `demo-writer` in ps, list and the Who pane, and creates the segment if missing.")
    var writerOnly = false

    @Flag(name: .long, help: "With --writer-only: end when the process that started it ends (the demo's own writer).")
    var dieWithParent = false

    @Option(name: .long, help: "Time between updates: 10ms...60s, e.g. 200ms, 1s (a bare number is milliseconds).")
    var interval = "200ms"

    @Option(
        name: .long,
        help: "How long the writer holds the lock for each update (a critical section): 0...10s, shorter than --interval (a bare number is milliseconds).")
    var hold = "40ms"

    func validate() throws {
        if try holdMS() >= intervalMS() { throw ValidationError("--hold must be shorter than --interval") }
        if key.isEmpty { throw ValidationError("--key must not be empty") }
        if dieWithParent && !writerOnly { throw ValidationError("--die-with-parent goes with --writer-only") }
    }

    private func intervalMS() throws -> Int {
        try usage { () throws(NumberSyntaxError) in try NumberParser.interval(interval, label: "--interval", in: 10...60_000) }
    }

    private func holdMS() throws -> Int {
        try usage { () throws(NumberSyntaxError) in try NumberParser.interval(hold, label: "--hold", in: 0...10_000) }
    }

    func run() throws {
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        let writer = DemoWriter(target: target, intervalMS: try intervalMS(), holdMS: try holdMS())
        if writerOnly {
            // Named apart from the viewer, so "held by pid N (demo-writer)" never looks like yourself; the demo's
            // own writer dies with the demo that started it (a script's writer outlives its shell unless asked).
            _ = shm_shim_set_process_name("demo-writer")
            if dieWithParent { _ = shm_shim_set_parent_death_signal(SIGTERM) }
            try writer.run { created in
                Output.standard.print("demo writer: created \(created), pid \(getpid())")
                Output.standard.flush()
            }
            return
        }
        requireTerminal("demo")
        let memory: SharedMemory
        do { memory = try writer.createSegment() } catch { throw CommandError(message: error.description) }
        KnownKeys.remember(key)
        try memory.detach()
        let writerPID = try spawnWriter()
        var code: Int32 = 0
        do {
            // The same composition as `open`, with the demo record's own layout built in.
            let composer = HexViewComposer.live(
                theme: .from(environment: tuiEnvironment()), settings: HexViewSettings(),
                layout: .given(DemoRecord.layout), context: TargetContext())
            let session = try composer.session(for: ResolvedTarget(target: target), readOnly: false)
            code = try runTUI(session, useColor: composer.theme.useColor)
        } catch {
            stopWriter(writerPID)
            try? memory.remove()
            throw CommandError(message: "demo: \(error)")
        }
        stopWriter(writerPID)
        try? memory.remove()
        if code != 0 { throw ExitCode(code) }
    }

    /// The writer runs as its own process, as a real peer would; it dies with us (PR_SET_PDEATHSIG) and must not
    /// draw on the terminal the view owns.
    private func spawnWriter() throws -> pid_t {
        let argv = [
            ChildProcess.ownExecutable, "demo", "--writer-only", "--die-with-parent", "--key", key, "--interval", "\(try intervalMS())ms",
            "--hold", "\(try holdMS())ms",
        ]
        return try ChildProcess.spawn(argv, searchPath: false, silent: true)
    }

    private func stopWriter(_ pid: pid_t) {
        kill(pid, SIGTERM)
        _ = ChildProcess.wait(pid)
    }
}
