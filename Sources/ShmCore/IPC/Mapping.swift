import CShmShims
import Glibc

/// One attached mapping: a System V `shmat` address or a POSIX `mmap` of an `shm_open` descriptor.
/// A read-only attach maps without write permission (SHM_RDONLY / PROT_READ), so no bug can write through it.
struct Mapping {
    enum Backing {
        case systemV(shmid: Int32)
        case posix(fd: Int32, path: String)
    }

    let base: UnsafeMutableRawPointer?
    let size: Int
    let readOnly: Bool
    let backing: Backing

    /// The POSIX object may be truncated by a peer while mapped; its current size, or nil for System V.
    func currentFileSize() -> Int? {
        guard case .posix(let fd, _) = backing, let st = try? Sys.fstat(fd) else { return nil }
        return Int(st.st_size)
    }

    func unmap() {
        switch backing {
        case .systemV:
            if let base { try? Sys.shmdt(base) }
        case .posix(let fd, _):
            if let base { Sys.munmap(base, size) }
            Sys.close(fd)
        }
    }

    /// Copies bytes out. A fault (the object shrank under us) is reported instead of killing the process.
    func copy(to destination: UnsafeMutableRawPointer, offset: Int, count: Int) -> Bool {
        guard count > 0 else { return true }
        guard let base else { return false }
        return shm_shim_safe_memcpy(destination, base + offset, count) == 0
    }

    func copy(from source: UnsafeRawPointer, offset: Int, count: Int) -> Bool {
        guard count > 0 else { return true }
        guard let base, !readOnly else { return false }
        return shm_shim_safe_memcpy(base + offset, source, count) == 0
    }
}
