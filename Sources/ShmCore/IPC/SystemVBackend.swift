import Glibc

/// System V shared memory: `shmget`, `shmat`, `shmdt`, `shmctl`. The segment is found by an IPC key (given, or
/// derived with `ftok` from a Qt key file) or by its id.
final class SystemVBackend: SegmentBackend {
    enum Source {
        /// Qt's dialect: the key is `ftok(path, 'Q')`; create makes the key file (O_EXCL, 0640) and, when
        /// `directory` is given, that directory first (Qt 6's fallback runtime dir, 0700).
        case keyFile(path: String, directory: String?)
        case key(key_t)
        case id(Int32)
    }

    let source: Source
    let target: String
    /// Qt's rule (qt-ipc.md §8): the last process to detach removes the segment and its key file.
    let lastOutRemoves: Bool
    /// Where key files are: our root, or a container's (`FileRoot`).
    let files: FileRoot

    init(source: Source, target: String, lastOutRemoves: Bool, files: FileRoot = .host) {
        self.source = source
        self.target = target
        self.lastOutRemoves = lastOutRemoves
        self.files = files
    }

    func prepareCreate() throws(ShmError) {
        guard case .keyFile(_, let directory?) = source else { return }
        do { try Sys.mkdir(directory, 0o700) } catch let e where e.code != EEXIST {
            throw ShmError.fromErrno(e.code, operation: "mkdir", target: target, context: "runtime dir \(directory)")
        } catch {}
    }

    func create(size: Int, permissions: mode_t) throws(ShmError) -> Mapping {
        let flags = Int32(permissions) | IPC_CREAT | IPC_EXCL
        switch source {
        case .keyFile(let path, _):
            let createdFile = try createQtKeyFile(path, target: target, files: files)
            do throws(ShmError) {
                let key = try qtKey(path)
                let id: Int32
                do { id = try Sys.shmget(key, size, flags) } catch let e { throw shmgetError(e, size: size) }
                return try map(id: id, readOnly: false)
            } catch let error {
                // A key file someone else made, or one that names a segment that already exists, stays.
                if createdFile && error.kind != .alreadyExists { files.unlink(path) }
                throw error
            }
        case .key(let key):
            let id: Int32
            do { id = try Sys.shmget(key, size, flags) } catch let e { throw shmgetError(e, size: size) }
            return try map(id: id, readOnly: false)
        case .id:
            throw ShmError(
                .keyError, operation: "create", target: target,
                message: "a shmid names an existing segment: create by key (sysv:0x…) instead")
        }
    }

    func attach(readOnly: Bool) throws(ShmError) -> Mapping {
        switch source {
        case .keyFile(let path, _):
            guard (try? files.lstat(path)) != nil else {
                throw ShmError(
                    .notFound, operation: "attach", target: target, errno: ENOENT,
                    message: "no Qt key file \(files.display(path)): is the segment created, and does the peer use the same TMPDIR?")
            }
            try checkRegularKeyFile(path, target: target, files: files)
            let key = try qtKey(path)
            let id: Int32
            // Qt asks for exactly the access it needs (0400 or 0600).
            do { id = try Sys.shmget(key, 0, readOnly ? 0o400 : 0o600) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmget", target: target, context: "cannot attach")
            }
            return try map(id: id, readOnly: readOnly)
        case .key(let key):
            let id: Int32
            do { id = try Sys.shmget(key, 0, 0) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmget", target: target, context: "cannot attach")
            }
            return try map(id: id, readOnly: readOnly)
        case .id(let id):
            return try map(id: id, readOnly: readOnly)
        }
    }

    func unmap(_ mapping: Mapping) {
        mapping.extents.close()
        if let base = mapping.base { try? Sys.shmdt(base) }
    }

