import ArgumentParser
import ShmCore
import ShmTUI

/// `shmscope` with no arguments: the segment browser.
struct Browse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Browse all shared-memory segments and open one (the default command).",
        discussion: "Enter attaches read-write, r read-only, / filters, o opens a target by name, ? lists keys."
    )

    @Option(name: .long, help: "Refresh interval in milliseconds for segments opened from the browser (10...10000).")
    var interval = 100

    func validate() throws {
        guard (10...10_000).contains(interval) else {
            tuiFail(.usage("--interval must be between 10 and 10000 ms, got \(interval)"))
        }
    }

    func run() throws {
        let session = BrowserSession(
            theme: .from(environment: tuiEnvironment()), intervalMS: interval, provider: scanBrowserRows,
            opener: { target, readOnly in try SharedMemorySource(target: target, readOnly: readOnly) })
        runTerminalProgram(session)
    }
}
