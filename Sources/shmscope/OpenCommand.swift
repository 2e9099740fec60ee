import ArgumentParser
import Glibc
import ShmCore
import ShmCurses
import ShmTUI

/// `shmscope open TARGET`: the live hex view.
struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Watch and edit one segment in a live hex view.",
        discussion: """
            Keys: F1 inside the view. Opens in view mode, attached read-only: no key writes. e (or Insert) enters \
            edit mode and L locks, re-attaching read-write then; edits are staged, and F8, Ctrl-S or :w opens a \
            commit dialog (bytes, offsets, lock, attached processes) where y writes (! without a lock). u undoes \
            the last commit. --read-only forbids edit mode and L.
            """ + "\n\n" + hexViewKeysHelp)

    /// The hex view's keys for --help and the man page: the very lines the F1 overlay shows (one table), with arrows
    /// spelled out, as the man page generator drops characters outside ASCII.
    static let hexViewKeysHelp =
        "KEYS (the hex view of open, watch, demo and the browser's Enter; F1 shows them too):\n"
        + helpLines.map { "  " + asciiKeyNames($0) }.joined(separator: "\n")

    static func asciiKeyNames(_ line: String) -> String {
        let names: [Character: String] = ["←": "Left", "→": "Right", "↑": "Up", "↓": "Down", "…": "..."]
        return line.reduce(into: "") { out, c in
            if let name = names[c] { out += name } else if c.isASCII { out.append(c) } else { out += "?" }
        }
    }

    @OptionGroup var target: TargetOptions

    @Flag(name: .long, help: "Never write: edit mode and locking are refused (the view attaches read-only anyway).")
    var readOnly = false

    @OptionGroup var view: HexViewOptions

    func validate() throws {
        if readOnly { try target.refuseNoLock(in: "open --read-only") }
    }

    func run() throws {
        requireTerminal("open")
        let composer = try view.composer(context: try target.context())
        runHexView(composer, target: try target.parsedTarget(), readOnly: readOnly)
    }
}

/// The options of every route into the hex view (`open`, `watch`, `browse`): refresh interval, bytes per row and a
/// layout (a layout file or the peer's header) for the layout pane, the tint and field names.
struct HexViewOptions: ParsableArguments {
    @Option(name: .long, help: "Refresh interval: 10ms...60s, e.g. 100ms, 1s (a bare number is milliseconds).")
    var interval = "100ms"

    @Option(name: .long, help: "Bytes per row: 4, 8, 16 or 32 (default: fit the terminal width).")
    var bytesPerRow: String?

    @OptionGroup var layouts: LayoutOptions

    func validate() throws {
        _ = try intervalMS()
        _ = try rowWidth()
    }

    func intervalMS() throws -> Int {
        try usage { () throws(NumberSyntaxError) in
            try NumberParser.interval(interval, label: "--interval", in: 10...60_000)
        }
    }

    func rowWidth() throws -> Int? {
        guard let bytesPerRow else { return nil }
        let n = try usage { () throws(NumberSyntaxError) in
            try NumberParser.count(bytesPerRow, label: "--bytes-per-row")
        }
        guard HexLayout.choices.contains(n) else {
            throw ValidationError("--bytes-per-row must be 4, 8, 16 or 32, got \(n)")
        }
        return n
    }

    /// The one composition of the hex view, with these options and the route's target context.
    func composer(context: TargetContext) throws -> HexViewComposer {
        HexViewComposer.live(
            theme: .from(environment: tuiEnvironment()),
            settings: HexViewSettings(intervalMS: try intervalMS(), bytesPerRow: try rowWidth()),
            layout: try layouts.load().map { .given($0) } ?? .none, context: context)
    }
}

/// Builds the view of `target` through the composer and runs it; a target that cannot be opened is one line and
/// exit 1.
func runHexView(_ composer: HexViewComposer, target: SegmentTarget, readOnly: Bool) {
    let session: HexSession
    do { session = try composer.session(for: target, readOnly: readOnly) } catch {
        tuiFail(.runtime("\(error)"))
    }
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

/// The terminal UI reads keys from stdin and draws on stdout: without a terminal on both it could only spin, so a
/// TUI command refuses at once (exit 2, one line), before it attaches or makes anything.
func requireTerminal(_ command: String, hint: String = "") {
    guard isatty(0) == 1, isatty(1) == 1 else {
        tuiFail(.usage("`\(command)` is a terminal UI: run it in a terminal (stdin and stdout are not one)\(hint)"))
    }
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
    let line = "shmscope: \(error.description.terminalSafe())\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    switch error {
    case .usage: exit(2)
    case .runtime: exit(1)
    }
}

/// The process environment (for `NO_COLOR`).
func tuiEnvironment() -> [String: String] { processEnvironment() }