    func removeIfUnused(_ mapping: Mapping) throws(ShmError) -> Bool {
        guard lastOutRemoves, let ds = try? Sys.shmStat(mapping.handle), ds.shm_nattch == 0 else { return false }
        do { try Sys.shmRemove(mapping.handle) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "shmctl", target: target, context: "cannot remove")
        }
        if case .keyFile(let path, _) = source { files.unlink(path) }
        return true
    }

    func remove() throws(ShmError) -> Bool {
        switch source {
        case .keyFile(let path, _):
            // The key file is removed only with the segment it names: a regular file (never a symlink) whose
            // `ftok` key has a segment. Any other file at that path (a native key may be an absolute path) is not
            // ours to delete.
            guard (try? checkRegularKeyFile(path, target: target, files: files)) != nil, let key = try? qtKey(path),
                let id = try? Sys.shmget(key, 0, 0)
            else { return false }
            try removeSegment(id)
            files.unlink(path)
            return true
        case .key(let key):
            do { try Sys.shmRemove(try Sys.shmget(key, 0, 0)) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmctl", target: target, context: "cannot remove")
            }
            return true
        case .id(let id):
            // For an id, EINVAL means no segment has it: nothing to remove, like a missing key.
            do { try Sys.shmRemove(id) } catch let e where e.code == EINVAL { return false } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmctl", target: target, context: "cannot remove")
            }
            return true
        }
    }

    func presence(of mapping: Mapping) -> SharedMemory.Presence {
        guard let ds = try? Sys.shmStat(mapping.handle) else { return .removed }
        return Int32(ds.shm_perm.mode) & Int32(SHM_DEST) != 0 ? .removed : .present
    }

    func namesAnotherSegment(than mapping: Mapping) -> Bool {
        let key: key_t
        switch source {
        case .key(let k): key = k
        case .keyFile(let path, _):
            guard let k = try? qtKey(path) else { return false }
            key = k
        case .id: return false  // an id never comes back
        }
        guard let id = try? Sys.shmget(key, 0, 0) else { return false }
        return id != mapping.handle
    }

    func shmid(of mapping: Mapping) -> Int32? { mapping.handle }

    func exists() -> Bool {
        switch source {
        case .keyFile(let path, _):
            guard (try? checkRegularKeyFile(path, target: target, files: files)) != nil, let key = try? qtKey(path) else { return false }
            return (try? Sys.shmget(key, 0, 0)) != nil
        case .key(let key): return (try? Sys.shmget(key, 0, 0)) != nil
        case .id(let id): return (try? Sys.shmStat(id)) != nil
        }
    }

    // MARK: Helpers

    private func qtKey(_ keyFile: String) throws(ShmError) -> key_t {
        do { return try files.ftok(keyFile, QtNaming.ftokProjectID) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "ftok", target: target, context: "key file \(keyFile)")
        }
    }

    private func removeSegment(_ id: Int32) throws(ShmError) {
        do { try Sys.shmRemove(id) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "shmctl", target: target, context: "cannot remove")
        }
    }

    private func shmgetError(_ e: Errno, size: Int) -> ShmError {
        if e.code == EINVAL {
            return ShmError(
                .invalidSize, operation: "shmget", target: target, errno: e.code,
                message: "size \(size) is outside the system's limits (kernel.shmmax) or the existing segment's size")
        }
        return ShmError.fromErrno(e.code, operation: "shmget", target: target, context: "cannot create")
    }

    private func map(id: Int32, readOnly: Bool) throws(ShmError) -> Mapping {
        let base: UnsafeMutableRawPointer
        do { base = try Sys.shmat(id, readOnly: readOnly) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "shmat", target: target, context: "cannot attach")
        }
        let size: Int
        do { size = Int(try Sys.shmStat(id).shm_segsz) } catch let e {
            try? Sys.shmdt(base)
            throw ShmError.fromErrno(e.code, operation: "shmctl", target: target, context: "cannot read size")
        }
        var mapping = Mapping(base: base, size: size, readOnly: readOnly, handle: id)
        mapping.extents = Self.extents(base: base, size: size)
        return mapping
    }

    /// A System V segment has no descriptor, but our attach is a mapping of its shmem file: opened (read-only)
    /// through `/proc/self/map_files/<start>-<end>`, it answers SEEK_DATA/SEEK_HOLE. Opening it needs
    /// CAP_SYS_ADMIN (CAP_CHECKPOINT_RESTORE); without it every byte is read, as before.
    static func extents(base: UnsafeMutableRawPointer, size: Int) -> ExtentMap {
        guard size > 0 else { return .none }
        let page = max(4096, sysconf(Int32(_SC_PAGESIZE)))
        let start = UInt(bitPattern: base)
        let end = start + UInt((size + page - 1) / page * page)
        let path = "/proc/self/map_files/" + String(start, radix: 16) + "-" + String(end, radix: 16)
        guard let fd = try? Sys.open(path, O_RDONLY | O_CLOEXEC) else { return .none }
        return ExtentMap(descriptor: fd, ownsDescriptor: true, base: base)
    }
}
