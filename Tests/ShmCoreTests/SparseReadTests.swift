import Glibc
import ShmTestSupport
import Testing

@testable import ShmCore

/// Reads of sparse segments visit only pages that exist: holes read as zeros and are never faulted in, so the
/// segment's allocation (st_blocks for POSIX, the kernel's rss for System V) is the same after looking as before.
@Suite struct SparseReadTests {
    static func blocks(posix name: String) -> Int {
        var st = stat()
        return stat("/dev/shm" + name, &st) == 0 ? Int(st.st_blocks) : -1
    }

    static func residentBytes(shmid: Int32) -> Int {
        ProcViews.systemVSegments().first { $0.shmid == shmid }?.rss ?? -1
    }

    /// Data at a few offsets of a mostly empty segment, and the bytes a full read must give back.
    static let writes: [(offset: Int, bytes: [UInt8])] = [
        (0, Array("head".utf8)), (5 << 20 + 7, Array("middle".utf8)), ((16 << 20) - 3, Array("end".utf8)),
    ]

    static func expected(size: Int) -> [UInt8] {
        var all = [UInt8](repeating: 0, count: size)
        for w in writes { all.replaceSubrange(w.offset..<(w.offset + w.bytes.count), with: w.bytes) }
        return all
    }

    @Test func posixHolesReadAsZerosWithoutAllocating() throws {
        let name = "/" + uniqueName("sparseposix")
        defer { cleanUp(.posix(name: name)) }
        let size = 16 << 20
        let fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o600)
        try #require(fd >= 0)
        #expect(ftruncate(fd, off_t(size)) == 0)
        for w in Self.writes {
            #expect(w.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(w.offset)) } == w.bytes.count)
        }
        close(fd)
        let before = Self.blocks(posix: name)
        #expect(before > 0 && before < 64)

        let memory = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try memory.attach(.readOnly)
        defer { try? memory.detach() }
        #expect(try memory.read() == Self.expected(size: size))
        // In chunks, as every scan reads: the same bytes, and a chunk inside a hole is known without reading it.
        // The kernel is asked about each extent, not each chunk: 256 chunks, three data extents, a few lseeks (not 2 per chunk).
        var chunked = [UInt8](repeating: 0xff, count: size)
        let mock = SyscallMock()
        try mock.run {
            try chunked.withUnsafeMutableBytes { all in
                for offset in stride(from: 0, to: size, by: 64 << 10) {
                    try memory.read(
                        into: UnsafeMutableRawBufferPointer(rebasing: all[offset..<(offset + (64 << 10))]),
                        offset: offset)
                }
            }
        }
        #expect(chunked == Self.expected(size: size))
        #expect(mock.calls(.lseek).count <= 64, "\(mock.calls(.lseek).count) lseeks for 256 chunks")
        #expect(memory.isHole(offset: 8 << 20, count: 64 << 10))
        #expect(!memory.isHole(offset: 0, count: 64 << 10))
        let watcher = SegmentWatcher(memory: memory)
        #expect(watcher.poll(now: 0).isEmpty)
        #expect(Self.blocks(posix: name) == before)

