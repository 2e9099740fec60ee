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

    @Option(name: .long, help: "Only this kind: qt, qt-posix, qt6, qt6-sysv, sysv or posix.")
    var kind: String?

    @Flag(name: .long, help: "Also list semaphore sets and POSIX semaphores.")
    var all = false

    @Option(name: .long, help: "A Qt key you know, so its segment shows its real name (repeatable).")
    var key: [String] = []

    @Option(name: .long, help: "Qt's temp dir for key files (default: $TMPDIR resolved, or /tmp).")
    var tmpdir: String?

    func validate() throws {
        if key.contains(where: \.isEmpty) { throw ValidationError("--key must not be empty") }
        if let tmpdir, tmpdir.isEmpty { throw ValidationError("--tmpdir must not be empty") }
        if let kind, CatalogEntry.Kind(rawValue: kind) == nil || kind.hasSuffix("-sem") {
            throw ValidationError("--kind must be qt, qt-posix, qt6, qt6-sysv, sysv or posix, not `\(kind)`")
        }
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
            for line in CatalogTable.render(entries) { out.print(line) }
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

    static func render(_ entries: [CatalogEntry]) -> [String] {
        let rows = [headers] + entries.map(row)
        var widths = [Int](repeating: 0, count: headers.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        let rightAligned: Set<Int> = [2, 3, 6]
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
