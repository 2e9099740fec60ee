import ArgumentParser
import ShmCore
import ShmTUI

/// `shmscope` with no arguments: the segment browser.
struct Browse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Browse all shared-memory segments and open one (the default command).",
        discussion: "Enter attaches read-write, r read-only, / filters, o opens a target by name, ? lists keys."
    )

    @Option(
        name: .long,
        help: "Refresh interval of segments opened from the browser: 10ms...10s, e.g. 100ms, 1s (a bare number is milliseconds).")
    var interval = "100ms"

    func validate() throws { _ = intervalMS() }

    private func intervalMS() -> Int {
        do { return try NumberParser.interval(interval, label: "--interval", in: 10...10_000) } catch {
            tuiFail(.usage(error.message))
        }
    }

    func run() throws {
        let session = BrowserSession(
            theme: .from(environment: tuiEnvironment()), intervalMS: intervalMS(), provider: scanBrowserRows,
            opener: { target, readOnly in try SharedMemorySource(target: target, readOnly: readOnly) })
        runTerminalProgram(session)
    }
}
