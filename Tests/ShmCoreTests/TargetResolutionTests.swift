import Foundation
import Glibc
import ShmTestSupport
import Testing

@testable import ShmCore

/// The target option group's rules: every option takes effect for a target or is refused with a reason.
@Suite struct TargetContextTests {
    static let sem = SharedMemory.SemaphoreReference.key(0x1234)

    @Test(arguments: [
        (TargetContext(semaphore: sem), SegmentTarget.sysvKey(0x51), nil),
        (TargetContext(semaphore: sem), .sysvID(3), nil),
        (TargetContext(temporaryDirectory: "/tmp"), .qt(key: "k", backend: .systemV), nil),
        (TargetContext(temporaryDirectory: "/tmp", keys: ["k"]), .sysvID(3), nil),
        (TargetContext(keys: ["k"]), .posix(name: "/x"), nil),
        (TargetContext(temporaryDirectory: "/tmp"), .qtNative(key: "k", type: .systemV), nil),
        (TargetContext(semaphore: sem), .qt(key: "k", backend: .systemV), "--sem names the lock of a raw System V segment; `qt:k` uses Qt's own semaphore"),
        (TargetContext(semaphore: sem), .posix(name: "/x"), "--sem names the lock of a raw System V segment; `/x` is a POSIX object"),
        (TargetContext(semaphore: sem), .qtNative(key: "k", type: .posix), "--sem names the lock of a raw System V segment; `qt6:k` uses Qt's own semaphore"),
        (TargetContext(temporaryDirectory: "/tmp"), .posix(name: "/x"), "--tmpdir locates Qt System V key files; POSIX object `/x` has none"),
        (TargetContext(temporaryDirectory: "/tmp"), .qt(key: "k", backend: .posix), "--tmpdir locates Qt System V key files; `qt-posix:k` is a POSIX object with no key file"),
        (TargetContext(temporaryDirectory: "/tmp"), .sysvID(3), "--tmpdir locates Qt key files: give it with --key KEY, or name the target as qt:KEY"),
        (TargetContext(temporaryDirectory: "/tmp"), .qtNative(key: "/run/k", type: .systemV), "--tmpdir does not apply: `qt6-sysv:/run/k` names its key file by absolute path"),
        (TargetContext(keys: ["k"]), .qt(key: "q", backend: .systemV), "--key names Qt keys to try for segments given by id, key or name; `qt:q` already names its key"),
        (TargetContext(semaphore: sem, keys: ["k"]), .sysvID(3), "--sem and --key both name a lock: give one of them"),
    ] as [(TargetContext, SegmentTarget, String?)])
    func optionsApplyOrAreRefused(_ context: TargetContext, _ target: SegmentTarget, _ reason: String?) {
        #expect(context.inapplicability(to: target) == reason)
    }

    @Test func unnamedTargetsAreTheOnesKeysAreTriedFor() {
        #expect(SegmentTarget.sysvID(1).isUnnamed && SegmentTarget.sysvKey(1).isUnnamed)
        #expect(SegmentTarget.posix(name: "/a").isUnnamed)
        #expect(!SegmentTarget.qt(key: "a", backend: .systemV).isUnnamed)
        #expect(!SegmentTarget.qtNative(key: "a", type: .posix).isUnnamed)
    }

