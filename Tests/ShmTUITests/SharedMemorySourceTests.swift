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
        guard case .heldBy(let pid, _, _) = other.lockStatus() else {
            Issue.record("expected held by us as another holder, got \(other.lockStatus())")
            return
        }
        #expect(pid == getpid())
        ours.close()
        #expect(other.lockStatus() == .unlocked)
        other.close()
        try creator.detach()
    }

    /// The hex view's attach: read-only until edit mode or `L` asks for read-write; `--read-only` never does.
    @Test func viewFirstAttachesReadOnlyUntilAskedForReadWrite() throws {
        let name = "/" + uniqueName("tuiview")
        defer { cleanUp(.posix(name: name)) }
        let creator = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try creator.create(size: 64)
        defer { try? creator.detach() }

        let view = try SharedMemorySource(target: .posix(name: name), access: .viewFirst)
        defer { view.close() }
        #expect(!view.isReadOnly)
        #expect(!view.isAttachedReadWrite)
        #expect(view.memory.isReadOnly, "mapped without write permission")
        #expect(throws: ShmError.self) { try view.write([1], at: 0) }
        try view.attachReadWrite()
        #expect(view.isAttachedReadWrite)
        #expect(!view.memory.isReadOnly)
        try view.write([0x42], at: 3)
        #expect(try creator.read(offset: 3, count: 1) == [0x42])
        // Following the segment (a resize) keeps the read-write mode.
        #expect(view.followPresence().isEmpty)
        #expect(view.isAttachedReadWrite)

        let never = try SharedMemorySource(target: .posix(name: name), access: .readOnly)
        defer { never.close() }
        #expect(throws: (any Error).self) { try never.attachReadWrite() }
        #expect(!never.isAttachedReadWrite)
        #expect(try never.read(offset: 3, count: 1) == [0x42])
    }

    @Test func processCommandReadsProcComm() {
        #expect(processCommand(getpid())?.isEmpty == false)
        #expect(processCommand(-5) == nil)
    }
}

/// `watch` attaches through this source read-only: the mapping itself has no write permission, and a write is
/// refused with ShmError.permissionDenied.
@Suite struct ReadOnlySourceTests {
    @Test func readOnlySourceCannotWrite() throws {
        let name = "/" + uniqueName("tuiro")
        defer { cleanUp(.posix(name: name)) }
        let creator = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try creator.create(size: 64)
        defer { try? creator.detach() }
        let source = try SharedMemorySource(target: .posix(name: name), readOnly: true)
        defer { source.close() }
        #expect(source.isReadOnly)
        #expect(throws: ShmError.self) { try source.write([1], at: 0) }
        do {
            try source.write([1], at: 0)
        } catch let error as ShmError {
            #expect(error.kind == .permissionDenied)
        }
        #expect(try source.read(offset: 0, count: 1) == [0])
        // The kernel's view: our mappings of this object are shared and not writable (r--s).
        let maps = String(decoding: try readFile("/proc/self/maps"), as: UTF8.self)
        let ours = maps.split(separator: "\n").filter { $0.hasSuffix("/dev/shm" + name) }
        #expect(ours.contains { $0.split(separator: " ")[1] == "r--s" })
    }
}

/// The source follows the segment as `watch --log` does: truncation, unlink, creation under the same name.
@Suite struct SourcePresenceTests {
    @Test func followsTruncationRemovalAndRecreation() throws {
        let name = "/" + uniqueName("tuipresence")
        defer { cleanUp(.posix(name: name)) }
        let creator = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try creator.create(size: 64)
        let source = try SharedMemorySource(target: .posix(name: name), readOnly: true)
        defer { source.close() }
        #expect(source.followPresence() == [])
        #expect(truncate("/dev/shm" + name, 16) == 0)
        #expect(source.followPresence() == [.resized(from: 64, to: 16)])
        #expect(source.size == 16 && source.isReadOnly)
        try creator.remove()
        #expect(source.followPresence() == [.removed])
        #expect(source.followPresence() == [], "reported once")
        try creator.detach()
        let again = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try again.create(size: 32)
        defer { try? again.detach() }
        #expect(source.followPresence() == [.reattached(size: 32)])
        try again.write([5], at: 31)
        #expect(try source.read(offset: 31, count: 1) == [5])
        #expect(throws: ShmError.self) { try source.write([1], at: 0) }
    }
}