        // A write into a hole is seen by the next pass.
        let writer = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try writer.attach()
        try writer.write([1, 2], at: 9 << 20)
        #expect(watcher.poll(now: 1) == [.change(ByteChange(offset: 9 << 20, old: [0, 0], new: [1, 2]))])
        try writer.detach()
    }

    @Test func systemVHolesReadAsZerosThroughMapFiles() throws {
        let size = 16 << 20
        let key = key_t(bitPattern: 0x5e00_0000 | UInt32.random(in: 0...0xffffff))
        let creator = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try creator.create(size: size)
        defer { try? creator.remove() }
        for w in Self.writes { try creator.write(w.bytes, at: w.offset) }
        let shmid = try #require(creator.shmid)
        try creator.detach()
        let before = Self.residentBytes(shmid: shmid)
        #expect(before > 0 && before <= 3 * 4096)

        let memory = SharedMemory(.sysvID(shmid), options: .init(detachPolicy: .keep))
        try memory.attach(.readOnly)
        defer { try? memory.detach() }
        #expect(try memory.read() == Self.expected(size: size))
        #expect(memory.isHole(offset: 8 << 20, count: 64 << 10))
        let watcher = SegmentWatcher(memory: memory)
        #expect(watcher.poll(now: 0).isEmpty)
        #expect(Self.residentBytes(shmid: shmid) == before)
    }

    /// Where the kernel cannot say (lseek fails), every byte is read as before: still correct, just not sparse.
    @Test func withoutExtentsEverythingIsRead() throws {
        let name = "/" + uniqueName("sparsefallback")
        defer { cleanUp(.posix(name: name)) }
        let creator = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try creator.create(size: 1 << 20)
        try creator.write(Array("x".utf8), at: 700_000)
        let mock = SyscallMock()
        mock.failAlways(.lseek, with: EINVAL)
        let bytes = try mock.run { try creator.read(offset: 699_999, count: 3) }
        #expect(bytes == [0, 0x78, 0])
        #expect(!mock.run { creator.isHole(offset: 0, count: 4096) })
        #expect(!mock.calls(.lseek).isEmpty)
        try creator.detach()
    }

    /// Without CAP_SYS_ADMIN `/proc/self/map_files` cannot be opened (EPERM): a System V segment is then read
    /// whole, as before, and still correctly.
    @Test func systemVWithoutMapFilesIsReadWhole() throws {
        let key = key_t(bitPattern: 0x5b00_0000 | UInt32.random(in: 0...0xffffff))
        let creator = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try creator.create(size: 1 << 20)
        defer { try? creator.remove() }
        try creator.write([9], at: 500_000)
        let memory = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        let mock = SyscallMock()
        mock.failAlways(.open, with: EPERM, when: { $0.path?.hasPrefix("/proc/self/map_files/") == true })
        try mock.run { try memory.attach(.readOnly) }
        defer { try? memory.detach() }
        #expect(
            mock.calls(.open).contains { $0.path?.hasPrefix("/proc/self/map_files/") == true && $0.injected == EPERM })
        #expect(try memory.read(offset: 499_999, count: 3) == [0, 9, 0])
        #expect(!memory.isHole(offset: 0, count: 4096))
        try creator.detach()
    }

    /// A POSIX object truncated under us still fails the read (the copy faults) instead of reading zeros.
    @Test func truncatedObjectIsReportedNotReadAsHoles() throws {
        let name = "/" + uniqueName("sparsetrunc")
        defer { cleanUp(.posix(name: name)) }
        let creator = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try creator.create(size: 1 << 20)
        #expect(truncate("/dev/shm" + name, 4096) == 0)
        #expect(throws: ShmError.self) { try creator.read(offset: 512 << 10, count: 4096) }
        try creator.detach()
    }
}

/// `lseek(SEEK_HOLE)` on a dense object walks every page to the next hole (often the end), so a read whose pages
/// `mincore` reports resident is read without asking: the hex view's window of a dense 1 GiB segment stays cheap.
@Suite struct ResidentFastPathTests {
    @Test func aDenseRangeIsReadWithoutSeeking() throws {
        let name = "/" + uniqueName("dense")
        let writer = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try writer.create(size: 1 << 20)
        defer { try? writer.remove() }
        try writer.write([UInt8](repeating: 0x5A, count: 1 << 20), at: 0)
        let reader = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try reader.attach(.readOnly)
        defer { try? reader.detach() }
        let mock = SyscallMock()
        let bytes = try mock.run { try reader.read(offset: 512 << 10, count: 4096) }
        #expect(bytes == [UInt8](repeating: 0x5A, count: 4096))
        #expect(mock.calls(.lseek).isEmpty, "resident pages need no SEEK_DATA/SEEK_HOLE")
        #expect(mock.calls(.mincore).count == 1)
    }

    @Test func aRangeWithAHoleStillAsksAndReadsZeros() throws {
        let name = "/" + uniqueName("holey")
        let writer = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try writer.create(size: 1 << 20)
        defer { try? writer.remove() }
        try writer.write([1, 2, 3], at: 0)
        let reader = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try reader.attach(.readOnly)
        defer { try? reader.detach() }
        var before = stat()
        _ = stat("/dev/shm" + name, &before)
        let mock = SyscallMock()
        let bytes = try mock.run { try reader.read(offset: 0, count: 64 << 10) }
        #expect(Array(bytes.prefix(4)) == [1, 2, 3, 0])
        #expect(bytes.dropFirst(4).allSatisfy { $0 == 0 })
        #expect(!mock.calls(.lseek).isEmpty, "a hole in the range: the kernel is asked")
        var after = stat()
        _ = stat("/dev/shm" + name, &after)
        #expect(after.st_blocks == before.st_blocks, "the hole was not faulted in")
    }
}
