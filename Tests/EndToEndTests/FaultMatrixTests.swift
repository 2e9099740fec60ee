import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// The fault matrix of issue 11 ("Faults: nothing stuck, nothing lost"), the cases no other suite covers. Where a
/// case is covered elsewhere it is named here, so this file is the index of the whole matrix:
///
/// | fault | viewed (TUI under tmux) | logged (`watch --log`) / CLI |
/// |---|---|---|
/// | System V IPC_RMID | `systemVRemovalWhileViewed` | `WatchCLITests.systemVRemovalIsAnEventAndTheMappedSegmentStaysWatched` |
/// | POSIX truncate | `WatchTmuxTests.watchFollowsTruncationAndRemoval` | `WatchCLITests.posixTruncationAndRemovalAreEvents` |
/// | POSIX grow | `posixGrowUnlinkAndRecreateWhileViewed` | `posixGrowWhileLogged` |
/// | POSIX unlink | `WatchTmuxTests.watchFollowsTruncationAndRemoval`, `posixGrowUnlinkAndRecreateWhileViewed` | `WatchCLITests.posixTruncationAndRemovalAreEvents` |
/// | POSIX re-create | `posixGrowUnlinkAndRecreateWhileViewed` | `WatchCLITests.posixTruncationAndRemovalAreEvents` |
/// | Qt 5 peer SIGKILLed holding its System V lock | `qtPeerKilledHoldingItsLockIsFreedBySemUndo` (Who pane) | same test (`info`, `write`) |
/// | Qt 6 peer SIGKILLed holding its POSIX lock | | `Qt6InteropTests.stuckPosixLockIsShownAndRepaired` |
/// | shmscope SIGKILLed holding a System V lock | | `shmscopeKilledHoldingASystemVLockIsFreedBySemUndo` |
/// | shmscope SIGKILLed holding a POSIX lock | | `shmscopeKilledHoldingAPosixLockIsStuckUntilRepaired` |
/// | SIGTERM / SIGHUP / SIGINT | `TUITmuxTests.exitSignalRestoresTheTerminalAndReleasesTheLock` | `lockHoldEndsOnSignalAndReleases`, `watchLogEndsOnSignal` |
/// | terminal shrunk to 20×5 and back | `terminalShrunkTo20x5AndBack` | |
/// | stdout closed / full | | `dumpToClosedOrFullStdoutFails` (canonical, xxd, json), `DoNoHarmCLITests.outputErrorsFailWithOneLineAndEPIPEStaysQuiet` (raw), `CLITests.dumpIntoClosedPipeEndsQuietly` (EPIPE) |
///
/// | shmscope crashing (SIGSEGV, SIGBUS, …) holding a POSIX lock | | `FatalSignalLockTests` (the handler releases it) |
/// | the 8 GiB sparse segment | `SparseSegmentTests.eightGiBPosixObjectStaysSparse` (ShmTUITests) | |
@Suite(.serialized) struct FaultMatrixTests {
    static let tmux = toolAvailable("tmux") { which("tmux") != nil }

    // MARK: Segments that change under a viewer

    @Test(.enabled(if: tmux)) func systemVRemovalWhileViewed() throws {
        let key = key_t(bitPattern: 0x5c00_0000 | UInt32.random(in: 1...0xff_ffff))
        defer { cleanUp(.sysvKey(key)) }
        let creator = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try creator.create(size: 256)
        try creator.write(Array("before rmid".utf8), at: 0)
        let shmid = try #require(creator.shmid)
        defer { _ = shmctl(shmid, IPC_RMID, nil) }
        let screen = try TmuxScreen(arguments: ["watch", "sysv:" + hex32(key)])
        defer { screen.kill() }
        try #require(screen.waitFor("|before rmid") != nil)
        try creator.remove()
        let removed = try #require(screen.waitFor("segment removed by another process: showing the copy we still have mapped"))
        #expect(removed.contains("│ REMOVED"))
        // Still live: the creator's mapping is the same memory, and the view keeps following it.
        try creator.write(Array("AFTER!".utf8), at: 0)
        #expect(screen.waitFor("|AFTER! rmid") != nil, "\(screen.capture())")
        try creator.detach()
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        // The last detach destroyed it: nothing is left behind.
        #expect(!ProcViews.systemVSegments().contains { $0.shmid == shmid })
    }

