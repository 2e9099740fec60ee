import Foundation
import Glibc
import ShmTestSupport
import Synchronization
import Testing

@testable import ShmCore

/// The error paths Qt compatibility depends on, proved through the system-call seam: no real kernel failure is
/// needed, each test makes one call fail with one errno (once, or N times) and checks what the core did next.
/// Every test uses its own names and removes what it made, even when it fails.
@Suite struct SyscallSeamTests {
    // MARK: Helpers

    /// The semaphore set a Qt lock key file names now, or nil.
    static func semaphoreID(keyFile: String) -> Int32? {
        let key = ftok(keyFile, 0x51)
        guard key != -1 else { return nil }
        let id = semget(key, 0, 0)
        return id == -1 ? nil : id
    }

    static func semaphoreKeyFile(_ m: SharedMemory, key: String) -> String {
        m.temporaryDirectory + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// The error `body` throws, or nil when it succeeds.
    static func failure(_ body: () throws(ShmError) -> Void) -> ShmError? {
        do {
            try body()
            return nil
        } catch { return error }
    }

    /// A value a fault's `then` hook can hand back to the test.
    final class Box<T: Sendable>: Sendable {
        private let value: Mutex<T?> = Mutex(nil)
        func set(_ v: T) { value.withLock { $0 = v } }
        var get: T? { value.withLock { $0 } }
    }

    // MARK: The seam itself

    @Test func aFaultFiresTheGivenNumberOfTimesAndEveryCallIsRecorded() {
        let mock = SyscallMock()
        mock.fail(.lstat, with: EACCES, times: 2, when: { $0.path == "/" })
        let results: [Int32?] = mock.run {
            (0..<3).map { _ -> Int32? in
                do {
                    _ = try Sys.lstat("/")
                    return nil
                } catch { return (error as? Errno)?.code }
            }
        }
        #expect(results == [EACCES, EACCES, nil])
        #expect(mock.calls(.lstat).map(\.injected) == [EACCES, EACCES, nil])
        // Outside `run` nothing is diverted or recorded.
        #expect((try? Sys.lstat("/")) != nil)
        #expect(mock.calls(.lstat).count == 3)
    }

    @Test func aDriverIsLocalToItsTask() async {
        let mock = SyscallMock()
        mock.failAlways(.lstat, with: EIO)
        let (here, elsewhere): (Bool, Bool) = await SyscallSeam.with(mock) {
            let here = (try? Sys.lstat("/")) != nil
            // A detached task (like a test running in parallel) does not inherit the driver.
            let elsewhere = await Task.detached { (try? Sys.lstat("/")) != nil }.value
            return (here, elsewhere)
        }
        #expect(!here && elsewhere)
    }

    @Test func eintrFromTheDriverIsRetriedLikeTheKernelsAndClosedIsNot() {
        let mock = SyscallMock()
        mock.fail(.lstat, with: EINTR, times: 3)
        mock.fail(.close, with: EINTR, times: 1)
        mock.run {
            #expect((try? Sys.lstat("/")) != nil)
            Sys.close(-1)
        }
        #expect(mock.calls(.lstat).count == 4)
        // close is never retried on Linux: the descriptor is gone even after EINTR.
        #expect(mock.calls(.close).count == 1)
    }

    // MARK: (a) The semaphore re-created on EIDRM

    /// Qt: on EINVAL/EIDRM the semaphore was removed (a Qt owner exited, systemd's RemoveIPC): re-derive the key from
    /// the key file, re-create file and set with value 1, and retry (qt-ipc.md §3, §8).
    @Test(arguments: [Syscall.semop, .semtimedop])
    func aRemovedSemaphoreIsRecreatedAndTheLockTaken(call: Syscall) throws {
        let key = uniqueName("eidrm")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 64)
        let semKeyFile = Self.semaphoreKeyFile(m, key: key)
        let old = try #require(Self.semaphoreID(keyFile: semKeyFile))
        defer { cleanUpSemaphore(old) }

        // At the moment we wait, the owner removes set and key file (as Qt's owner cleanup does), and the kernel
        // answers EIDRM.
        let mock = SyscallMock()
        mock.fail(
            call, with: EIDRM, times: 1, when: { $0.arguments.first == Int(old) && $0.arguments[2] == -1 },
            then: {
                cleanUpSemaphore(old)
                unlink(semKeyFile)
            })
        let locked = try mock.run {
            if call == .semop {
                try m.lock()
                return true
            }
            return try m.tryLock(timeout: .seconds(2))
        }
        #expect(locked && m.isLockedByUs)
        #expect(mock.calls(call).first?.injected == EIDRM)
        #expect(
            mock.calls(.semget).contains { $0.arguments[2] & Int(IPC_CREAT | IPC_EXCL) == Int(IPC_CREAT | IPC_EXCL) })

