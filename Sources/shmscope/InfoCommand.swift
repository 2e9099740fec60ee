import ArgumentParser
import ShmCore

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show everything about one segment: names, size, owner, attached processes and lock state.",
        discussion: """
            Examples:
              shmscope info SharedMemory_Key
              shmscope info /psm_1234 --json
              shmscope info shmid:30
            """)

    @OptionGroup var target: TargetOptions

    @Flag(name: .long, help: "Print JSON (one segment object of schema 1, see README).")
    var json = false

    func validate() throws { try target.refuseNoLock(in: "info") }

    func run() throws {
        let resolved = try target.resolved()
        let parsed = resolved.target
        let (found, catalog) = resolved.scanEntry()
        guard let entry = found else {
            throw ShmError(
                .notFound, operation: "info", target: parsed.description,
                message: "no such segment: check the key and TMPDIR (Qt temp dir here: \(catalog.temporaryDirectory)), or run `shmscope list`")
        }
        let out = Output.standard
        if json {
            out.print(try encodeJSON(SegmentJSON(entry)))
            return
        }
        for line in Self.render(entry, hidden: catalog.hiddenProcesses) { out.print(line) }
    }

    static func render(_ e: CatalogEntry, hidden: Int) -> [String] {
        var rows: [(String, String)] = []
        rows.append(("target", e.target?.description ?? "-"))
        rows.append(("kind", e.kind.rawValue))
        if let key = e.qtKey { rows.append(("key", key)) }
        if let letters = e.qtLetters, let hash = e.qtHash { rows.append(("qt name", "letters \"\(letters)\", sha1 \(hash)")) }
        rows.append(("native key", e.nativeKey))
        if let k = e.sysvKey, e.kind != .posix { rows.append(("sysv key", hex32(k))) }
        if let id = e.shmid { rows.append(("shmid", String(id))) }
        rows.append(("size", e.size.map { "\($0) bytes" } ?? "-"))
        if let mode = e.mode { rows.append(("mode", octalMode(mode) + " (\(permissionString(mode)))")) }
        if let owner = e.owner { rows.append(("owner", owner)) }
        if let cpid = e.cpid { rows.append(("creator pid", describe(pid: cpid))) }
        if let lpid = e.lpid, lpid > 0 { rows.append(("last pid", describe(pid: lpid))) }
        rows.append(("nattch", String(e.nattch)))
        rows.append(("status", e.status.rawValue + (e.note.map { " (\($0))" } ?? "")))
        if let lock = e.lock {
            var text = "\(lock.mechanism.displayName) \(lock.nativeName): \(lock.summary)"
            if let value = lock.value { text += "; value \(value)" }
            rows.append(("lock", text))
        } else {
            rows.append(("lock", "none"))
        }
        if e.attached.isEmpty {
            rows.append(("attached", "-"))
        } else {
            for (i, p) in e.attached.enumerated() {
                rows.append(
                    (i == 0 ? "attached" : "", "pid \(p.pid) \(p.command) uid \(p.uid) (\(Accounts.userName(p.uid))) \(p.access.rawValue)"))
            }
        }
        if hidden > 0 { rows.append(("", "(\(hidden) process\(hidden == 1 ? "" : "es") not readable)")) }
        return rows.map { $0.0.padded(to: 12) + $0.1 }
    }

    static func describe(pid: Int32) -> String {
        ProcessInfoReader.isAlive(pid) ? "\(pid) (\(ProcessInfoReader.command(pid: pid)))" : "\(pid) (exited)"
    }
}
