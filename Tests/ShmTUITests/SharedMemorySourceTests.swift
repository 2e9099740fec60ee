import Glibc
import ShmCore
import ShmTestSupport
import Testing

@testable import ShmTUI

/// The real LiveSource over a POSIX segment: reads, writes, and lock status as the status line shows it.
@Suite struct SharedMemorySourceTests {
    @Test func readsWritesAndReportsTheLockHolder() throws {
        let name = "/" + uniqueName("tuisource")
        defer { cleanUp(.posix(name: name)) }
        let creator = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try creator.create(size: 64)
        try creator.write(Array("abc".utf8), at: 0)

        let ours = try SharedMemorySource(target: .posix(name: name), readOnly: false)
        let other = try SharedMemorySource(target: .posix(name: name), readOnly: true)
        #expect(ours.targetName == name)
        #expect(ours.kindName == "POSIX")
        #expect(ours.size == 64)
        #expect(!ours.isReadOnly && other.isReadOnly)
        #expect(try ours.read(offset: 0, count: 3) == Array("abc".utf8))
        try ours.write([0x7a], at: 1)
        #expect(try other.read(offset: 0, count: 3) == Array("azc".utf8))
        #expect(throws: (any Error).self) { try other.write([1], at: 0) }

        #expect(ours.lockStatus() == .unlocked)
        #expect(try ours.tryLock(timeout: .milliseconds(20)))
        #expect(ours.lockStatus() == .lockedByUs)
        guard case .heldBy(let pid, _) = other.lockStatus() else {
            Issue.record("expected held by us as another holder, got \(other.lockStatus())")
            return
        }
        #expect(pid == getpid())
        ours.close()
        #expect(other.lockStatus() == .unlocked)
        other.close()
        try creator.detach()
    }

    @Test func processCommandReadsProcComm() {
        #expect(processCommand(getpid())?.isEmpty == false)
        #expect(processCommand(-5) == nil)
    }
}
