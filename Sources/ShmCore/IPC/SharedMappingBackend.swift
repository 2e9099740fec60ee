import Glibc

/// One shared mapping of a memfd or of anonymous shared memory in a process, as `/proc/PID/maps` shows it.
struct SharedMapping: Equatable {
    var start: UInt64
    var end: UInt64
    /// The maps line's device and inode: the shmem file every process mapping the object shares.
    var device: String
    var inode: UInt64

    /// `/proc/PID/map_files/START-END`: the mapped file itself (opening it needs CAP_SYS_ADMIN).
    func mapFile(pid: Int32) -> String {
        "/proc/\(pid)/map_files/" + String(start, radix: 16) + "-" + String(end, radix: 16)
    }

    /// The shared mapping `target` names (`memfd:PID:NAME`, `map:PID:ADDRESS`), nil when the process has none
    /// (exited, unmapped, or a private mapping).
    static func locate(_ target: SegmentTarget, procRoot: String = "/proc") -> SharedMapping? {
        let pid: Int32
        switch target {
        case .memfd(let p, _), .mapping(let p, _): pid = p
        default: return nil
        }
        guard let maps = readFileBytes("\(procRoot)/\(pid)/maps") else { return nil }
        let lines = AttachmentScan.sharedMemoryLines(maps)
        for line in lines.split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard f.count == 6, let record = SharedObjectRecord(maps: f, path: f[5].trimmingPrefixSpaces(), pid: pid)
            else { continue }
            let found: Bool
            switch target {
            case .memfd(_, let name): found = record.kind == .memfd && record.name == name
            case .mapping(_, let address): found = record.start == address
            default: found = false
            }
            if found {
                return SharedMapping(start: record.start, end: record.end, device: String(f[3]), inode: record.inode)
            }
        }
        return nil
    }

    /// Whether process `pid` still maps the object with this inode.
    static func maps(pid: Int32, inode: UInt64, procRoot: String = "/proc") -> Bool {
        guard let maps = readFileBytes("\(procRoot)/\(pid)/maps") else { return false }
        for line in AttachmentScan.sharedMemoryLines(maps).split(separator: "\n") {
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            if f.count == 6, SharedObjectRecord(maps: f, path: f[5].trimmingPrefixSpaces(), pid: pid)?.inode == inode {
                return true
            }
        }
        return false
    }
}

/// memfd objects and anonymous shared mappings: no name in /dev/shm and no System V id, only a mapping in some
/// process. Opened through that process (`/proc/PID/map_files/…`, or for a memfd its descriptor in
/// `/proc/PID/fd/`) and mapped again here; they have no lock, cannot be created or removed by name, and are gone
/// when no process maps them any more (our own mapping aside): that is their `removed`.
final class SharedMappingBackend: SegmentBackend {
    let target: SegmentTarget
    let pid: Int32
    let name: String
    /// The processes that mapped the object when we attached: it is present while one of them still maps it.
    private var holders: [Int32] = []
    private var inode: UInt64 = 0

    init(target: SegmentTarget, pid: Int32) {
        self.target = target
        self.pid = pid
        name = target.description
    }

    func create(size: Int, permissions: mode_t) throws(ShmError) -> Mapping {
        throw ShmError(
            .keyError, operation: "create", target: name,
            message: "a memfd or anonymous shared mapping is made by its own process: shmscope opens existing ones")
    }

    func attach(readOnly: Bool) throws(ShmError) -> Mapping {
        guard let found = SharedMapping.locate(target) else {
            throw ShmError(
                .notFound, operation: "attach", target: name, errno: ENOENT,
                message: "process \(pid) has no such shared mapping (it exited or unmapped it): see `shmscope list --all`")
        }
        let flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC
        let fd: Int32
        do { fd = try Sys.open(found.mapFile(pid: pid), flags) } catch let first {
            // map_files needs CAP_SYS_ADMIN; a memfd the process still holds open is reachable through its
            // descriptor with the right to trace it.
            guard let viaDescriptor = openDescriptor(inode: found.inode, flags: flags) else {
                throw ShmError.fromErrno(
                    first.code, operation: "open", target: name,
                    context: "cannot open \(found.mapFile(pid: pid)) (needs root, CAP_SYS_ADMIN)")
            }
            fd = viaDescriptor
        }
        let size: Int
        do throws(Errno) {
            let st = try Sys.fstat(fd)
            guard UInt64(st.st_ino) == found.inode else { throw Errno(code: ESTALE) }
            size = Int(st.st_size)
        } catch let e {
            Sys.close(fd)
            throw ShmError.fromErrno(e.code, operation: "fstat", target: name, context: "cannot read size")
        }
        // Who maps it is read before we map it too (our own mapping is never a holder).
        inode = found.inode
        holders = Self.holders(inode: found.inode, first: pid)
        return try Mapping.ofDescriptor(fd, size: size, readOnly: readOnly, target: name)
    }

    /// A descriptor of process `pid` that is the memfd with `inode`, reopened.
    private func openDescriptor(inode: UInt64, flags: Int32) -> Int32? {
        let dir = "/proc/\(pid)/fd"
        for entry in (try? Sys.directoryEntries(dir)) ?? [] {
            guard let st = try? Sys.stat(dir + "/" + entry), UInt64(st.st_ino) == inode else { continue }
            if let fd = try? Sys.open(dir + "/" + entry, flags) { return fd }
        }
        return nil
    }

    /// The processes that map the object now (`first` first): one pass over /proc, at attach only.
    private static func holders(inode: UInt64, first: Int32) -> [Int32] {
        var pids = [first]
        for entry in (try? Sys.directoryEntries("/proc")) ?? [] {
            guard let p = Int32(entry), p != first, p != getpid(), SharedMapping.maps(pid: p, inode: inode) else {
                continue
            }
            pids.append(p)
        }
        return pids
    }

    func unmap(_ mapping: Mapping) { Mapping.unmapDescriptor(mapping) }

    func removeIfUnused(_ mapping: Mapping) throws(ShmError) -> Bool { false }

    func remove() throws(ShmError) -> Bool {
        throw ShmError(
            .keyError, operation: "remove", target: name,
            message: "a memfd or anonymous shared mapping has no name to remove: it goes when its last process unmaps it")
    }

    /// Present while a process that mapped it at attach still does; resized when a memfd was truncated.
    func presence(of mapping: Mapping) -> SharedMemory.Presence {
        holders.removeAll { !SharedMapping.maps(pid: $0, inode: inode) }
        if holders.isEmpty { return .removed }
        guard let st = try? Sys.fstat(mapping.handle) else { return .removed }
        return Int(st.st_size) != mapping.size ? .resized(to: Int(st.st_size)) : .present
    }

    func namesAnotherSegment(than mapping: Mapping) -> Bool { false }

    func currentSize(of mapping: Mapping) -> Int? {
        (try? Sys.fstat(mapping.handle)).map { Int($0.st_size) }
    }

    func exists() -> Bool { SharedMapping.locate(target) != nil }
}
