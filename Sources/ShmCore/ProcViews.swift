import Glibc
import Synchronization

/// One line of `/proc/sysvipc/shm`.
public struct SystemVSegmentRecord: Equatable, Sendable {
    public var key: key_t
    public var shmid: Int32
    /// Permission bits plus SHM_DEST (0o1000) once removal is pending.
    public var perms: UInt32
    public var size: Int
    public var cpid: Int32
    public var lpid: Int32
    public var nattch: Int
    public var uid: UInt32
    public var gid: UInt32
    public var atime: Int
    public var dtime: Int
    public var ctime: Int
    public var rss: Int
    public var swap: Int

    /// IPC_RMID was called; the segment goes away when the last process detaches.
    public var isMarkedForRemoval: Bool { perms & 0o1000 != 0 }
}

/// One line of `/proc/sysvipc/sem`.
public struct SystemVSemaphoreRecord: Equatable, Sendable {
    public var key: key_t
    public var semid: Int32
    public var perms: UInt32
    public var nsems: Int
    public var uid: UInt32
    public var gid: UInt32
}

/// Parsers for the kernel's text views. The key column is signed decimal (keys ≥ 0x80000000 print negative).
public enum ProcViews {
    public static func parseSystemVSegments(_ text: String) -> [SystemVSegmentRecord] {
        var out: [SystemVSegmentRecord] = []
        numericRows(text, octalField: 2) { f in
            guard f.count >= 14, let key = f[0], let id = f[1], let perms = f[2], let size = f[3],
                let id32 = Int32(exactly: id), let perms32 = UInt32(exactly: perms), size >= 0
            else { return }
            func int32(_ v: Int64?) -> Int32 { v.flatMap { Int32(exactly: $0) } ?? 0 }
            func uint32(_ v: Int64?) -> UInt32 { v.flatMap { UInt32(exactly: $0) } ?? 0 }
            out.append(
                SystemVSegmentRecord(
                    key: key_t(truncatingIfNeeded: key), shmid: id32, perms: perms32, size: Int(size),
                    cpid: int32(f[4]), lpid: int32(f[5]), nattch: Int(f[6] ?? 0),
                    uid: uint32(f[7]), gid: uint32(f[8]),
                    atime: Int(f[11] ?? 0), dtime: Int(f[12] ?? 0), ctime: Int(f[13] ?? 0),
                    rss: f.count > 14 ? Int(f[14] ?? 0) : 0, swap: f.count > 15 ? Int(f[15] ?? 0) : 0))
        }
        return out
    }

    public static func parseSystemVSemaphores(_ text: String) -> [SystemVSemaphoreRecord] {
        var out: [SystemVSemaphoreRecord] = []
        numericRows(text, octalField: 2) { f in
            guard f.count >= 6, let key = f[0], let id = f[1], let perms = f[2], let id32 = Int32(exactly: id),
                let perms32 = UInt32(exactly: perms)
            else { return }
            out.append(
                SystemVSemaphoreRecord(
                    key: key_t(truncatingIfNeeded: key), semid: id32, perms: perms32, nsems: Int(f[3] ?? 0),
                    uid: f[4].flatMap { UInt32(exactly: $0) } ?? 0, gid: f[5].flatMap { UInt32(exactly: $0) } ?? 0))
        }
        return out
    }