    /// `shmid:N --key K` becomes `qt:K` (with K's lock) when K's key file names the segment; a key that names
    /// nothing is an error that says which keys were tried.
    @Test(.enabled(if: QtPeer.available)) func aKeyNamesASegmentGivenById() throws {
        let key = uniqueName("resolve")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        defer { _ = qt.ask("quit") }
        #expect(qt.ask("create 64") == "ok")
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.attach(.readOnly)
        let id = try #require(m.shmid)
        try m.detach()
        let resolved = try ResolvedTarget.resolve(.sysvID(id), context: TargetContext(keys: ["other", key]))
        #expect(resolved.target == target)
        #expect(resolved.matchedKey == key)
        #expect(resolved.memory().hasLock)
        #expect(throws: ShmError.self) {
            try ResolvedTarget.resolve(.sysvID(id), context: TargetContext(keys: ["nothing-" + key]))
        }
    }

    /// `--sem` gives a raw System V segment the lock the user named, in the catalog's entry (info, Who) too.
    @Test func aNamedSemaphoreIsTheEntrysLock() throws {
        let segKey = key_t(bitPattern: 0x5E00_0000 | UInt32.random(in: 0...0xFFFF))
        let semKey = key_t(bitPattern: 0x5F00_0000 | UInt32.random(in: 0...0xFFFF))
        let m = SharedMemory(.sysvKey(segKey), options: .init(detachPolicy: .keep))
        try m.create(size: 128)
        defer { try? m.remove() }
        let semid = semget(semKey, 1, 0o600 | IPC_CREAT | IPC_EXCL)
        try #require(semid >= 0)
        defer { cleanUpSemaphore(semid) }
        let plain = ResolvedTarget(target: .sysvKey(segKey))
        #expect(plain.scanEntry().entry?.lock == nil)
        let named = ResolvedTarget(target: .sysvKey(segKey), context: TargetContext(semaphore: .key(semKey)))
        let lock = try #require(named.scanEntry().entry?.lock)
        #expect(lock.mechanism == .systemVSet)
        #expect(lock.nativeName == "semkey:" + hex32(semKey))
    }

    /// A Qt segment named by id or key whose key is unknown still has Qt's lock: the semaphore key file beside its
    /// key file. Resolving and looking at it create nothing; locking never creates the peer's key file.
    @Test func aQtSegmentByIDHasQtsLock() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("lockdir")).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = uniqueName("byid")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target, temporaryDirectory: dir) }
        let peer = SharedMemory(target, options: .init(detachPolicy: .keep, temporaryDirectory: dir))
        try peer.create(size: 64)
        let shmid = try #require(peer.shmid)
        let semFile = dir + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
        let context = TargetContext(temporaryDirectory: dir)
        let sysvKey = ftok(peer.nativeKey, 0x51)
        for unnamed in [SegmentTarget.sysvID(shmid), .sysvKey(sysvKey)] {
            let resolved = try ResolvedTarget.resolve(unnamed, context: context)
            #expect(resolved.target == unnamed)
            #expect(resolved.lock == .qtKeyFile(semFile))
            #expect(resolved.memory().hasLock)
            #expect(resolved.scanEntry().entry?.lock?.mechanism == .qtSystemV)
        }
        // Held by the peer: a lock through the id waits for it and gives up.
        try peer.lock()
        let byID = try ResolvedTarget.resolve(.sysvID(shmid), context: context).memory()
        try byID.attach(.readWrite)
        #expect(try !byID.tryLock(timeout: .milliseconds(50)))
        #expect(byID.lockState()?.isHeld == true)
        try peer.unlock()
        #expect(try byID.tryLock(timeout: .milliseconds(50)))
        try byID.unlock()
        try byID.detach()

        // With the semaphore and its key file gone, a look creates neither, and a lock never makes the key file.
        let semid = semget(ftok(semFile, 0x51), 1, 0)
        try #require(semid >= 0)
        cleanUpSemaphore(semid)
        #expect(unlink(semFile) == 0)
        let entries = Set((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
        let lookOnly = try ResolvedTarget.resolve(.sysvID(shmid), context: context)
        _ = lookOnly.scanEntry()
        #expect(lookOnly.memory().lockState() == nil)
        let m = lookOnly.memory()
        try m.attach(.readOnly)
        try m.detach()
        #expect(throws: ShmError.self) { try lookOnly.memory().lock() }
        #expect(Set((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []) == entries)
        try peer.detach()
    }

    /// A POSIX object opened by name gets Qt's lock from its name; a plain one an advisory flock.
    @Test func posixNamesGetQtsSemaphore() throws {
        let key = uniqueName("posixname")
        let target = SegmentTarget.qt(key: key, backend: .posix)
        defer { cleanUp(target) }
        let peer = SharedMemory(target, options: .init(detachPolicy: .keep))
        try peer.create(size: 64)
        let byName = SharedMemory(.posix(name: peer.nativeKey))
        let state = try #require(byName.lockState())
        #expect(state.mechanism == .posixSemaphore)
        #expect(state.nativeName == "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix))
        try peer.detach()

        let plain = "/" + uniqueName("plainname")
        defer { cleanUp(.posix(name: plain)) }
        let other = SharedMemory(.posix(name: plain), options: .init(detachPolicy: .keep))
        try other.create(size: 64)
        #expect(other.lockState()?.mechanism == .flock)
        #expect(LockState.Mechanism.flock.displayName == "flock (advisory: only cooperating tools wait)")
        try other.detach()
    }
}

