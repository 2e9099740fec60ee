import ArgumentParser
import ShmCore

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every segment: System V, POSIX and Qt keys, with attached processes and lock state.",
        discussion: """
            Qt segments are labelled with their real key when a known key hashes to their name (keys you opened \
            before, --key, SHMSCOPE_KEYS, ~/.local/state/shmscope/keys); otherwise with their letters and a \
            short hash.

            The table fits the terminal's width (COLUMNS, else the terminal, else 80 columns): perms, owner and \
            id are dropped first; then the key, the lock and the attached list are cut (with …, or +N for more \
            processes); then the attach count, size and kind go before those are cut any shorter. Columns named \
            with -o are never dropped. --json has every field, uncut.
            """ + "\n\n" + columnHelp + "\n\n" + """
            Examples:
              shmscope list
              shmscope list -o KEY,SIZE,LOCK --noheadings --bytes
              shmscope list -o +UID,CPID
              shmscope list --kind qt --key SharedMemory_Key
              shmscope list --json | jq '.segments[] | select(.nattch > 0)'
            """)

    /// The COLUMNS section of --help, from the table's own column list.
    static var columnHelp: String {
        let width = CatalogColumn.all.map(\.name.count).max() ?? 0
        return "COLUMNS (default: \(CatalogColumn.defaultNames.joined(separator: ",")))\n"
            + CatalogColumn.all.map { "  " + $0.name.padded(to: width) + "  " + $0.summary }.joined(separator: "\n")
    }

    @Flag(name: .long, help: "Print JSON (schema 1, see README).")
    var json = false

    @Option(
        name: .long, help: "Only this kind: qt, qt-posix, qt6, qt6-sysv, sysv or posix.",
        completion: .list(["qt", "qt-posix", "qt6", "qt6-sysv", "sysv", "posix"]))
    var kind: String?

    @Flag(name: .long, help: "Also list semaphore sets and POSIX semaphores.")
    var all = false

    @Option(name: .long, help: "A Qt key you know, so its segment shows its real name (repeatable).")
    var key: [String] = []

    @Option(
        name: .long, help: "Qt's temp dir for key files (default: $TMPDIR resolved, or /tmp).",
        completion: .directory)
    var tmpdir: String?

    @Option(
        name: [.customShort("o"), .long],
        help: ArgumentHelp(
            "The columns to print, comma-separated (KEY,SIZE,LOCK); +LIST adds to the default ones (see COLUMNS above).",
            valueName: "COLUMNS"),
        completion: .list(CatalogColumn.all.map(\.name)))
    var output: String?

    @Flag(name: .long, help: "Print no heading line.")
    var noheadings = false

    @Flag(name: .long, help: "Print sizes in bytes (default: human-readable, 4 KiB).")
    var bytes = false

    func validate() throws {
        if key.contains(where: \.isEmpty) { throw ValidationError("--key must not be empty") }
        if let tmpdir, tmpdir.isEmpty { throw ValidationError("--tmpdir must not be empty") }
        if let output { _ = try parsedColumns(output) }
        if json && (output != nil || noheadings || bytes) {
            throw ValidationError("-o, --noheadings and --bytes shape the table; --json prints every field")
        }
        if let kind, CatalogEntry.Kind(rawValue: kind) == nil || kind.hasSuffix("-sem") {
            throw ValidationError("--kind must be qt, qt-posix, qt6, qt6-sysv, sysv or posix, not `\(kind)`")
        }
    }

    private func parsedColumns(_ text: String) throws -> [CatalogColumn] {
        do { return try CatalogColumn.parseList(text) } catch { throw ValidationError(error.message) }
    }

    func run() throws {
        let catalog = Catalog.scan(
            .init(
                temporaryDirectory: tmpdir.map { QtNaming.tempPath(environment: ["TMPDIR": $0]) },
                knownKeys: KnownKeys.load(extra: key), includeSemaphores: all))
        let entries = catalog.entries.filter { kind == nil || $0.kind.rawValue == kind }
        let out = Output.standard
        if json {
            out.print(
                try encodeJSON(
                    CatalogDocument(
                        temporaryDirectory: catalog.temporaryDirectory, hiddenProcesses: catalog.hiddenProcesses,
                        segments: entries.map(SegmentJSON.init))))
            return
        }
        if entries.isEmpty {
            out.print("No shared-memory segments. Create one with `shmscope create KEY --size 4096`.")
        } else {
            let columns = try output.map(parsedColumns) ?? CatalogColumn.defaultNames.map { CatalogColumn.named($0)! }
            let lines = CatalogTable.render(
                entries, columns: columns, explicit: output != nil, options: .init(bytes: bytes),
                width: terminalColumns(), headings: !noheadings)
            for line in lines { out.print(line) }
        }
        if let note = catalog.unseenAttachmentsNote(entries) { out.print(note) }
    }
}
