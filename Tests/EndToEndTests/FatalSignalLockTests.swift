import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// A POSIX semaphore has no undo: when shmscope dies of a fatal signal while holding one, its handler
/// (CShmShims `shm_shim_held_sem_add`) posts it first, so a crash cannot hang every Qt 6 peer. The crash still
/// happens: the exit status is the signal's.
@Suite struct FatalSignalLockTests {
    @Test(arguments: [SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP])
    func fatalSignalWhileHoldingAPosixLockReleasesIt(signal sig: Int32) throws {
        let key = uniqueName("crash")
        let target = SegmentTarget.qtNative(key: key, type: .posix)
        defer { cleanUp(target) }
        #expect(try ShmscopeBinary.run(["create", "qt6:\(key)", "--size", "64"]).status == 0)
        let holder = try ShmscopeBinary.start(["lock", "qt6:\(key)", "--hold", "60"])
        #expect(holder.readLine() == "locked qt6:\(key)")
        let probe = SharedMemory(target, options: .init(detachPolicy: .keep))
        #expect(probe.lockState()?.value == 0)
        holder.signal(sig)
        #expect(holder.wait() == 128 + sig)
        #expect(probe.lockState()?.value == 1, "signal \(sig) left the lock taken")
    }

    /// The guard of the fault-safe copy shares the handler: a copy that faults is still an error, not a crash,
    /// and does not give back a lock we hold (the lock is released once, by unlock).
    @Test func guardedCopyFaultKeepsTheLockHeld() throws {
        let key = uniqueName("guard")
        let target = SegmentTarget.qtNative(key: key, type: .posix)
        defer { cleanUp(target) }
        let creator = SharedMemory(target, options: .init(detachPolicy: .keep))
        try creator.create(size: 8192)
        try creator.lock()
        // Shrink the object under our own mapping: reading past the new end faults (SIGBUS) inside the copy.
        let fd = shm_open("/" + key, O_RDWR, 0)
        #expect(fd >= 0)
        #expect(ftruncate(fd, 0) == 0)
        close(fd)
        #expect(throws: ShmError.self) { _ = try creator.read(offset: 4096, count: 16) }
        #expect(creator.lockState()?.value == 0)
        try creator.unlock()
        #expect(creator.lockState()?.value == 1)
    }
}
