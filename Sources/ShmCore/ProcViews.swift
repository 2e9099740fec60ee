import Glibc

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
        rows(text).compactMap { f in
            guard f.count >= 14, let key = Int64(f[0]), let id = Int32(f[1]), let perms = UInt32(f[2], radix: 8),
                let size = Int(f[3])
            else { return nil }
            return SystemVSegmentRecord(
                key: key_t(truncatingIfNeeded: key), shmid: id, perms: perms, size: size,
                cpid: Int32(f[4]) ?? 0, lpid: Int32(f[5]) ?? 0, nattch: Int(f[6]) ?? 0,
                uid: UInt32(f[7]) ?? 0, gid: UInt32(f[8]) ?? 0,
                atime: Int(f[11]) ?? 0, dtime: Int(f[12]) ?? 0, ctime: Int(f[13]) ?? 0,
                rss: f.count > 14 ? Int(f[14]) ?? 0 : 0, swap: f.count > 15 ? Int(f[15]) ?? 0 : 0)
        }
    }

    public static func parseSystemVSemaphores(_ text: String) -> [SystemVSemaphoreRecord] {
        rows(text).compactMap { f in
            guard f.count >= 6, let key = Int64(f[0]), let id = Int32(f[1]), let perms = UInt32(f[2], radix: 8)
            else { return nil }
            return SystemVSemaphoreRecord(
                key: key_t(truncatingIfNeeded: key), semid: id, perms: perms, nsems: Int(f[3]) ?? 0,
                uid: UInt32(f[4]) ?? 0, gid: UInt32(f[5]) ?? 0)
        }
    }

    /// The table's rows as fields, split on bytes: these files are ASCII numbers, and splitting by Character
    /// (grapheme breaking) made a thousand segments cost milliseconds.
    private static func rows(_ text: String) -> [[Substring]] {
        text.utf8.split(separator: UInt8(ascii: "\n")).dropFirst().map { line in
            line.split(separator: UInt8(ascii: " ")).map { Substring($0) }
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
    /// Processes whose maps we may not read (another user's, without privilege).
    public var hiddenProcesses = 0

    public init() {}

    public static func scan(procRoot: String = "/proc") -> AttachmentScan {
        var result = AttachmentScan()
        guard let names = try? Sys.directoryEntries(procRoot) else { return result }
        for name in names {
            guard let pid = Int32(name) else { continue }
            guard let maps = readFileBytes("\(procRoot)/\(pid)/maps") else {
                if (try? Sys.access("\(procRoot)/\(pid)", F_OK)) != nil { result.hiddenProcesses += 1 }
                continue
            }
            // Most processes map no shared memory: find the few lines that matter in the bytes, and make text of
            // those alone (String's Character walk over every line of every map was most of `list`'s time).
            let lines = sharedMemoryLines(maps)
            if !lines.isEmpty { result.add(pid: pid, maps: lines, procRoot: procRoot) }
        }
        return result
    }

    /// The lines of a maps file that name a System V segment or a /dev/shm object, as text.
    static func sharedMemoryLines(_ maps: [UInt8]) -> String {
        let sysv = Array("/SYSV".utf8)
        let shm = Array("/dev/shm/".utf8)
        var out = ""
        maps.withUnsafeBufferPointer { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                if contains(line, sysv) || contains(line, shm) {
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
        for line in maps.split(separator: "\n") {
            guard line.contains("/SYSV") || line.contains("/dev/shm/") else { continue }
            // address perms offset dev inode path...
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard f.count == 6 else { continue }
            let access: AttachedProcess.Access = f[1].dropFirst().first == "w" ? .readWrite : .readOnly
            let path = f[5].trimmingPrefixSpaces()
            if path.hasPrefix("/SYSV"), let id = Int32(f[4]) {
                if sysv[id] != .readWrite { sysv[id] = access }
            } else if path.hasPrefix("/dev/shm/") {
                var name = String(path.dropFirst("/dev/shm".count))
                if name.hasSuffix(" (deleted)") { name = String(name.dropLast(" (deleted)".count)) }
                if posix[name] != .readWrite { posix[name] = access }
            }
        }
        guard !sysv.isEmpty || !posix.isEmpty else { return }
        let command = ProcessInfoReader.command(pid: pid, procRoot: procRoot)
        let uid = ProcessInfoReader.uid(pid: pid, procRoot: procRoot)
        for (id, a) in sysv {
            bySystemVID[id, default: []].append(AttachedProcess(pid: pid, command: command, uid: uid, access: a))
        }
        for (n, a) in posix {
            byPosixName[n, default: []].append(AttachedProcess(pid: pid, command: command, uid: uid, access: a))
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

/// User and group names for ids, from the passwd database.
public enum Accounts {
    public static func userName(_ uid: UInt32) -> String {
        (try? Sys.userName(uid)) ?? String(uid)
    }
}
