import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// In-process lifecycle, data and error tests on real System V and POSIX objects.
@Suite struct SegmentTests {
    @Test func qtKeyCreateWriteReadDetachRemovesEverything() throws {
        let key = uniqueName("life")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 1000)
        #expect(m.isAttached && m.size == 1000)
        try m.withLock { try m.write(Array("hello".utf8), at: 0) }
        #expect(try m.read(offset: 0, count: 5) == Array("hello".utf8))

        // Qt's modes: key files 0640 (minus umask), segment 0600, semaphore 0600.
        let keyFile = m.nativeKey
        var st = stat()
        #expect(lstat(keyFile, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o640 & ~currentUmask())
        var ds = shmid_ds()
        #expect(shmctl(m.shmid!, IPC_STAT, &ds) == 0)
        #expect(ds.shm_perm.mode & 0o777 == 0o600)
        #expect(ds.shm_segsz == 1000)
        let lock = try #require(m.lockState())
        #expect(lock.value == 1 && lock.mechanism == .qtSystemV)

        let id = m.shmid!
        try m.detach()
        #expect(!m.isAttached)
        #expect(shmctl(id, IPC_STAT, &ds) == -1)
        #expect(access(keyFile, F_OK) == -1)
    }

    @Test func keepPolicyLeavesSegmentForPeers() throws {
        let target = SegmentTarget.qt(key: uniqueName("keep"), backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.create(size: 64)
        try m.write([1, 2, 3], at: 10)
        try m.detach()
        let again = SharedMemory(target, options: .init(detachPolicy: .keep))
        try again.attach(.readOnly)
        #expect(try again.read(offset: 10, count: 3) == [1, 2, 3])
    }

    @Test func readOnlyAttachIsReallyReadOnly() throws {
        let target = SegmentTarget.qt(key: uniqueName("ro"), backend: .systemV)
        defer { cleanUp(target) }
        let owner = SharedMemory(target, options: .init(detachPolicy: .keep))
        try owner.create(size: 4096)
        let ro = SharedMemory(target, options: .init(detachPolicy: .keep))
        try ro.attach(.readOnly)
        #expect(ro.isReadOnly)
        let error = #expect(throws: ShmError.self) { try ro.write([1], at: 0) }
        #expect(error?.kind == .permissionDenied)
        // The kernel mapping itself has no write permission.
        let maps = String(decoding: try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps")).readToEnd() ?? Data(), as: UTF8.self)
        let sysvName = "/SYSV" + hex32(try sysvKey(of: owner)).dropFirst(2)
        let perms = maps.split(separator: "\n").filter { $0.contains(sysvName) }.map { $0.split(separator: " ")[1] }
        #expect(perms.contains("r--s"))
        #expect(perms.contains("rw-s"))
    }

    @Test func posixCreateAttachReadOnlyAndRemove() throws {
        let target = SegmentTarget.posix(name: "/" + uniqueName("px"))
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 10000)
        #expect(m.size == 10000)
        try m.write(Array("posix".utf8), at: 9995)
        var st = stat()
        #expect(stat("/dev/shm" + m.nativeKey, &st) == 0 && st.st_mode & 0o777 == 0o600 & ~currentUmask())
        let ro = SharedMemory(target)
        try ro.attach(.readOnly)
        #expect(try ro.read(offset: 9995, count: 5) == Array("posix".utf8))
        #expect(throws: ShmError.self) { try ro.write([0], at: 0) }
        // The flock lock works and reports us as holder.
        #expect(try m.tryLock(timeout: .milliseconds(100)))
        #expect(m.lockState()?.lastPID == getpid())
        #expect(try !ro.tryLock(timeout: .milliseconds(50)))
        try m.unlock()
        try m.detach()
        try m.remove()
        #expect(access("/dev/shm" + m.nativeKey, F_OK) == -1)
    }

    @Test func truncatedPosixSegmentDoesNotCrash() throws {
        let target = SegmentTarget.posix(name: "/" + uniqueName("trunc"))
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 4 * 4096)
        try m.write([0x41, 0x41], at: 0)
        // A peer shrinks the object under our mapping.
        #expect(truncate("/dev/shm" + m.nativeKey, 4096) == 0)
        let error = #expect(throws: ShmError.self) { try m.read(offset: 3 * 4096, count: 16) }
        #expect(error?.kind == .notFound)
        #expect(error?.message.contains("truncated") == true)
        #expect(throws: ShmError.self) { try m.write([1], at: 3 * 4096) }
        #expect(try m.read(offset: 0, count: 2) == [0x41, 0x41])
        #expect(m.currentSize() == 4096)
    }

    @Test func rawSystemVWithNamedSemaphore() throws {
        let key = key_t(bitPattern: 0x7300_0000 | UInt32(getpid() & 0xffff) << 8 | UInt32.random(in: 0...255))
        let semKey = key_t(bitPattern: UInt32(bitPattern: key) ^ 0x0100_0000)
        let semid = semget(semKey, 1, 0o600 | IPC_CREAT | IPC_EXCL)
        try #require(semid >= 0)
        defer { _ = shmctl(shmget(key, 0, 0), IPC_RMID, nil); cleanUpSemaphore(semid) }
        #expect(setSemaphore(semid, 1))
        let m = SharedMemory(.sysvKey(key), options: .init(semaphore: .key(semKey)))
        try m.create(size: 256)
        try m.withLock { try m.write([9, 8, 7], at: 253) }
        #expect(try m.read(offset: 253, count: 3) == [9, 8, 7])
        let byID = SharedMemory(.sysvID(m.shmid!), options: .init(semaphore: .id(semid)))
        try byID.attach(.readOnly)
        #expect(byID.size == 256)
        #expect(try m.tryLock(timeout: .milliseconds(10)))
        #expect(try !byID.tryLock(timeout: .milliseconds(50)))
        #expect(byID.lockState()?.value == 0 && byID.lockState()?.lastPID == getpid())
        try m.unlock()
        let noLock = SharedMemory(.sysvKey(key))
        #expect(!noLock.hasLock)
        #expect((#expect(throws: ShmError.self) { try noLock.lock() })?.kind == .lockError)
    }

    // MARK: Bad input

    @Test func badKeysAndSizes() throws {
        let empty = SharedMemory(.qt(key: "", backend: .systemV))
        #expect((#expect(throws: ShmError.self) { try empty.create(size: 10) })?.kind == .keyError)
        #expect((#expect(throws: ShmError.self) { try empty.attach() })?.kind == .keyError)

        let fits = String(repeating: "k", count: 197)
        let tooLong = String(repeating: "k", count: 198)
        let longTarget = SegmentTarget.qt(key: fits, backend: .systemV)
        defer { cleanUp(longTarget) }
        let ok = SharedMemory(longTarget)
        try ok.create(size: 16)
        try ok.detach()
        #expect((#expect(throws: ShmError.self) { try SharedMemory(.qt(key: tooLong, backend: .systemV)).create(size: 16) })?.kind == .keyError)
        #expect((#expect(throws: ShmError.self) { try SharedMemory(.qt(key: String(repeating: "p", count: 197), backend: .posix)).create(size: 16) })?.kind == .keyError)

        let target = SegmentTarget.qt(key: uniqueName("size"), backend: .systemV)
        defer { cleanUp(target) }
        for size in [0, -1] {
            #expect((#expect(throws: ShmError.self) { try SharedMemory(target).create(size: size) })?.kind == .invalidSize)
        }
        // Qt maps shmget's ENOMEM to OutOfResources and EINVAL to InvalidSize; the kernel picks which.
        let huge = #expect(throws: ShmError.self) { try SharedMemory(target).create(size: Int.max) }
        #expect(huge?.kind == .invalidSize || huge?.kind == .outOfResources)
        let px = SegmentTarget.posix(name: "/" + uniqueName("absurd"))
        defer { cleanUp(px) }
        let absurd = #expect(throws: ShmError.self) { try SharedMemory(px).create(size: Int.max) }
        #expect(absurd?.kind == .invalidSize || absurd?.kind == .outOfResources)
        #expect(access("/dev/shm" + SharedMemory(px).nativeKey, F_OK) == -1)
    }

    @Test func attachToMissingSegments() {
        for target in [
            SegmentTarget.qt(key: uniqueName("missing"), backend: .systemV),
            .qt(key: uniqueName("missing"), backend: .posix),
            .posix(name: "/" + uniqueName("missing")),
            .sysvKey(0x7eadbeef),
            .sysvID(Int32.max - 7),
        ] {
            let m = SharedMemory(target)
            let error = #expect(throws: ShmError.self, "\(target)") { try m.attach(.readOnly) }
            #expect(error?.kind == .notFound || error?.kind == .unknown, "\(target): \(String(describing: error))")
            #expect(!m.isAttached)
        }
        // A read-write attach that fails takes back the lock objects it created on the way (Qt would leave them).
        for target in [
            SegmentTarget.qt(key: uniqueName("typo"), backend: .systemV), .qtNative(key: uniqueName("typo"), type: .systemV),
            .qtNative(key: uniqueName("typo"), type: .posix), .qt(key: uniqueName("typo"), backend: .posix),
        ] {
            let m = SharedMemory(target)
            #expect(throws: ShmError.self) { try m.attach(.readWrite) }
            #expect(m.lockState() == nil, "\(target) left its lock")
            if case .qt(let key, .systemV) = target {
                let semFile = QtNaming.tempPath() + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
                #expect(access(semFile, F_OK) == -1)
            }
            if case .qtNative(_, .systemV) = target { #expect(access(m.nativeKey, F_OK) == -1) }
            if case .qtNative(let key, .posix) = target { #expect(access("/dev/shm/sem." + key, F_OK) == -1) }
        }
        // A read-only attach must not create key files or semaphores as a side effect.
        let key = uniqueName("nosidefx")
        _ = try? SharedMemory(.qt(key: key, backend: .systemV)).attach(.readOnly)
        let semFile = QtNaming.tempPath() + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
        #expect(access(semFile, F_OK) == -1)
    }

    @Test func outOfRangeAccessIsRefusedWhole() throws {
        let target = SegmentTarget.posix(name: "/" + uniqueName("range"))
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 8)
        try m.write([1, 2, 3, 4, 5, 6, 7, 8], at: 0)
        #expect((#expect(throws: ShmError.self) { try m.write([9, 9], at: 7) })?.kind == .invalidSize)
        #expect(try m.read() == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(throws: ShmError.self) { try m.read(offset: -1, count: 1) }
        #expect(throws: ShmError.self) { try m.read(offset: 4, count: 5) }
        let detached = SharedMemory(target)
        #expect((#expect(throws: ShmError.self) { try detached.read() })?.kind == .notFound)
        #expect((#expect(throws: ShmError.self) { try detached.detach() })?.kind == .notFound)
    }

    @Test func plantedSymlinkKeyFileIsRefused() throws {
        let dir = "/tmp/shmscope-sym-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = uniqueName("sym")
        let victim = dir + "/victim"
        let opts = SharedMemory.Options(temporaryDirectory: dir)
        let m = SharedMemory(.qt(key: key, backend: .systemV), options: opts)
        #expect(symlink(victim, m.nativeKey) == 0)
        let error = #expect(throws: ShmError.self) { try m.create(size: 16) }
        #expect(error?.kind == .keyError)
        #expect(access(victim, F_OK) == -1, "the symlink target must not be created")
        cleanUp(.qt(key: key, backend: .systemV), temporaryDirectory: dir)
    }

    private func sysvKey(of m: SharedMemory) throws -> key_t {
        var ds = shmid_ds()
        try #require(shmctl(m.shmid!, IPC_STAT, &ds) == 0)
        return ds.shm_perm.__key
    }
}

func currentUmask() -> mode_t {
    let old = umask(0o022)
    umask(old)
    return old
}
