import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// The lock is always resolved: a Qt segment opened without its key (`shmid:N`, `sysv:0x…`, its POSIX name) is
/// written and locked under the peer's own lock; where no lock exists, writing needs `--no-lock`.
/// `ShmscopeBinary.environment` has a private XDG_STATE_HOME, so the binary does not know the test's Qt keys.
@Suite struct LockResolutionTests {
    static func oneLine(_ text: String) -> Bool { text.split(separator: "\n").count == 1 && text.hasSuffix("\n") }

    @Test(.enabled(if: QtPeer.available)) func qtSegmentByIDUsesThePeersLock() throws {
        let key = uniqueName("lockres")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 256") == "ok")
        let probe = SharedMemory(target, options: .init(detachPolicy: .keep))
        try probe.attach(.readOnly)
        let shmid = try #require(probe.shmid)
        try probe.detach()
        let semFile = QtNaming.tempPath() + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
        let sysvKey = hex32(
            ftok(QtNaming.tempPath() + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.sharedMemoryPrefix), 0x51))

        #expect(qt.ask("lock").hasPrefix("ok"))
        // `info` names the peer's lock and its holder, though the key is unknown.
        let info = try ShmscopeBinary.run(["info", "shmid:\(shmid)"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("target      shmid:\(shmid)"), "\(info.stdout)")
        #expect(
            info.stdout.contains(
                "lock        qt-sysv-semaphore \(semFile): held by pid \(qt.pid) (qtpeer-test); value 0"),
            "\(info.stdout)")
        let json = try ShmscopeBinary.run(["info", "shmid:\(shmid)", "--json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let lock = try #require(doc["lock"] as? [String: Any])
        #expect(lock["mechanism"] as? String == "qt-sysv-semaphore" && lock["native_name"] as? String == semFile)
        #expect(lock["held"] as? Bool == true && lock["last_pid"] as? Int == Int(qt.pid) && lock["semid"] is Int)
        // `write` waits for it and gives up, by id and by key alike; nothing is written.
        for name in ["shmid:\(shmid)", "sysv:\(sysvKey)"] {
            let w = try ShmscopeBinary.run(["write", name, "--offset", "0", "--text", "x", "--timeout", "300ms"])
            #expect(w.status == 1, "\(name): \(w.stdout)")
            #expect(Self.oneLine(w.stderr) && w.stderr.contains("held by pid \(qt.pid) (qtpeer-test)"), "\(w.stderr)")
        }
        #expect(qt.ask("read 0 1") == "ok 00")
        // `lock` waits for the same lock.
        let l = try ShmscopeBinary.run(["lock", "shmid:\(shmid)", "--timeout", "300ms", "--hold", "0"])
        #expect(l.status == 1 && l.stderr.contains("held by pid \(qt.pid)"), "\(l.stderr)")
        // Free again: the write goes through, under the lock, and Qt reads it.
        #expect(qt.ask("unlock") == "ok")
        let w = try ShmscopeBinary.run(["write", "shmid:\(shmid)", "--offset", "0", "--text", "x"])
        #expect(w.status == 0 && w.stdout == "wrote 1 bytes at offset 0 of shmid:\(shmid)\n", "\(w.stderr)")
        #expect(qt.ask("read 0 1") == "ok 78")
        // Our lock makes the Qt peer wait: `lock shmid:N` holds the peer's real semaphore.
        let holder = try ShmscopeBinary.start(["lock", "shmid:\(shmid)", "--hold", "1"])
        #expect(holder.readLine() == "locked shmid:\(shmid)")
        let reply = qt.ask("lock", timeout: 10)
        let waited = Int(reply.replacingOccurrences(of: "ok waited_ms=", with: "")) ?? -1
        #expect(waited >= 600, "Qt's lock() waited \(waited) ms")
        #expect(qt.ask("unlock") == "ok")
        #expect(holder.wait() == 0)
        // The key stayed unknown: nothing was remembered for it.
        let list = try ShmscopeBinary.run(["list", "--kind", "qt"])
        #expect(!list.stdout.contains(key))
    }

    @Test func rawSystemVWriteNeedsALockOrNoLock() throws {
        let key = key_t(bitPattern: 0x5d00_0000 | UInt32.random(in: 0...0xffffff))
        let memory = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try memory.create(size: 64)
        defer { try? memory.remove() }
        let name = "sysv:" + hex32(key)
        var r = try ShmscopeBinary.run(["write", name, "--offset", "0", "--text", "hi"])
        #expect(r.status == 1)
        #expect(Self.oneLine(r.stderr) && r.stderr.contains("--sem") && r.stderr.contains("--no-lock"), "\(r.stderr)")
        #expect(try memory.read(offset: 0, count: 2) == [0, 0])
        r = try ShmscopeBinary.run(["write", name, "--offset", "0", "--text", "hi", "--no-lock"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try memory.read(offset: 0, count: 2) == Array("hi".utf8))
        try memory.detach()
    }

    @Test(arguments: [
        (["dump", "shmid:1", "--no-lock"], "--no-lock is for writing, and `dump` never writes: leave it out"),
        (["info", "/x", "--no-lock"], "--no-lock is for writing, and `info` never writes: leave it out"),
        (
            ["lock", "/x", "--hold", "1", "--no-lock"],
            "--no-lock is for writing, and `lock` never writes: leave it out"
        ),
        (["watch", "/x", "--log", "--no-lock"], "--no-lock is for writing, and `watch` never writes: leave it out"),
        (["rm", "/x", "--no-lock"], "--no-lock is for writing, and `rm` never writes: leave it out"),
        (
            ["snapshot", "/x", "/tmp/never.snap", "--no-lock"],
            "--no-lock is for writing, and `snapshot` never writes: leave it out"
        ),
        (
            ["create", "/x", "--size", "1", "--no-lock"],
            "--no-lock is for writing, and `create` never writes: leave it out"
        ),
        (["repair-lock", "/x", "--no-lock"], "--no-lock is for writing, and `repair-lock` never writes: leave it out"),
        (
            ["open", "/x", "--read-only", "--no-lock"],
            "--no-lock is for writing, and `open --read-only` never writes: leave it out"
        ),
        (
            ["write", "shmid:1", "--offset", "0", "--hex", "00", "--no-lock", "--sem", "id:1"],
            "--no-lock writes without a lock and --sem names one: give one of them"
        ),
    ])
    func noLockWhereItCannotTakeEffectIsRefused(arguments: [String], message: String) throws {
        let r = try ShmscopeBinary.run(arguments)
        #expect(r.status == 2)
        #expect(r.stderr == "shmscope: \(message) (see 'shmscope \(arguments[0]) --help')\n", "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    /// A Qt POSIX segment opened by its `/qipc_sharedmemory_…` name is locked by Qt's `/qipc_systemsem_…`, and a
    /// Qt 6 native key's `/KEY` by the semaphore `/KEY`; a plain object's flock is shown as advisory.
    @Test func qtPosixNamesUseTheQtSemaphore() throws {
        let legacyKey = uniqueName("lockresposix")
        let nativeKey = uniqueName("lockresnative")
        let targets: [(SegmentTarget, String, String)] = [
            (
                .qt(key: legacyKey, backend: .posix),
                "/" + QtNaming.legacyName(for: legacyKey, prefix: QtNaming.sharedMemoryPrefix),
                "/" + QtNaming.legacyName(for: legacyKey, prefix: QtNaming.semaphorePrefix)
            ),
            (.qtNative(key: nativeKey, type: .posix), "/" + nativeKey, "/" + nativeKey),
        ]
        for (target, name, semaphore) in targets {
            defer { cleanUp(target) }
            let memory = SharedMemory(target, options: .init(detachPolicy: .keep))
            try memory.create(size: 64)
            // Another process holds the Qt lock (the catalog names holders from other processes' mappings).
            let holder = try ShmscopeBinary.start(["lock", target.description, "--hold", "3"])
            #expect(holder.readLine() == "locked \(target)")
            let info = try ShmscopeBinary.run(["info", name])
            #expect(info.status == 0, "\(info.stderr)")
            #expect(
                info.stdout.contains("lock        posix-semaphore \(semaphore): held by pid \(holder.pid)"),
                "\(info.stdout)")
            let w = try ShmscopeBinary.run(["write", name, "--offset", "0", "--text", "x", "--timeout", "300ms"])
            #expect(w.status == 1 && Self.oneLine(w.stderr) && w.stderr.contains("not free"), "\(w.stderr)")
            #expect(try memory.read(offset: 0, count: 1) == [0])
            #expect(holder.wait() == 0)
            let ok = try ShmscopeBinary.run(["write", name, "--offset", "0", "--text", "x"])
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(try memory.read(offset: 0, count: 1) == Array("x".utf8))
            try memory.detach()
        }

        let plain = "/" + uniqueName("lockresplain")
        defer { cleanUp(.posix(name: plain)) }
        let memory = SharedMemory(.posix(name: plain), options: .init(detachPolicy: .keep))
        try memory.create(size: 64)
        let info = try ShmscopeBinary.run(["info", plain])
        #expect(
            info.stdout.contains("lock        flock (advisory: only cooperating tools wait) /dev/shm\(plain): free"),
            "\(info.stdout)")
        try memory.detach()
    }
}