    @Test(.enabled(if: tmux)) func posixGrowUnlinkAndRecreateWhileViewed() throws {
        let name = "/" + uniqueName("faultgrow")
        defer { cleanUp(.posix(name: name)) }
        let m = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try m.create(size: 32)
        try m.write(Array("small".utf8), at: 0)
        try m.detach()
        let screen = try TmuxScreen(arguments: ["watch", name])
        defer { screen.kill() }
        try #require(screen.waitFor { $0.contains("|small") && $0.contains("32 B RO") } != nil)
        // Grown by a peer: mapped again at the new size, and bytes past the old end are shown.
        #expect(truncate("/dev/shm" + name, 4096) == 0)
        let grown = try #require(
            screen.waitFor("segment resized by a peer from 32 to 4096 bytes: mapped again"), "\(screen.capture())")
        #expect(grown.contains("\(name) (POSIX) 4096 B RO"))
        #expect(grown.contains("00000020  "))
        // Unlinked, then created again under the same name with other bytes: the view follows the new object.
        cleanUp(.posix(name: name))
        #expect(screen.waitFor("segment removed by another process") != nil)
        let again = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try again.create(size: 64)
        try again.write(Array("second".utf8), at: 0)
        let recreated = try #require(
            screen.waitFor("segment created again (64 bytes): attached to the new one"), "\(screen.capture())")
        #expect(recreated.contains("64 B RO"))
        #expect(screen.waitFor("|second") != nil)
        try again.detach()
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
    }

    @Test func posixGrowWhileLogged() throws {
        let name = "/" + uniqueName("faultgrowlog")
        defer { cleanUp(.posix(name: name)) }
        let m = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try m.create(size: 64)
        try m.detach()
        let watch = try WatchCLITests().startWatch([name])
        #expect(truncate("/dev/shm" + name, 8192) == 0)
        #expect(try WatchCLITests.normalised(try #require(watch.readLine()), json: false) == "T event resized 64 8192")
        usleep(100_000)
        let writer = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try writer.attach(.readWrite)
        try writer.write([0x7f], at: 8000)
        try writer.detach()
        #expect(try WatchCLITests.normalised(try #require(watch.readLine()), json: false) == "T 0x00001f40 1 00 7f -")
        watch.signal(SIGINT)
        #expect(watch.finish().status == 0)
    }

    // MARK: Lock holders that die

    @Test(.enabled(if: QtPeer.available && tmux)) func qtPeerKilledHoldingItsLockIsFreedBySemUndo() throws {
        let key = uniqueName("faultqtkill")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 128") == "ok")
        #expect(qt.ask("lock").hasPrefix("ok"))
        let holder = qt.pid
        let screen = try TmuxScreen(arguments: ["watch", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("128 B RO") != nil)
        screen.send("W")
        #expect(screen.waitFor("lock qt-sysv-semaphore: held by pid \(holder) (qtpeer-test)") != nil)
        #expect(try ShmscopeBinary.run(["info", "qt:" + key]).stdout.contains(": held by pid \(holder) (qtpeer-test); value 0"))
        qt.signal(SIGKILL)
        #expect(qt.wait() == 128 + SIGKILL)
        // Qt 5's QSystemSemaphore locks with SEM_UNDO: the kernel gave the lock back when the holder died, and
        // the last pid to touch the semaphore is the dead holder (no command: it is gone).
        let freed = try #require(
            screen.waitFor("lock qt-sysv-semaphore: free; value 1; last pid \(holder); waiters 0"), "\(screen.capture())")
        #expect(freed.contains("─ Who ─"))
        let info = try ShmscopeBinary.run(["info", "qt:" + key])
        #expect(info.stdout.contains(": free; value 1"), "\(info.stdout)")
        #expect(info.stdout.contains("creator pid \(holder) (exited)"), "\(info.stdout)")
        let json = try ShmscopeBinary.run(["info", "qt:" + key, "--json"])
        #expect(json.stdout.contains("\"last_pid\" : \(holder)"), "\(json.stdout)")
        // A writer gets the lock at once.
        let write = try ShmscopeBinary.run(["write", "qt:" + key, "--offset", "0", "--text", "alive", "--timeout", "1"])
        #expect(write.status == 0, "\(write.stderr)")
        #expect(screen.waitFor("|alive") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
    }

    @Test(.enabled(if: QtPeer.available)) func shmscopeKilledHoldingASystemVLockIsFreedBySemUndo() throws {
        let key = uniqueName("faultkillsv")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 64") == "ok")
        let holder = try ShmscopeBinary.start(["lock", key, "--hold", "60"])
        #expect(holder.readLine() == "locked qt:\(key)")
        let lock = SharedMemory(.qt(key: key, backend: .systemV), options: .init(detachPolicy: .keep))
        #expect(lock.lockState()?.value == 0)
        holder.signal(SIGKILL)
        #expect(holder.wait() == 128 + SIGKILL)
        #expect(lock.lockState()?.value == 1)
        let reply = qt.ask("lock", timeout: 5)
        let waited = Int(reply.replacingOccurrences(of: "ok waited_ms=", with: "")) ?? -1
        #expect(waited >= 0 && waited < 500, "Qt's lock() after the holder was killed: \(reply)")
        #expect(qt.ask("unlock") == "ok")
        #expect(qt.ask("quit") == "ok")
    }

    @Test func shmscopeKilledHoldingAPosixLockIsStuckUntilRepaired() throws {
        let key = uniqueName("faultkillpx")
        let target = "qt6:" + key
        defer { cleanUp(.qtNative(key: key, type: .posix)) }
        #expect(try ShmscopeBinary.run(["create", target, "--size", "64"]).status == 0)
        let holder = try ShmscopeBinary.start(["lock", target, "--hold", "60"])
        #expect(holder.readLine() == "locked \(target)")
        // SIGKILL cannot be caught and a POSIX semaphore has no undo: it stays at 0 with no holder alive.
        holder.signal(SIGKILL)
        #expect(holder.wait() == 128 + SIGKILL)
        let info = try ShmscopeBinary.run(["info", target])
        #expect(info.stdout.contains("stuck at 0 (no holder alive)"), "\(info.stdout)")
        let blocked = try ShmscopeBinary.run(["write", target, "--offset", "0", "--text", "x", "--timeout", "0.3"])
        #expect(blocked.status == 1, "a write must not get a lock nobody gave back")
        let repair = try ShmscopeBinary.run(["repair-lock", target])
        #expect(repair.status == 0 && repair.stdout == "released the lock of \(target)\n", "\(repair.stderr)")
        let write = try ShmscopeBinary.run(["write", target, "--offset", "0", "--text", "x", "--timeout", "1"])
        #expect(write.status == 0, "\(write.stderr)")
        #expect(try ShmscopeBinary.run(["info", target]).stdout.contains(": free"))
        #expect(try ShmscopeBinary.run(["rm", target]).status == 0)
        #expect(access("/dev/shm/" + key, F_OK) == -1 && access("/dev/shm/sem." + key, F_OK) == -1)
    }

    // MARK: Signals

    @Test(.enabled(if: QtPeer.available), arguments: [SIGTERM, SIGHUP, SIGINT])
    func lockHoldEndsOnSignalAndReleases(signal: Int32) throws {
        let key = uniqueName("faultsig")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 64") == "ok")
        let holder = try ShmscopeBinary.start(["lock", key, "--hold", "60"])
        #expect(holder.readLine() == "locked qt:\(key)")
        holder.signal(signal)
        let end = holder.finish()
        #expect(end.status == 128 + signal)
        #expect(end.stderr.split(separator: "\n").count <= 1, "\(end.stderr)")
        #expect(SharedMemory(.qt(key: key, backend: .systemV), options: .init(detachPolicy: .keep)).lockState()?.value == 1)
        #expect(qt.ask("quit") == "ok")
    }

    @Test(arguments: [SIGTERM, SIGHUP, SIGINT]) func watchLogEndsOnSignal(signal: Int32) throws {
        let name = "/" + uniqueName("faultsiglog")
        defer { cleanUp(.posix(name: name)) }
        let m = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try m.create(size: 64)
        try m.detach()
        let watch = try WatchCLITests().startWatch([name])
        watch.signal(signal)
        let end = watch.finish()
        #expect(end.status == 0, "the log ends between lines with status 0: \(end.stderr)")
        #expect(end.stdout.isEmpty && end.stderr.isEmpty)
    }

    // MARK: The terminal and stdout

    @Test(.enabled(if: QtPeer.available && tmux)) func terminalShrunkTo20x5AndBack() throws {
        let key = uniqueName("faultsmall")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 4096") == "ok")
        #expect(qt.ask("write 0 hello") == "ok")
        let screen = try TmuxScreen(width: 100, height: 30, arguments: ["open", "qt:" + key])
        defer { screen.kill() }
        try #require(screen.waitFor("|hello") != nil)
        screen.resize(width: 20, height: 5)
        let small = try #require(screen.waitFor("terminal too small"), "\(screen.capture())")
        #expect(small.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy { $0.count <= 20 })
        // Changes while it is too small are picked up once it is big again.
        #expect(qt.ask("write 0 HELLO") == "ok")
        screen.resize(width: 100, height: 30)
        #expect(screen.waitFor("|HELLO") != nil, "\(screen.capture())")
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
        #expect(qt.ask("quit") == "ok")
    }

    /// `dump`'s formatted paths (the two-core hexdump pipeline, xxd, JSON); `--format raw` is in DoNoHarmCLITests.
    @Test(arguments: ["canonical", "xxd", "json"]) func dumpToClosedOrFullStdoutFails(format: String) throws {
        let name = "/" + uniqueName("faultout")
        defer { cleanUp(.posix(name: name)) }
        #expect(try ShmscopeBinary.run(["create", name, "--size", "1M", "--fill", "0x41"]).status == 0)
        for (redirect, words) in [(">/dev/full", "No space left on device"), (">&-", "standard output is closed")] {
            let r = try run(
                "/bin/sh", ["-c", "'\(ShmscopeBinary.path)' dump \(name) --format \(format) \(redirect)"],
                environment: ShmscopeBinary.environment)
            #expect(r.status == 1, "dump --format \(format) \(redirect) must not report success: \(r.stderr)")
            #expect(
                r.stderr.hasPrefix("shmscope: cannot write to standard output") && r.stderr.contains(words)
                    && r.stderr.split(separator: "\n").count == 1, "\(format) \(redirect): \(r.stderr)")
        }
    }
}
