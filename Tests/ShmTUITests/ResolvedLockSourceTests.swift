import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

@testable import ShmTUI

/// The hex view's lock for a Qt segment opened by id (as the browser opens one whose key is unknown): the peer's
/// Qt semaphore, never "no lock".
@Suite struct ResolvedLockSourceTests {
    @Test func aQtSegmentOpenedByIDShowsAndTakesThePeersLock() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("tuilockdir")).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = uniqueName("tuibyid")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target, temporaryDirectory: dir) }
        let peer = SharedMemory(target, options: .init(detachPolicy: .keep, temporaryDirectory: dir))
        try peer.create(size: 64)
        defer { try? peer.detach() }
        let shmid = try #require(peer.shmid)

        let source = try SharedMemorySource(
            resolved: try ResolvedTarget.resolve(.sysvID(shmid), context: TargetContext(temporaryDirectory: dir)),
            readOnly: false)
        defer { source.close() }
        #expect(source.lockStatus() == .unlocked)
        try peer.lock()
        #expect(source.lockStatus() == .heldBy(pid: getpid(), command: processCommand(getpid())))
        #expect(try !source.tryLock(timeout: .milliseconds(30)))
        try peer.unlock()
        #expect(try source.tryLock(timeout: .milliseconds(30)))
        #expect(source.lockStatus() == .lockedByUs)
        try source.unlock()
        // The Who pane's lock line names Qt's semaphore too.
        let who = CatalogWho(
            try ResolvedTarget.resolve(.sysvID(shmid), context: TargetContext(temporaryDirectory: dir))
        ).who()
        #expect(whoLines(who).first?.hasPrefix("lock qt-sysv-semaphore: free") == true, "\(whoLines(who))")
    }
}
