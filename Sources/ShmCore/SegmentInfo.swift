/// What `shmscope info` prints about one segment, and the browser's info pane shows: one place, so the two never
/// disagree.
extension CatalogEntry {
    /// `label   value` lines: names, size, mode, owner, pids, lock and every attached process.
    /// `unreadablePIDs`: processes whose mappings could not be read (their attachments are unknown); named only
    /// where they matter (see below).
    public func infoLines(unreadablePIDs unreadable: [Int32]) -> [String] {
        var rows: [(String, String)] = []
        rows.append(("target", target?.description ?? "-"))
        rows.append(("kind", kind.rawValue))
        if let key = qtKey { rows.append(("key", key)) }
        if let qtLetters, let qtHash { rows.append(("qt name", "letters \"\(qtLetters)\", sha1 \(qtHash)")) }
        rows.append(("native key", nativeKey))
        if let k = sysvKey, kind != .posix { rows.append(("sysv key", hex32(k))) }
        if let id = shmid { rows.append(("shmid", String(id))) }
        rows.append(("size", size.map { "\($0) bytes" } ?? "-"))
        if let mode { rows.append(("mode", octalMode(mode) + " (\(permissionString(mode)))")) }
        if let owner { rows.append(("owner", owner)) }
        if let cpid { rows.append(("creator pid", Self.describe(pid: cpid))) }
        if let lpid, lpid > 0 { rows.append(("last pid", Self.describe(pid: lpid))) }
        rows.append(("nattch", String(nattch)))
        rows.append(("status", status.rawValue + (note.map { " (\($0))" } ?? "")))
        if let lock {
            var text = "\(lock.mechanism.displayName) \(lock.nativeName): \(lock.summary)"
            if let value = lock.value { text += "; value \(value)" }
            rows.append(("lock", text))
        } else {
            rows.append(("lock", "none"))
        }
        if attached.isEmpty {
            rows.append(("attached", "-"))
        } else {
            for (i, p) in attached.enumerated() {
                rows.append(
                    (
                        i == 0 ? "attached" : "",
                        "pid \(p.pid) \(p.command) uid \(p.uid) (\(Accounts.userName(p.uid))) \(p.access.rawValue)"
                    ))
            }
        }
        // The kernel's count proves a System V attachment we cannot see; a POSIX object has no count, and a process
        // we cannot read might map it (which `rm` advice should not ignore). Otherwise they are not mentioned: a
        // process we could never read (the pid 1 of a sandbox) says nothing about this segment.
        let pids = unreadable.prefix(3).map(String.init).joined(separator: ", ") + (unreadable.count > 3 ? ", …" : "")
        if unseenAttachments > 0, !unreadable.isEmpty {
            let n = unseenAttachments
            rows.append(("", "(+\(n) attachment\(n == 1 ? "" : "s") in processes we cannot read: pid \(pids))"))
        } else if shmid == nil, size != nil, !unreadable.isEmpty {
            rows.append(("", "(processes we cannot read, pid \(pids), are not shown if they map it)"))
        }
        return rows.map { $0.0 + String(repeating: " ", count: max(0, 12 - $0.0.count)) + $0.1 }
    }

    /// `1234 (qtpeer)`, or `1234 (exited)`.
    static func describe(pid: Int32) -> String {
        ProcessInfoReader.isAlive(pid) ? "\(pid) (\(ProcessInfoReader.command(pid: pid)))" : "\(pid) (exited)"
    }
}

/// `0640` for a mode: four octal digits.
public func octalMode(_ mode: UInt32) -> String {
    let digits = String(mode & 0o7777, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// `rw-r-----` for a mode: how `list`, `info` and the browser show permissions.
public func permissionString(_ mode: UInt32) -> String {
    let chars: [Character] = ["r", "w", "x"]
    var out = ""
    for shift in stride(from: 6, through: 0, by: -3) {
        for (i, c) in chars.enumerated() { out.append(mode >> UInt32(shift) & (4 >> UInt32(i)) != 0 ? c : "-") }
    }
    return out
}
