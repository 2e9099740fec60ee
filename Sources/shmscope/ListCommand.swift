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
              sudo shmscope list --ns all        # containers too (NS column)
              shmscope list --all --kind memfd
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
        name: .long, help: "Only this kind: qt, qt-posix, qt6, qt6-sysv, sysv, posix, memfd or anon.",
        completion: .list(["qt", "qt-posix", "qt6", "qt6-sysv", "sysv", "posix", "memfd", "anon"]))
    var kind: String?

    @Flag(
        name: .long,
        help: "Every kind: also semaphore sets, POSIX semaphores, memfd objects and anonymous shared mappings (one row per object, with every process that maps it).")
    var all = false

    @Option(name: .long, help: "A Qt key you know, so its segment shows its real name (repeatable).")
    var key: [String] = []

    @Option(
        name: .long, help: "Qt's temp dir for key files (default: $TMPDIR resolved, or /tmp).",
        completion: .directory)
    var tmpdir: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "IPC namespaces (containers) to list: all (default, or $SHMSCOPE_NS), self, or the pid of a process in one. Entering another namespace needs root.",
            valueName: "PID|self|all"))
    var ns: String?

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
        _ = try listingNamespaces(ns)
        if let output { _ = try parsedColumns(output) }
        if json && (output != nil || noheadings || bytes) {
            throw ValidationError("-o, --noheadings and --bytes shape the table; --json prints every field")
        }
        if let kind, CatalogEntry.Kind(rawValue: kind) == nil || kind.hasSuffix("-sem") {
            throw ValidationError(
                "--kind must be qt, qt-posix, qt6, qt6-sysv, sysv, posix, memfd or anon, not `\(kind)`")
        }
    }

    private func parsedColumns(_ text: String) throws -> [CatalogColumn] {
        do { return try CatalogColumn.parseList(text) } catch { throw ValidationError(error.message) }
    }

    func run() throws {
        var sources = Catalog.Sources(
            temporaryDirectory: tmpdir.map { QtNaming.tempPath(environment: ["TMPDIR": $0]) },
            knownKeys: KnownKeys.load(extra: key), includeSemaphores: all)
        sources.namespaces = try listingNamespaces(ns)
        sources.includeMappings = all || kind == "memfd" || kind == "anon"
        sources.givenTemporaryDirectory = tmpdir
        // One namespace asked for by pid: say at once (one line, exit 1) when it cannot be entered.
        if case .process(let pid) = sources.namespaces { _ = try NamespaceAccess.of(pid: pid) }
        let catalog = Catalog.scan(sources)
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
            var columns = try output.map(parsedColumns) ?? CatalogColumn.defaultNames.map { CatalogColumn.named($0)! }
            // The namespace column leads when a row is outside our own namespace, so the usual output stays as
            // narrow (and a container's segment never passes for one of ours); `-o NS` asks for it always.
            if output == nil && entries.contains(where: { $0.namespacePID != nil }) {
                columns.insert(CatalogColumn.named("NS")!, at: 0)
            }
            let lines = CatalogTable.render(
                entries, columns: columns, explicit: output != nil, options: .init(bytes: bytes),
                width: terminalColumns(), headings: !noheadings)
            for line in lines { out.print(line) }
        }
        if catalog.unreachableNamespaces > 0 {
            let n = catalog.unreachableNamespaces
            out.print(
                "(\(n) other IPC namespace\(n == 1 ? "" : "s") (containers) not listed: entering one needs root)")
        }
        if let note = catalog.unseenAttachmentsNote(entries) { out.print(note) }
    }
}
