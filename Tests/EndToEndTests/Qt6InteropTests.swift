import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// Qt 6.6 through PyQt6: native keys (`platformSafeKey`, POSIX and System V) and legacy keys interoperating with Qt 5.
@Suite(.enabled(if: Qt6Peer.available)) struct Qt6InteropTests {
    @Test func nativePosixKeyListedDumpedWrittenAndLockedBothWays() throws {
        let key = uniqueName("q6p")
        let target = SegmentTarget.qtNative(key: key, type: .posix)
        defer { cleanUp(target) }
        let qt = try Qt6Peer.start("native posix \(key)")
        #expect(qt.ask("create 4096") == "ok")
        #expect(qt.ask("write 0 qt6 native") == "ok")

        let list = try ShmscopeBinary.run(["list", "--kind", "qt6", "--bytes"], environment: ShmscopeBinary.wideEnvironment)
        let row = try #require(list.stdout.split(separator: "\n").first { $0.contains(key) }, "\(list.stdout)")
        #expect(
            row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                == ["qt6", key, "-", "4096", "rw-------", "root", "1", "free", "python(\(qt.pid))"])
        let info = try ShmscopeBinary.run(["info", "qt6:\(key)"])
        #expect(info.stdout.contains("kind        qt6\n"))
        #expect(info.stdout.contains("status      ok (Qt 6 native key (POSIX); lock semaphore /dev/shm/sem.\(key))"))

        let dump = try ShmscopeBinary.run(["dump", "qt6:\(key)", "--length", "10"])
        #expect(dump.stdout == "00000000  71 74 36 20 6e 61 74 69  76 65                    |qt6 native|\n0000000a\n")
        #expect(try ShmscopeBinary.run(["write", "qt6:\(key)", "--offset", "100", "--text", "from us"]).status == 0)
        #expect(qt.ask("read 100 7") == "ok " + hex("from us"))

        // Our lock (the named semaphore /KEY) makes Qt's lock() wait, and Qt's makes ours wait.
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.attach()
        try m.lock()
        qt.send("lock")
        #expect(qt.readLine(timeout: 0.5) == nil)
        try m.unlock()
        let waited = Int(qt.readLine()?.replacingOccurrences(of: "ok waited_ms=", with: "") ?? "") ?? -1
        #expect(waited >= 450, "Qt waited \(waited) ms")
        #expect(try !m.tryLock(timeout: .milliseconds(200)))
        let held = try ShmscopeBinary.run(["info", "qt6:\(key)", "--json"])
        #expect(held.stdout.contains("\"held\" : true"))
        #expect(qt.ask("unlock") == "ok")
        #expect(try m.tryLock(timeout: .seconds(2)))
        try m.unlock()
        try m.detach()
        #expect(qt.ask("quit") == "ok")
    }

    @Test func nativeSystemVKeySharesOneKeyForSegmentAndLock() throws {
        let key = uniqueName("q6s")
        let target = SegmentTarget.qtNative(key: key, type: .systemV)
        defer { cleanUp(target) }
        let qt = try Qt6Peer.start("native sysv \(key)")
        #expect(qt.ask("create 512") == "ok")
        #expect(qt.ask("write 0 sysv native") == "ok")
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        #expect(qt.ask("info").hasSuffix("native=" + m.nativeKey))
        let list = try ShmscopeBinary.run(["list", "--kind", "qt6-sysv", "--bytes"], environment: ShmscopeBinary.wideEnvironment)
        let row = try #require(list.stdout.split(separator: "\n").first { $0.contains(key) }, "\(list.stdout)")
        let cols = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(cols.first == "qt6-sysv" && cols[1] == key && cols[3] == "512" && cols.last == "python(\(qt.pid))")
        #expect(try ShmscopeBinary.run(["dump", "qt6-sysv:\(key)", "--format", "raw", "--length", "11"]).stdout == "sysv native")
        #expect(try ShmscopeBinary.run(["write", "qt6-sysv:\(key)", "--offset", "20", "--text", "ok"]).status == 0)
        #expect(qt.ask("read 20 2") == "ok " + hex("ok"))

        try m.attach()
        var ds = shmid_ds()
        #expect(shmctl(m.shmid!, IPC_STAT, &ds) == 0)
        let semKey = ds.shm_perm.__key
        #expect(semget(semKey, 0, 0) >= 0, "the lock semaphore has the segment's key")
        try m.lock()
        qt.send("lock")
        #expect(qt.readLine(timeout: 0.5) == nil)
        try m.unlock()
        #expect(qt.readLine()?.hasPrefix("ok waited_ms=") == true)
        qt.send("unlock")
        _ = qt.readLine()
        qt.send("hold 600")
        #expect(qt.readLine()?.hasPrefix("locked") == true)
        let start = ContinuousClock.now
        try m.lock()
        #expect(ContinuousClock.now - start >= .milliseconds(350))
        try m.unlock()
        _ = qt.readLine()
        try m.detach()
    }

    @Test(.enabled(if: QtPeer.available)) func legacyKeysFromQt6InteroperateWithQt5AndUs() throws {
        let key = uniqueName("legacy6")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt6 = try Qt6Peer.start("legacy \(key)")
        #expect(qt6.ask("create 128") == "ok")
        #expect(qt6.ask("write 0 from qt6") == "ok")
        let qt5 = try QtPeer.start(key: key)
        #expect(qt5.ask("attach rw") == "ok")
        #expect(qt5.ask("read 0 8") == "ok " + hex("from qt6"))
        #expect(qt5.ask("write 8 +qt5") == "ok")
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.attach(.readOnly)
        #expect(try m.read(offset: 0, count: 12) == Array("from qt6+qt5".utf8))
        // Qt 6's lock excludes Qt 5 and us: all three share the legacy semaphore.
        qt6.send("hold 500")
        #expect(qt6.readLine()?.hasPrefix("locked") == true)
        #expect(try !m.tryLock(timeout: .milliseconds(100)))
        let reply = qt5.ask("lock")
        #expect((Int(reply.replacingOccurrences(of: "ok waited_ms=", with: "")) ?? 0) >= 250, "\(reply)")
        #expect(qt5.ask("unlock") == "ok")
        _ = qt6.readLine()
        try m.detach()
        #expect(qt5.ask("detach") == "ok")
    }

    @Test func stuckPosixLockIsShownAndRepaired() throws {
        let key = uniqueName("stuck")
        let target = SegmentTarget.qtNative(key: key, type: .posix)
        defer { cleanUp(target) }
        // A Qt 6 process takes its lock and is killed: a POSIX semaphore has no undo, so it stays at 0, and
        // with nobody left holding it open it is stuck (every Qt peer's attach() would now hang).
        let crasher = try Qt6Peer.start("native posix \(key)")
        #expect(crasher.ask("create 64") == "ok")
        #expect(crasher.ask("lock").hasPrefix("ok"))
        crasher.signal(SIGKILL)
        #expect(crasher.wait() == 128 + SIGKILL)
        #expect(access("/dev/shm/sem.\(key)", F_OK) == 0)

        let info = try ShmscopeBinary.run(["info", "qt6:\(key)"])
        #expect(info.stdout.contains("stuck at 0 (no holder alive)"), "\(info.stdout)")
        let json = try ShmscopeBinary.run(["info", "qt6:\(key)", "--json"])
        #expect(json.stdout.contains("\"stuck\" : true"))
        let repair = try ShmscopeBinary.run(["repair-lock", "qt6:\(key)"])
        #expect(repair.status == 0 && repair.stdout == "released the lock of qt6:\(key)\n", "\(repair.stderr)")
        let again = try ShmscopeBinary.run(["repair-lock", "qt6:\(key)"])
        #expect(again.status == 1 && again.stderr.contains("not stuck"))
        // A Qt peer can attach and lock again.
        let after = try Qt6Peer.start("native posix \(key)")
        #expect(after.ask("attach rw") == "ok")
        #expect(after.ask("lock").hasPrefix("ok"))
        #expect(after.ask("unlock") == "ok")
        #expect(after.ask("detach") == "ok")
    }

    @Test func leftoverNativeSegmentIsMarkedAndRemoved() throws {
        let key = uniqueName("left")
        let target = SegmentTarget.qtNative(key: key, type: .posix)
        defer { cleanUp(target) }
        let qt = try Qt6Peer.start("native posix \(key)")
        #expect(qt.ask("create 64") == "ok")
        #expect(qt.ask("detach") == "ok")
        // Qt never unlinks POSIX segments on Linux: nobody is attached, but the object stays.
        let list = try ShmscopeBinary.run(["list", "--kind", "qt6", "--bytes"], environment: ShmscopeBinary.wideEnvironment)
        let row = try #require(list.stdout.split(separator: "\n").first { $0.contains(key) })
        #expect(row.contains("\(key) [leftover]"))
        let rm = try ShmscopeBinary.run(["rm", "qt6:\(key)"])
        #expect(rm.status == 0, "\(rm.stderr)")
        #expect(access("/dev/shm/\(key)", F_OK) == -1 && access("/dev/shm/sem.\(key)", F_OK) == -1)
        #expect(qt.ask("quit") == "ok")
    }

    private func hex(_ s: String) -> String { Array(s.utf8).map { String(format: "%02x", $0) }.joined() }
}
