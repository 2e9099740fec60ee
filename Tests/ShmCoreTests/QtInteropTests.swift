import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// Interop with a real Qt 5 `QSharedMemory` peer (Tests/Peers/qtpeer.cpp), both directions.
@Suite(.enabled(if: QtPeer.available)) struct QtInteropTests {
    @Test func qtCreatesWeReadHello() throws {
        let key = uniqueName("qtcreates")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 1000") == "ok")
        #expect(qt.ask("lock").hasPrefix("ok"))
        #expect(qt.ask("write 0 hello") == "ok")
        #expect(qt.ask("unlock") == "ok")

        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.attach(.readOnly)
        #expect(m.size == 1000)
        #expect(try m.read(offset: 0, count: 5) == Array("hello".utf8))
        #expect(qt.ask("info").contains("native=" + m.nativeKey))
        try m.detach()
        #expect(qt.ask("quit") == "ok")
    }

    @Test func weCreateQtAttachesAndReads() throws {
        let key = uniqueName("wecreate")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 512)
        try m.withLock { try m.write(Array("from shmscope".utf8), at: 100) }

        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("attach rw") == "ok")
        #expect(qt.ask("info").hasPrefix("ok size=512 attached=1"))
        #expect(qt.ask("read 100 13") == "ok " + Array("from shmscope".utf8).hexString)
        // Qt writes at an offset; we see it.
        #expect(qt.ask("write 300 qt-was-here") == "ok")
        #expect(try m.read(offset: 300, count: 11) == Array("qt-was-here".utf8))
        #expect(qt.ask("detach") == "ok")
        try m.detach()
    }

    @Test func ourLockMakesQtWait() throws {
        let key = uniqueName("ourlock")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 64)
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("attach rw") == "ok")

        try m.lock()
        #expect(m.lockState()?.value == 0)
        qt.send("lock")
        // While we hold it, Qt's lock() cannot return.
        #expect(qt.readLine(timeout: 0.6) == nil)
        #expect((m.lockState()?.waiters ?? 0) >= 1)
        try m.unlock()
        let reply = try #require(qt.readLine())
        let waited = try #require(Int(reply.replacingOccurrences(of: "ok waited_ms=", with: "")))
        #expect(waited >= 550, "Qt waited \(waited) ms")
        #expect(qt.ask("unlock") == "ok")
        #expect(qt.ask("detach") == "ok")
        try m.detach()
    }

    @Test func qtLockMakesUsWait() throws {
        let key = uniqueName("qtlock")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 64") == "ok")
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.attach()

        qt.send("hold 700")
        #expect(qt.readLine()?.hasPrefix("locked") == true)
        let state = try #require(m.lockState())
        #expect(state.value == 0 && state.lastPID == qt.pid)
        #expect(try !m.tryLock(timeout: .milliseconds(100)))
        let start = ContinuousClock.now
        try m.lock()
        let waited = ContinuousClock.now - start
        try m.unlock()
        #expect(waited >= .milliseconds(400), "we waited \(waited)")
        #expect(qt.readLine()?.hasPrefix("ok") == true)
        try m.detach()
    }

    @Test func qtDetachRemovesSegmentWhenLastOut() throws {
        let key = uniqueName("lastout")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.create(size: 128)
        let id = try #require(m.shmid)
        let keyFile = m.nativeKey
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("attach ro") == "ok")
        try m.detach()
        var ds = shmid_ds()
        #expect(shmctl(id, IPC_STAT, &ds) == 0, "still there while Qt is attached")
        #expect(qt.ask("detach") == "ok")
        #expect(shmctl(id, IPC_STAT, &ds) == -1, "Qt removed it as the last one out")
        #expect(access(keyFile, F_OK) == -1)
    }

    @Test func weRemoveLastOutAfterQtLeft() throws {
        let key = uniqueName("welast")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 32") == "ok")
        let m = SharedMemory(target)
        try m.attach()
        let keyFile = m.nativeKey
        #expect(qt.ask("detach") == "ok")
        #expect(access(keyFile, F_OK) == 0, "we are still attached")
        try m.detach()
        #expect(access(keyFile, F_OK) == -1)
    }
}

extension Array where Element == UInt8 {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