    /// The table's rows after the header, each as its fields parsed as integers (nil: not a number), straight
    /// from the bytes: these files are ASCII numbers, and making a Substring of every field (or splitting by
    /// Character) made a thousand segments cost milliseconds. `octalField` is read in base 8 (the permissions).
    static func numericRows(_ text: String, octalField: Int, _ row: ([Int64?]) -> Void) {
        var text = text
        text.withUTF8 { bytes in
            var fields: [Int64?] = []
            fields.reserveCapacity(16)
            var i = 0
            // Skip the header: the first line that is not empty.
            while i < bytes.count && bytes[i] == UInt8(ascii: "\n") { i += 1 }
            while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
            i += 1
            while i < bytes.count {
                fields.removeAll(keepingCapacity: true)
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") {
                    if bytes[i] == UInt8(ascii: " ") {
                        i += 1
                        continue
                    }
                    let radix: Int64 = fields.count == octalField ? 8 : 10
                    var negative = false
                    if bytes[i] == UInt8(ascii: "-") {
                        negative = true
                        i += 1
                    }
                    var value: Int64 = 0
                    var digits = 0
                    var valid = true
                    while i < bytes.count && bytes[i] != UInt8(ascii: " ") && bytes[i] != UInt8(ascii: "\n") {
                        let d = Int64(bytes[i]) - 48
                        if d < 0 || d >= radix {
                            valid = false
                        } else if valid {
                            let (m, o1) = value.multipliedReportingOverflow(by: radix)
                            let (a, o2) = m.addingReportingOverflow(d)
                            if o1 || o2 { valid = false } else { value = a }
                        }
                        digits += 1
                        i += 1
                    }
                    fields.append(valid && digits > 0 ? (negative ? -value : value) : nil)
                }
                i += 1
                if !fields.isEmpty { row(fields) }
            }
        }
    }

    /// The current System V segments, or an empty list where /proc is not readable.
    public static func systemVSegments() -> [SystemVSegmentRecord] {
        parseSystemVSegments(readTextFile("/proc/sysvipc/shm") ?? "")
    }

    public static func systemVSemaphores() -> [SystemVSemaphoreRecord] {
        parseSystemVSemaphores(readTextFile("/proc/sysvipc/sem") ?? "")
    }
}

/// A process that has a segment mapped.
public struct AttachedProcess: Equatable, Sendable, Hashable {
    public enum Access: String, Sendable { case readOnly = "r", readWrite = "rw" }
    public var pid: Int32
    public var command: String
    public var uid: UInt32
    public var access: Access

    public init(pid: Int32, command: String, uid: UInt32, access: Access) {
        self.pid = pid
        self.command = command
        self.uid = uid
        self.access = access
    }
}

/// Who has which segment mapped, from `/proc/*/maps`: System V mappings appear as `/SYSV%08x (deleted)` with the
/// shmid as inode; POSIX ones as `/dev/shm/NAME`.
public struct AttachmentScan: Sendable {
    public var bySystemVID: [Int32: [AttachedProcess]] = [:]
    public var byPosixName: [String: [AttachedProcess]] = [:]
    /// memfd objects and anonymous shared mappings (`/memfd:NAME (deleted)`, `/dev/zero (deleted)` with `s` in
    /// the permissions), one per object (device and inode), with every process that maps it.
    public var sharedObjects: [SharedObjectKey: SharedObjectRecord] = [:]
    /// Processes whose maps we may not read (another user's, without privilege).
    public var hiddenProcesses = 0
    /// Their pids (e.g. the pid 1 of a sandbox, which even root may not read).
    public var unreadablePIDs: [Int32] = []

    public init() {}

    public static func scan(procRoot: String = "/proc") -> AttachmentScan {
        scanByNamespace(procRoot: procRoot).of(IPCNamespace.inode(of: nil, procRoot: procRoot), orUnknown: true)
    }

    /// One pass over `/proc/*/maps`, split by the processes' IPC namespaces: shmids (and names) are per namespace,
    /// so a segment's attachments are looked up only among the processes of its own.
    public static func scanByNamespace(procRoot: String = "/proc") -> NamespacedAttachments {
        var result = NamespacedAttachments()
        guard let names = try? Sys.directoryEntries(procRoot) else { return result }
        for name in names {
            guard let pid = Int32(name) else { continue }
            guard let maps = readFileBytes("\(procRoot)/\(pid)/maps") else {
                if (try? Sys.access("\(procRoot)/\(pid)", F_OK)) != nil {
                    result.hiddenProcesses += 1
                    result.unreadablePIDs.append(pid)
                }
                continue
            }
            // Most processes map no shared memory: find the few lines that matter in the bytes, and make text of
            // those alone (String's Character walk over every line of every map was most of `list`'s time).
            let lines = sharedMemoryLines(maps)
            if !lines.isEmpty {
                let namespace = IPCNamespace.inode(of: pid, procRoot: procRoot) ?? 0
                result.byNamespace[namespace, default: AttachmentScan()].add(pid: pid, maps: lines, procRoot: procRoot)
            }
        }
        return result
    }

