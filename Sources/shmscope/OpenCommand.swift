import ArgumentParser
import Glibc
import ShmCore
import ShmCurses
import ShmTUI

/// `shmscope open TARGET`: the live hex view.
struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch and edit one segment in a live hex view.",
        discussion: "Keys: ? or F1 inside the view. Read-write by default; L locks, edits are staged, w writes."
    )

    @Argument(help: "The segment: KEY, qt:KEY, qt-posix:KEY, qt6:KEY, qt6-sysv:KEY, /name, sysv:0xKEY or shmid:N.")
    var target: String

    @Flag(name: .long, help: "Attach read-only: nothing can be written or locked.")
    var readOnly = false

    @Option(name: .long, help: "Refresh interval: 10ms...10s, e.g. 100ms, 1s (a bare number is milliseconds).")
    var interval = "100ms"

    @Option(name: .long, help: "Bytes per row: 4, 8, 16 or 32 (default: fit the terminal width).")
    var bytesPerRow: String?

    func validate() throws {
        _ = intervalMS()
        _ = rowWidth()
        do { _ = try SegmentTarget.parse(target) } catch { tuiFail(.usage(error.message)) }
    }

    private func intervalMS() -> Int {
        do { return try NumberParser.interval(interval, label: "--interval", in: 10...10_000) } catch {
            tuiFail(.usage(error.message))
        }
    }

    private func rowWidth() -> Int? {
        guard let bytesPerRow else { return nil }
        let n: Int
        do { n = try NumberParser.count(bytesPerRow, label: "--bytes-per-row") } catch { tuiFail(.usage(error.message)) }
        guard HexLayout.choices.contains(n) else { tuiFail(.usage("--bytes-per-row must be 4, 8, 16 or 32, got \(n)")) }
        return n
    }

    @Option(name: .long, help: "A layout file: show its fields as a live table (see README \"Layouts\").")
    var layout: String?

    func run() throws {
        let structLayout = try layout.map(loadLayout)
        let parsed: SegmentTarget
        do { parsed = try SegmentTarget.parse(target) } catch { tuiFail(.usage(error.message)) }
        let source: SharedMemorySource
        do { source = try SharedMemorySource(target: parsed, readOnly: readOnly) } catch {
            tuiFail(.runtime(error.description))
        }
        runHexView(source: source, interval: intervalMS(), bytesPerRow: rowWidth(), layout: structLayout)
    }
}

/// The hex view of `open` and `watch` over one source.
/// The who pane asks the catalog (a /proc scan) about the target; the session calls it at most once a second.
func runHexView(source: SharedMemorySource, interval: Int, bytesPerRow: Int?, layout: StructLayout?) {
    let target = source.memory.target
    let session = HexSession(
        source: source, theme: .from(environment: tuiEnvironment()), intervalMS: interval,
        fixedBytesPerRow: bytesPerRow, layout: layout,
        whoProvider: { WhoInfo(entry: Catalog.scan(.init()).entry(for: target)) })
    runTerminalProgram(session)
}

/// Runs a TUI program and turns its end into the process exit code: 0, 1 with one line on stderr, or 128+signal.
/// By the time `runTUI` returns, the terminal is restored and the lock released, so exiting at once is safe.
func runTerminalProgram(_ program: any TUIProgram) {
    let code: Int32
    do { code = try runTUI(program, useColor: Theme.from(environment: tuiEnvironment()).useColor) } catch {
        tuiFail(.runtime("\(error)"))
    }
    if code != 0 { exit(code) }
}

/// Failures of the TUI commands: one line on stderr, exit 2 for usage and 1 for runtime errors.
enum TUICommandFailure {
    case usage(String)
    case runtime(String)
}

extension TUICommandFailure: CustomStringConvertible {
    var description: String {
        switch self {
        case .usage(let m), .runtime(let m): m
        }
    }
}

/// Prints one line on stderr and exits: 2 for usage errors, 1 for runtime errors. ArgumentParser would add usage
/// text and use its own codes, so TUI commands report their own failures.
func tuiFail(_ error: TUICommandFailure) -> Never {
    let line = "shmscope: \(error.description)\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    switch error {
    case .usage: exit(2)
    case .runtime: exit(1)
    }
}

/// The process environment (for `NO_COLOR`).
func tuiEnvironment() -> [String: String] { processEnvironment() }