        let new = try #require(Self.semaphoreID(keyFile: semKeyFile), "key file and set are re-created")
        #expect(new != old)
        #expect(!semaphoreExists(old))
        #expect((try? Sys.semctl(new, getValue: 0)) == 0, "held by us")
        try m.unlock()
        #expect((try? Sys.semctl(new, getValue: 0)) == 1, "a re-created Qt semaphore is a free mutex again")
        try m.detach()
        #expect(!semaphoreExists(new))
    }

    @Test func aSemaphoreThatKeepsDisappearingEndsInALockError() throws {
        let key = uniqueName("eidrm_loop")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 64)
        let mock = SyscallMock()
        mock.failAlways(.semop, with: EIDRM)
        let error = mock.run { Self.failure { () throws(ShmError) in try m.lock() } }
        #expect(error?.kind == .lockError)
        #expect(!m.isLockedByUs)
        try m.detach()
    }

    // MARK: (b) The key-file EEXIST race

    /// A peer creates the key file between our check and our O_EXCL open: EEXIST is "it exists", not an error;
    /// the file is the peer's, so a later failure must not remove it.
    @Test func aKeyFileAPeerCreatedFirstIsUsedAndLeftToThePeer() throws {
        let key = uniqueName("race")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        let keyFile = m.nativeKey
        let mock = SyscallMock()
        mock.fail(
            .open, with: EEXIST, when: { $0.path == keyFile },
            then: {
                let fd = open(keyFile, O_CREAT | O_EXCL | O_WRONLY, 0o640)
                if fd >= 0 { close(fd) }
            })
        try mock.run { try m.create(size: 128) }
        #expect(m.isAttached && m.size == 128)
        #expect(mock.calls(.open).filter { $0.path == keyFile }.map(\.injected) == [EEXIST])
        #expect(mock.calls(.lstat).contains { $0.path == keyFile }, "the existing entry is checked")
        try m.detach()

        // Same race, then shmget fails: the peer's key file stays.
        let key2 = uniqueName("race_fail")
        let target2 = SegmentTarget.qt(key: key2, backend: .systemV)
        defer { cleanUp(target2) }
        let m2 = SharedMemory(target2)
        let keyFile2 = m2.nativeKey
        let mock2 = SyscallMock()
        mock2.fail(
            .open, with: EEXIST, when: { $0.path == keyFile2 },
            then: {
                let fd = open(keyFile2, O_CREAT | O_EXCL | O_WRONLY, 0o640)
                if fd >= 0 { close(fd) }
            })
        mock2.fail(.shmget, with: ENOSPC)
        #expect(throws: ShmError.self) { try mock2.run { try m2.create(size: 128) } }
        #expect(Self.exists(keyFile2), "not ours to remove")
        #expect(!Self.exists(Self.semaphoreKeyFile(m2, key: key2)), "but the lock objects we made are taken back")
        unlink(keyFile2)
    }

    @Test func aKeyFileThatIsGoneAgainAfterEEXISTIsCreatedOnTheNextTry() throws {
        let key = uniqueName("race_gone")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        let keyFile = m.nativeKey
        let mock = SyscallMock()
        // EEXIST, but by the time we look the peer's last detach has removed it.
        mock.fail(.open, with: EEXIST, when: { $0.path == keyFile })
        try mock.run { try m.create(size: 32) }
        #expect(mock.calls(.open).filter { $0.path == keyFile }.map(\.injected) == [EEXIST, nil])
        #expect(Self.exists(keyFile))
        try m.detach()
        #expect(!Self.exists(keyFile), "we created it, so the last one out (us) removes it")
    }

    @Test func aPlantedSymlinkIsRefusedAndNothingIsLeftBehind() throws {
        let key = uniqueName("race_link")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        let keyFile = m.nativeKey
        let semKeyFile = Self.semaphoreKeyFile(m, key: key)
        defer { unlink(keyFile) }
        let mock = SyscallMock()
        mock.fail(.open, with: EEXIST, when: { $0.path == keyFile }, then: { _ = symlink("/etc/passwd", keyFile) })
        let error = mock.run { Self.failure { () throws(ShmError) in try m.create(size: 32) } }
        #expect(error?.kind == .keyError)
        #expect(error?.message.contains("not a regular file") == true)
        #expect(!m.isAttached)
        #expect(!Self.exists(semKeyFile), "the lock's key file this create made is removed")
        #expect(Self.exists(keyFile), "the planted link is not ours to remove")
    }

    // MARK: (c) A lock wait interrupted by a signal

    @Test func semopInterruptedBySignalsIsRetried() throws {
        let key = uniqueName("eintr")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 16)
        let mock = SyscallMock()
        mock.fail(.semop, with: EINTR, times: 3)
        try mock.run { try m.lock() }
        #expect(m.isLockedByUs)
        #expect(mock.calls(.semop).map(\.injected) == [EINTR, EINTR, EINTR, nil])
        try m.unlock()
        try m.detach()
    }

    /// semtimedop is not retried inside `Sys`: the lock recomputes what is left of the timeout after each signal.
    @Test func semtimedopInterruptedBySignalsIsRetriedWithTheRemainingTime() throws {
        let key = uniqueName("eintr_timed")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 16)
        let mock = SyscallMock()
        // Each "signal" arrives 100 ms into the wait.
        mock.fail(.semtimedop, with: EINTR, times: 2, then: { usleep(100_000) })
        let locked = try mock.run { try m.tryLock(timeout: .seconds(2)) }
        #expect(locked && m.isLockedByUs)
        let waits = mock.calls(.semtimedop)
        #expect(waits.map(\.injected) == [EINTR, EINTR, nil])
        let timeouts = waits.map { $0.arguments.last! }
        #expect(timeouts[0] <= 2_000_000_000 && timeouts[0] > 1_900_000_000)
        #expect(timeouts[1] <= timeouts[0] - 100_000_000)
        #expect(timeouts[2] <= timeouts[1] - 100_000_000)
        #expect(timeouts[2] > 0)
        try m.unlock()
        try m.detach()
    }

    @Test func aPosixSemaphoreWaitInterruptedBySignalsIsRetried() throws {
        let key = uniqueName("eintr_posix")
        let target = SegmentTarget.qt(key: key, backend: .posix)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 16)
        let mock = SyscallMock()
        mock.fail(.semWait, with: EINTR, times: 2)
        try mock.run { try m.lock() }
        #expect(m.isLockedByUs)
        #expect(mock.calls(.semWait).count == 3)
        try m.unlock()
        try m.detach()
    }

    // MARK: errno → ShmError kinds, and nothing left behind

    @Test func outOfSpaceOnCreateIsOutOfResourcesAndLeavesNothingBehind() throws {
        let key = uniqueName("enospc")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        let semKeyFile = Self.semaphoreKeyFile(m, key: key)
        let semid = Box<Int32>()
        let mock = SyscallMock()
        // When shmget is reached, the lock's set exists: note it, to check it is gone afterwards.
        mock.fail(
            .shmget, with: ENOSPC,
            then: {
                if let id = SyscallSeamTests.semaphoreID(keyFile: semKeyFile) { semid.set(id) }
            })
        let error = mock.run { Self.failure { () throws(ShmError) in try m.create(size: 4096) } }
        let id = try #require(semid.get)
        defer { cleanUpSemaphore(id) }
        #expect(error?.kind == .outOfResources)
        #expect(error?.errno == ENOSPC)
        #expect(error?.operation == "shmget")
        // The advice fits the call: out of System V ids/pages, never a file system or kernel.shmmax for ENOSPC.
        #expect(error?.message.contains("out of System V segments or pages") == true)
        #expect(!m.isAttached)
        #expect(!Self.exists(m.nativeKey), "segment key file removed")
        #expect(!Self.exists(semKeyFile), "semaphore key file removed")
        #expect(!semaphoreExists(id), "semaphore set removed")
    }

    /// No semaphore set left (semget ENOSPC, kernel.sem's SEMMNI): Qt's "unable to set key on lock", out of resources;
    /// the lock's key file made on the way is removed and the segment's is never made.
    @Test func noSemaphoreSetLeftOnCreateIsOutOfResourcesAndLeavesNothingBehind() throws {
        let key = uniqueName("semget_enospc")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        let semKeyFile = Self.semaphoreKeyFile(m, key: key)
        let mock = SyscallMock()
        mock.fail(.semget, with: ENOSPC)
        let error = mock.run { Self.failure { () throws(ShmError) in try m.create(size: 64) } }
        #expect(error?.kind == .outOfResources)
        #expect(error?.operation == "semget")
        #expect(error?.errno == ENOSPC)
        #expect(!Self.exists(semKeyFile))
        #expect(!Self.exists(m.nativeKey))
        #expect(mock.calls(.shmget).isEmpty)
    }

    @Test func permissionDeniedOnAttachSaysWhatToDo() throws {
        let key = uniqueName("eacces")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let owner = SharedMemory(target)
        try owner.create(size: 64)
        let other = SharedMemory(target)
        let mock = SyscallMock()
        mock.fail(.shmget, with: EACCES)
        let error = mock.run { Self.failure { () throws(ShmError) in try other.attach() } }
        #expect(error?.kind == .permissionDenied)
        #expect(error?.errno == EACCES)
        #expect(
            error?.message
                == "cannot attach: permission denied: run as the segment's owner, or attach read-only if you may read it"
        )
        #expect(!other.isAttached)
        // The owner's lock is untouched: the failed attach created nothing it could take back.
        #expect(owner.lockState() != nil)
        try owner.detach()
    }

    @Test func outOfMemoryWhenMappingAPosixObjectClosesItsDescriptor() throws {
        let name = "/" + uniqueName("enomem")
        let target = SegmentTarget.posix(name: name)
        defer { cleanUp(target) }
        let creator = SharedMemory(target)
        try creator.create(size: 4096)
        let viewer = SharedMemory(target)
        let mock = SyscallMock()
        mock.fail(.mmap, with: ENOMEM)
        let error = mock.run { Self.failure { () throws(ShmError) in try viewer.attach(.readOnly) } }
        #expect(error?.kind == .outOfResources)
        #expect(error?.operation == "mmap")
        let opened = try #require(mock.trace.firstIndex { $0.call == .shmOpen })
        #expect(mock.trace[opened...].contains { $0.call == .close }, "the descriptor is closed again")
        try creator.detach()
    }

    @Test func aQtPosixCreateThatCannotMapRemovesTheObjectAndItsSemaphore() throws {
        let key = uniqueName("posix_fail")
        let target = SegmentTarget.qt(key: key, backend: .posix)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        let object = "/dev/shm" + m.nativeKey
        let semaphore = "/dev/shm/sem." + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
        for (call, code, kind) in [
            (Syscall.ftruncate, ENOSPC, ShmError.Kind.outOfResources), (.mmap, ENOMEM, .outOfResources),
            (.shmOpen, EACCES, .permissionDenied),
        ] {
            let mock = SyscallMock()
            mock.fail(call, with: code)
            let error = mock.run { Self.failure { () throws(ShmError) in try m.create(size: 4096) } }
            #expect(error?.kind == kind, "\(call)")
            #expect(error?.errno == code, "\(call)")
            #expect(!Self.exists(object), "\(call): object unlinked")
            #expect(!Self.exists(semaphore), "\(call): lock semaphore unlinked")
        }
    }

    @Test func theKernelsLimitsOnCreateMapToInvalidSizeAndAlreadyExists() throws {
        let target = SegmentTarget.qt(key: uniqueName("limits"), backend: .systemV)
        defer { cleanUp(target) }
        for (code, kind) in [(EINVAL, ShmError.Kind.invalidSize), (ENOMEM, .outOfResources), (EEXIST, .alreadyExists)] {
            let m = SharedMemory(target)
            let mock = SyscallMock()
            mock.fail(.shmget, with: code)
            let error = mock.run { Self.failure { () throws(ShmError) in try m.create(size: 64) } }
            #expect(error?.kind == kind)
            #expect(error?.errno == code)
        }
    }

    @Test func removingAQtPosixKeyWhoseObjectIsGoneStillRemovesItsSemaphore() throws {
        let key = uniqueName("posix_sem_left")
        let target = SegmentTarget.qt(key: key, backend: .posix)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 16)
        try m.detach()
        #expect(shm_unlink(m.nativeKey) == 0)
        let semaphore = "/dev/shm/sem." + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
        #expect(Self.exists(semaphore))
        try SharedMemory(target).remove()
        #expect(!Self.exists(semaphore))
    }

    /// Creating a segment that exists fails with AlreadyExists and leaves its lock alone; the object stays the lock's
    /// owner, as in Qt, so when it is the last one out after attaching, nothing is left behind.
    @Test func createOnAnExistingSegmentKeepsItsLockAndTheLastOneOutCleansUp() throws {
        let key = uniqueName("exists")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let a = SharedMemory(target)
        try a.create(size: 64)
        let semKeyFile = Self.semaphoreKeyFile(a, key: key)
        let semid = try #require(Self.semaphoreID(keyFile: semKeyFile))
        let b = SharedMemory(target)
        let error = Self.failure { () throws(ShmError) in try b.create(size: 64) }
        #expect(error?.kind == .alreadyExists)
        #expect(Self.semaphoreID(keyFile: semKeyFile) == semid)
        try b.attach()
        try a.detach()
        try b.detach()
        #expect(!Self.exists(a.nativeKey))
        #expect(!Self.exists(semKeyFile))
        #expect(!semaphoreExists(semid))
    }
}