    /// The lines of a maps file that name a System V segment or a /dev/shm object, as text.
    static func sharedMemoryLines(_ maps: [UInt8]) -> String {
        let sysv = Array("/SYSV".utf8)
        let shm = Array("/dev/shm/".utf8)
        let memfd = Array("/memfd:".utf8)
        let zero = Array("/dev/zero".utf8)
        var out = ""
        maps.withUnsafeBufferPointer { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                if contains(line, sysv) || contains(line, shm) || contains(line, memfd) || contains(line, zero) {
                    out += String(decoding: line, as: UTF8.self) + "\n"
                }
                start = end + 1
            }
        }
        return out
    }

    private static func contains(_ line: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard line.count >= needle.count, let first = needle.first else { return false }
        var i = 0
        while i <= line.count - needle.count {
            if line[i] == first {
                var j = 1
                while j < needle.count && line[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    mutating func add(pid: Int32, maps: String, procRoot: String = "/proc") {
        var sysv: [Int32: AttachedProcess.Access] = [:]
        var posix: [String: AttachedProcess.Access] = [:]
        var objects: [SharedObjectKey: (access: AttachedProcess.Access, record: SharedObjectRecord)] = [:]
        for line in maps.split(separator: "\n") {
            // address perms offset dev inode path...
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard f.count == 6 else { continue }
            let access: AttachedProcess.Access = f[1].dropFirst().first == "w" ? .readWrite : .readOnly
            let path = f[5].trimmingPrefixSpaces()
            if let object = SharedObjectRecord(maps: f, path: path, pid: pid) {
                let key = SharedObjectKey(device: String(f[3]), inode: UInt64(f[4]) ?? 0)
                if var known = objects[key] {
                    // Several mappings of one object: the first (lowest) address names it, the widest size counts.
                    if access == .readWrite { known.access = .readWrite }
                    known.record.size = max(known.record.size, object.size)
                    objects[key] = known
                } else {
                    objects[key] = (access, object)
                }
            } else if path.hasPrefix("/SYSV"), let id = Int32(f[4]) {
                if sysv[id] != .readWrite { sysv[id] = access }
            } else if path.hasPrefix("/dev/shm/") {
                var name = String(path.dropFirst("/dev/shm".count))
                if name.hasSuffix(" (deleted)") { name = String(name.dropLast(" (deleted)".count)) }
                if posix[name] != .readWrite { posix[name] = access }
            }
        }
        guard !sysv.isEmpty || !posix.isEmpty || !objects.isEmpty else { return }
        let command = ProcessInfoReader.command(pid: pid, procRoot: procRoot)
        let uid = ProcessInfoReader.uid(pid: pid, procRoot: procRoot)
        for (id, a) in sysv {
            bySystemVID[id, default: []].append(AttachedProcess(pid: pid, command: command, uid: uid, access: a))
        }
        for (n, a) in posix {
            byPosixName[n, default: []].append(AttachedProcess(pid: pid, command: command, uid: uid, access: a))
        }
        for (key, found) in objects {
            let process = AttachedProcess(pid: pid, command: command, uid: uid, access: found.access)
            if var known = sharedObjects[key] {
                known.processes.append(process)
                known.size = max(known.size, found.record.size)
                sharedObjects[key] = known
            } else {
                var record = found.record
                record.processes = [process]
                sharedObjects[key] = record
            }
        }
    }

    public func processes(shmid: Int32) -> [AttachedProcess] { (bySystemVID[shmid] ?? []).sorted { $0.pid < $1.pid } }
    public func processes(posixName: String) -> [AttachedProcess] {
        (byPosixName[posixName] ?? []).sorted { $0.pid < $1.pid }
    }
}

extension Substring {
    func trimmingPrefixSpaces() -> Substring { drop(while: { $0 == " " }) }
}

/// Reads a process's command name and uid.
public enum ProcessInfoReader {
    public static func command(pid: Int32, procRoot: String = "/proc") -> String {
        let comm = readTextFile("\(procRoot)/\(pid)/comm")?.split(separator: "\n").first.map(String.init)
        return comm ?? "?"
    }

    public static func uid(pid: Int32, procRoot: String = "/proc") -> UInt32 {
        (try? Sys.stat("\(procRoot)/\(pid)"))?.st_uid ?? 0
    }

    public static func isAlive(_ pid: Int32) -> Bool {
        do {
            try Sys.kill(pid, 0)
            return true
        } catch {
            return error.code == EPERM
        }
    }
}

/// User names for ids, from the passwd database. Each uid is looked up once per process (as htop's users table
/// does): `getpwuid` reads `/etc/passwd` through NSS on every call, which was five system calls per row of a
/// `list` of 1,000 segments.
public enum Accounts {
    public static func userName(_ uid: UInt32) -> String {
        if let known = names.withLock({ $0[uid] }) { return known }
        let name = (try? Sys.userName(uid)) ?? String(uid)
        names.withLock { $0[uid] = name }
        return name
    }

    private static let names = Mutex<[UInt32: String]>([:])
}

/// What `AttachmentScan.scanByNamespace` found, by IPC namespace inode (0: processes whose namespace we could
/// not read).
public struct NamespacedAttachments: Sendable {
    public var byNamespace: [UInt64: AttachmentScan] = [:]
    public var hiddenProcesses = 0
    /// The processes whose maps could not be read.
    public var unreadablePIDs: [Int32] = []

    /// The attachments of the namespace `inode`; `orUnknown` adds the processes whose namespace is unknown (for
    /// our own namespace, as before namespaces were told apart) and the count of unreadable processes.
    public func of(_ inode: UInt64?, orUnknown: Bool) -> AttachmentScan {
        var scan = inode.flatMap { byNamespace[$0] } ?? AttachmentScan()
        if orUnknown {
            scan.hiddenProcesses = hiddenProcesses
            scan.unreadablePIDs = unreadablePIDs
            if let unknown = byNamespace[0], inode != 0 {
                scan.bySystemVID.merge(unknown.bySystemVID) { $0 + $1 }
                scan.byPosixName.merge(unknown.byPosixName) { $0 + $1 }
                scan.sharedObjects.merge(unknown.sharedObjects) { a, b in
                    var merged = a
                    merged.processes += b.processes
                    return merged
                }
            }
        }
        return scan
    }
}

/// A memfd object or an anonymous shared mapping: the device and inode of its shmem file, as `/proc/PID/maps` shows.
public struct SharedObjectKey: Hashable, Sendable {
    public var device: String
    public var inode: UInt64
}

/// One memfd object or anonymous shared mapping, as the processes that map it see it.
public struct SharedObjectRecord: Sendable, Equatable {
    public enum Kind: String, Sendable { case memfd, anon }
    public var kind: Kind
    /// The memfd's name (after `memfd:`), empty for an anonymous mapping.
    public var name: String
    /// The first process seen mapping it and where: the target opens it through this mapping.
    public var pid: Int32
    public var start: UInt64
    public var end: UInt64
    /// The widest mapping's length (the object itself may be larger: its size is read when it is opened).
    public var size: Int
    /// The inode of its shmem file (maps' inode column).
    public var inode: UInt64
    public var processes: [AttachedProcess] = []

    /// A maps line's fields and path, when they name a shared mapping of a memfd or of `/dev/zero`; `/SYSV…` is
    /// System V and private mappings (`p`) are no one's shared memory.
    init?(maps f: [Substring], path: Substring, pid: Int32) {
        guard f[1].utf8.count == 4, f[1].utf8.last == UInt8(ascii: "s") else { return nil }
        let deleted = " (deleted)"
        if path.hasPrefix("/memfd:") {
            var name = path.dropFirst("/memfd:".count)
            if name.hasSuffix(deleted) { name = name.dropLast(deleted.count) }
            kind = .memfd
            self.name = String(name)
        } else if path == "/dev/zero" + deleted {
            kind = .anon
            name = ""
        } else {
            return nil
        }
        let range = f[0].split(separator: "-")
        guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
            end > start
        else { return nil }
        self.pid = pid
        self.start = start
        self.end = end
        size = Int(end - start)
        inode = UInt64(f[4]) ?? 0
    }
}