/// `watch --log` lines with a layout: runs are split at field boundaries and named.
@Suite struct WatchLogFieldTests {
    @Test func runsAreSplitAtFieldsAndNamed() throws {
        let layout = try StructLayout.parse("magic char[4] @0\ncounter u32le[2] @4\nstate u8 @16")
        let log = WatchLog(watcher: SegmentWatcher(segment: FollowedBytes(Array(repeating: 0, count: 32))), settings: .init(layout: layout))
        let change = ByteChange(offset: 2, old: Array(repeating: 0, count: 16), new: Array(1...16))
        let lines = log.lines(for: .change(change), time: 0).map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
        #expect(lines == [
            "0x00000002 2 0000 0102 magic",
            "0x00000004 4 00000000 03040506 counter[0]",
            "0x00000008 4 00000000 0708090a counter[1]",
            "0x0000000c 4 00000000 0b0c0d0e -",
            "0x00000010 1 00 0f state",
            "0x00000011 1 00 10 -",
        ])
        let json = WatchLog(watcher: log.watcher, settings: .init(json: true, layout: layout))
        let first = try #require(json.lines(for: .change(ByteChange(offset: 16, old: nil, new: [1])), time: 0).first)
        #expect(first.hasSuffix(#""old":null,"new":"01","field":"state"}"#))
        let plain = WatchLog(watcher: log.watcher, settings: .init())
        #expect(plain.lines(for: .change(change), time: 0).count == 1)
        #expect(plain.lines(for: .change(change), time: 0)[0].hasSuffix(" -"))
    }

    @Test func theLoopStopsAtTheCountAndWhenTheReaderLeaves() {
        let bytes = FollowedBytes(Array(repeating: 0, count: 64))
        let log = WatchLog(watcher: SegmentWatcher(segment: bytes, blockSizing: .fixed(16)), settings: .init(interval: 0, count: 2))
        var lines: [String] = []
        var waits = 0
        log.run(write: { lines.append($0); return true }) { _ in
            waits += 1
            bytes.bytes[waits * 3] = UInt8(waits)
            return waits > 10
        }
        #expect(lines.count == 2)
        var written = 0
        let gone = WatchLog(watcher: SegmentWatcher(segment: bytes, blockSizing: .fixed(16)), settings: .init(interval: 0))
        var turns = 0
        gone.run(write: { _ in written += 1; return false }) { _ in
            turns += 1
            bytes.bytes[turns] &+= 1
            return turns > 10
        }
        #expect(written == 1)
    }

    @Test func theDemoLayoutIsTheExampleFile() throws {
        let file = try String(contentsOfFile: packageRoot.appendingPathComponent("examples/demo.layout").path, encoding: .utf8)
        #expect(DemoRecord.layoutText == file)
        #expect(DemoRecord.layout.fields.map(\.name).contains("writer_pid"))
    }
}

/// In-memory bytes that never go away: a `FollowedSegment` for tests of the engine and the log.
final class FollowedBytes: FollowedSegment {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var byteCount: Int { bytes.count }
    func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws {
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + buffer.count)])) }
    }
    func followPresence() -> [WatchEvent] { [] }
}
