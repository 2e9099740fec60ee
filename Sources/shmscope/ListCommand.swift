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

            Examples:
              shmscope list
              shmscope list --kind qt --key SharedMemory_Key
              shmscope list --json | jq '.segments[] | select(.nattch > 0)'
            """)

    @Flag(name: .long, help: "Print JSON (schema 1, see README).")
    var json = false

    @Option(name: .long, help: "Only this kind: qt, qt-posix, qt6, qt6-sysv, sysv, posix, memfd or anon.")
    var kind: String?

    @Flag(
        name: .long,
        help: "Every kind: also semaphore sets, POSIX semaphores, memfd objects and anonymous shared mappings (one row per object, with every process that maps it).")
    var all = false

    @Option(name: .long, help: "A Qt key you know, so its segment shows its real name (repeatable).")
    var key: [String] = []

    @Option(name: .long, help: "Qt's temp dir for key files (default: $TMPDIR resolved, or /tmp).")
    var tmpdir: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "IPC namespaces (containers) to list: all (default, or $SHMSCOPE_NS), self, or the pid of a process in one. Entering another namespace needs root.",
            valueName: "PID|self|all"))
    var ns: String?

    func validate() throws {
        if key.contains(where: \.isEmpty) { throw ValidationError("--key must not be empty") }
        if let tmpdir, tmpdir.isEmpty { throw ValidationError("--tmpdir must not be empty") }
        _ = try listingNamespaces(ns)
        if let kind, CatalogEntry.Kind(rawValue: kind) == nil || kind.hasSuffix("-sem") {
            throw ValidationError(
                "--kind must be qt, qt-posix, qt6, qt6-sysv, sysv, posix, memfd or anon, not `\(kind)`")
        }
    }

    func run() throws {
        var sources = Catalog.Sources(
            temporaryDirectory: tmpdir.map { QtNaming.tempPath(environment: ["TMPDIR": $0]) },
            knownKeys: KnownKeys.load(extra: key), includeSemaphores: all)
        sources.namespaces = try listingNamespaces(ns)
        sources.includeMappings = all || kind == "memfd" || kind == "anon"
        // One namespace asked for by pid: say at once (one line, exit 1) when it cannot be entered.
        if case .process(let pid) = sources.namespaces { _ = try NamespaceAccess.of(pid: pid) }
        sources.givenTemporaryDirectory = tmpdir
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
            // The namespace column only when a row is outside our own namespace, so the usual output stays as
            // narrow (and a container's segment never passes for one of ours).
            let namespaces = entries.contains { $0.namespacePID != nil }
            for line in CatalogTable.render(entries, namespaces: namespaces) { out.print(line) }
        }
        if catalog.unreachableNamespaces > 0 {
            let n = catalog.unreachableNamespaces
            out.print(
                "(\(n) other IPC namespace\(n == 1 ? "" : "s") (containers) not listed: entering one needs root)")
        }
        if catalog.hiddenProcesses > 0 {
            let n = catalog.hiddenProcesses
            out.print("(\(n) process\(n == 1 ? "" : "es") not readable: segments they attach are not counted in ATTACHED)")
        }
    }
}

/// The `list` table: one row per entry, columns sized to their content.
enum CatalogTable {
    static let headers = ["KIND", "KEY", "ID", "SIZE", "PERMS", "OWNER", "NATTCH", "LOCK", "ATTACHED"]

    static func row(_ e: CatalogEntry) -> [String] {
        let semaphoreID = e.kind == .sysvSemaphore ? e.semid.map { "sem \($0)" } : nil
        let id = e.shmid.map(String.init) ?? semaphoreID ?? "-"
        var status = ""
        if e.status != .ok { status = " [\(e.status.rawValue)]" }
        return [
            e.kind.rawValue,
            e.label + status,
            id,
            e.size.map(String.init) ?? "-",
            e.mode.map(permissionString) ?? "-",
            e.owner ?? "-",
            String(e.nattch),
            e.lock.map { $0.summary + ($0.mechanism == .flock ? " (advisory)" : "") } ?? "-",
            e.attached.isEmpty ? "-" : e.attached.map { "\($0.command)(\($0.pid))" }.joined(separator: ","),
        ]
    }

    /// `namespaces`: a leading NS column naming each entry's IPC namespace (container).
    static func render(_ entries: [CatalogEntry], namespaces: Bool = false) -> [String] {
        var rows = [headers] + entries.map(row)
        var rightAligned: Set<Int> = [2, 3, 6]
        if namespaces {
            rows[0].insert("NS", at: 0)
            for (i, e) in entries.enumerated() { rows[i + 1].insert(e.namespace?.name ?? "-", at: 0) }
            rightAligned = Set(rightAligned.map { $0 + 1 })
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            var line = ""
            for (i, c) in r.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                if i == r.count - 1 {
                    line += c
                } else {
                    line += (rightAligned.contains(i) ? pad + c : c + pad) + "  "
                }
            }
            return line
        }
    }
}
