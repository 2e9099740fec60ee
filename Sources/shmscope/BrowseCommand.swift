import ArgumentParser
import ShmCore
import ShmTUI

/// `shmscope` with no arguments: the segment browser.
struct Browse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "browse",
        abstract: "Browse all shared-memory segments and open one (the default command).",
        discussion: """
            Enter opens the view (attached read-only; e or L in it re-attaches read-write), r opens it read-only \
            (never writes), / filters, o opens a target by name, ? lists keys. A segment \
            opened here gets the same view as `open`: the Who pane, --layout, --interval and --bytes-per-row. \
            --key names Qt keys so their segments show (and open with) their real names and locks; --tmpdir is \
            where Qt key files are looked for.
            """
    )

    @OptionGroup var resolution: TargetContextOptions

    @OptionGroup var view: HexViewOptions

    func validate() throws {
        if resolution.sem != nil {
            throw ValidationError(
                "--sem names the lock of one raw System V segment: use `shmscope open shmid:N --sem …`")
        }
    }

    func run() throws {
        requireTerminal("browse")
        let context = try resolution.context()
        let session = BrowserSession(
            views: try view.composer(context: context), directory: CatalogDirectory(context: context))
        runTerminalProgram(session)
    }
}
