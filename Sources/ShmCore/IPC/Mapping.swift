import CShmShims
import Glibc

/// One attached mapping, whatever its kind: the address, the size seen at attach, and the handle its backend knows
/// it by (a System V shmid, or the descriptor of a POSIX object, kept open while mapped). Copies never pass the
/// system-call seam: they are plain memory reads guarded against faults.
/// A read-only attach maps without write permission (SHM_RDONLY / PROT_READ), so no bug can write through it.
struct Mapping {
    let base: UnsafeMutableRawPointer?
    let size: Int
    let readOnly: Bool
    /// The backend's handle: a shmid for System V, a descriptor for POSIX.
    let handle: Int32
    /// Where the object has pages (`ExtentMap`), so reads never fault a hole in.
    var extents: ExtentMap = .none

    /// Maps `size` bytes of the object open as `fd` (kept open while mapped: it is the handle, and its
    /// SEEK_DATA/SEEK_HOLE say where the object has pages). On failure `fd` is closed.
    static func ofDescriptor(_ fd: Int32, size: Int, readOnly: Bool, target: String) throws(ShmError) -> Mapping {
        var base: UnsafeMutableRawPointer? = nil
        if size > 0 {
            do { base = try Sys.mmap(fd, size, writable: !readOnly) } catch let e {
                Sys.close(fd)
                throw ShmError.fromErrno(e.code, operation: "mmap", target: target, context: "cannot map \(size) bytes")
            }
        }
        var mapping = Mapping(base: base, size: size, readOnly: readOnly, handle: fd)
        mapping.extents = ExtentMap(descriptor: fd, ownsDescriptor: false, base: base)
        return mapping
    }

    /// Unmaps a mapping made by `ofDescriptor` and closes its descriptor (the extent map only borrows it).
    static func unmapDescriptor(_ mapping: Mapping) {
        if let base = mapping.base { Sys.munmap(base, mapping.size) }
        Sys.close(mapping.handle)
    }

    /// Copies bytes out. A fault (the object shrank under us) is reported instead of killing the process.
    func copy(to destination: UnsafeMutableRawPointer, offset: Int, count: Int) -> Bool {
        guard count > 0 else { return true }
        guard let base else { return false }
        return shm_shim_safe_memcpy(destination, base + offset, count) == 0
    }

    /// Copies bytes out visiting only pages that exist: holes are filled with zeros (or left alone when
    /// `zeroFilled` says the destination already is), so reading never allocates a page of a sparse segment.
    func copySparse(to destination: UnsafeMutableRawPointer, offset: Int, count: Int, zeroFilled: Bool = false) -> Bool
    {
        guard count > 0 else { return true }
        return extents.visit(offset..<(offset + count)) { part in
            copy(to: destination + (part.lowerBound - offset), offset: part.lowerBound, count: part.count)
        } hole: { part in
            if !zeroFilled { memset(destination + (part.lowerBound - offset), 0, part.count) }
        }
    }

    func copy(from source: UnsafeRawPointer, offset: Int, count: Int) -> Bool {
        guard count > 0 else { return true }
        guard let base, !readOnly else { return false }
        return shm_shim_safe_memcpy(base + offset, source, count) == 0
    }
}
