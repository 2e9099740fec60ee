import Glibc

/// POSIX shared memory: `shm_open`, `ftruncate`, `mmap`; the object is the file `/dev/shm/NAME`. The descriptor
/// stays open while mapped, so `fstat` can tell a resize or an unlink. Never unlinked on detach: Qt does not
/// unlink POSIX segments on Linux (qt-ipc.md §4); `remove()` does.
final class PosixBackend: SegmentBackend {
    /// The object's name, `/name`.
    let name: String
    let target: String

    /// Where `/dev/shm` is: ours, or a container's (`FileRoot`).
    let files: FileRoot

    init(name: String, target: String, files: FileRoot = .host) {
        self.name = name
        self.target = target
        self.files = files
    }

    /// `shm_open`: glibc's is `open("/dev/shm" + name)`; a container's object is opened inside its root.
    private func openObject(_ flags: Int32, _ mode: mode_t) throws(Errno) -> Int32 {
        files.isHost ? try Sys.shmOpen(name, flags, mode) : try files.open(path, flags | O_NOFOLLOW, mode)
    }

    private var path: String { "/dev/shm" + name }

    func create(size: Int, permissions: mode_t) throws(ShmError) -> Mapping {
        let fd: Int32
        do { fd = try openObject(O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, permissions) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "shm_open", target: target, context: "cannot create")
        }
        do { try Sys.ftruncate(fd, size) } catch let e {
            Sys.close(fd)
            removeObject()
            var err = ShmError.fromErrno(
                e.code, operation: "ftruncate", target: target, context: "cannot size to \(size) bytes")
            if e.code == EINVAL { err.kind = .invalidSize }
            throw err
        }
        Sys.close(fd)
        do { return try attach(readOnly: false) } catch let error {
            removeObject()
            throw error
        }
    }

    func attach(readOnly: Bool) throws(ShmError) -> Mapping {
        let fd: Int32
        do {
            fd = try openObject((readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW, readOnly ? 0o400 : 0o600)
        } catch let e {
            throw ShmError.fromErrno(e.code, operation: "shm_open", target: target, context: "cannot attach")
        }
        let size: Int
        do { size = Int(try Sys.fstat(fd).st_size) } catch let e {
            Sys.close(fd)
            throw ShmError.fromErrno(e.code, operation: "fstat", target: target, context: "cannot read size")
        }
        // Our own descriptor tells where the object has pages (SEEK_DATA/SEEK_HOLE); it stays open while mapped.
        return try Mapping.ofDescriptor(fd, size: size, readOnly: readOnly, target: target)
    }

    func unmap(_ mapping: Mapping) { Mapping.unmapDescriptor(mapping) }

    func removeIfUnused(_ mapping: Mapping) throws(ShmError) -> Bool { false }

    func exists() -> Bool {
        guard let st = try? files.lstat(path) else { return false }
        return st.st_mode & S_IFMT == S_IFREG
    }

    func remove() throws(ShmError) -> Bool {
        if !files.isHost {
            guard files.exists(path) else {
                throw ShmError.fromErrno(ENOENT, operation: "shm_unlink", target: target, context: "cannot remove")
            }
            files.unlink(path)
            return true
        }
        do { try Sys.shmUnlink(name) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "shm_unlink", target: target, context: "cannot remove")
        }
        return true
    }

    private func removeObject() {
        if files.isHost { _ = try? Sys.shmUnlink(name) } else { files.unlink(path) }
    }

    func presence(of mapping: Mapping) -> SharedMemory.Presence {
        guard let st = try? Sys.fstat(mapping.handle) else { return .removed }
        if st.st_nlink == 0 { return .removed }
        return Int(st.st_size) != mapping.size ? .resized(to: Int(st.st_size)) : .present
    }

    func namesAnotherSegment(than mapping: Mapping) -> Bool {
        guard let now = try? files.lstat(path), let mine = try? Sys.fstat(mapping.handle) else { return false }
        return now.st_ino != mine.st_ino || now.st_dev != mine.st_dev
    }

    func currentSize(of mapping: Mapping) -> Int? {
        (try? Sys.fstat(mapping.handle)).map { Int($0.st_size) }
    }
}
