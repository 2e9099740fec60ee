import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// A Python peer that shares memory the way Wayland, PipeWire and fork-based IPC libraries do: a memfd
/// (`os.memfd_create`) mapped shared, and an anonymous `MAP_SHARED` mapping, both inherited by a forked child, so
/// each object is mapped by two processes. Commands: `read memfd|anon OFF LEN`, `write memfd|anon OFF TEXT`, `quit`.
final class SharedMappingPeer {
    let child: Child
    let pid: Int32
    let forked: Int32
    let anonAddress: UInt64
    let name: String

    static let script = """
        import ctypes, mmap, os, sys
        name = sys.argv[1]
        fd = os.memfd_create(name)
        os.ftruncate(fd, 4096)
        m = mmap.mmap(fd, 4096, flags=mmap.MAP_SHARED)
        m[0:10] = b"memfd data"
        a = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED)
        a[0:9] = b"anon data"
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(w)
            os.read(r, 1)
            os._exit(0)
        os.close(r)
        address = ctypes.addressof(ctypes.c_char.from_buffer(a))
        print("ready pid=%d child=%d anon=%x" % (os.getpid(), child, address), flush=True)
        for line in sys.stdin:
            cmd = line.rstrip("\\n").split(" ", 3)
            buf = m if cmd[0] != "quit" and cmd[1] == "memfd" else a
            if cmd[0] == "read":
                off, n = int(cmd[2]), int(cmd[3])
                print("ok " + buf[off:off + n].hex(), flush=True)
            elif cmd[0] == "write":
                off, data = int(cmd[2]), cmd[3].encode()
                buf[off:off + len(data)] = data
                print("ok", flush=True)
            elif cmd[0] == "quit":
                print("ok", flush=True)
                break
        """

    init() throws {
        name = uniqueName("memfd")
        child = try Child(which("python3") ?? "/usr/bin/python3", ["-u", "-c", Self.script, name])
        guard let ready = child.readLine(timeout: 20), ready.hasPrefix("ready ") else {
            throw PeerError("memfd peer did not start: \(child.finish().stderr)")
        }
        var fields: [String: String] = [:]
        for part in ready.split(separator: " ").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let p = fields["pid"].flatMap({ Int32($0) }), let c = fields["child"].flatMap({ Int32($0) }),
            let a = fields["anon"].flatMap({ UInt64($0, radix: 16) })
        else { throw PeerError("memfd peer: \(ready)") }
        pid = p
        forked = c
        anonAddress = a
    }

    var memfdTarget: String { "memfd:\(pid):\(name)" }
    var anonTarget: String { "map:\(pid):0x" + String(anonAddress, radix: 16) }

    func ask(_ line: String) -> String { child.ask(line) }

    /// Both processes go (the child when its parent's pipe closes).
    func stop() {
        child.signal(SIGKILL)
        _ = child.wait()
        kill(forked, SIGKILL)
    }

    deinit { stop() }
}

@Suite(.enabled(if: PythonPeer.available && getuid() == 0))
struct SharedMappingTests {
    @Test func memfdAndAnonymousMappingsAreListedDumpedWrittenAndWatched() throws {
        let peer = try SharedMappingPeer()
        // One row per object, with both processes that map it.
        let memfd = try ShmscopeBinary.run(["list", "--kind", "memfd", "--bytes"], environment: ShmscopeBinary.wideEnvironment)
        #expect(memfd.status == 0, "\(memfd.stderr)")
        let memfdRow = try #require(memfd.stdout.split(separator: "\n").first { $0.contains(" \(peer.name) ") })
        let cols = memfdRow.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(Array(cols.prefix(4)) == ["memfd", peer.name, "-", "4096"], "\(memfdRow)")
        #expect(memfdRow.contains("python3(\(peer.pid))") && memfdRow.contains("python3(\(peer.forked))"), "\(memfdRow)")
        let anon = try ShmscopeBinary.run(["list", "--kind", "anon", "--bytes"], environment: ShmscopeBinary.wideEnvironment)
        let anonRow = try #require(
            anon.stdout.split(separator: "\n").first {
                $0.contains("python3(\(peer.pid))") && $0.contains("python3(\(peer.forked))")
            }, "\(anon.stdout)")
        #expect(anonRow.hasPrefix("anon ") && anonRow.contains(" 4096 "), "\(anonRow)")
        #expect(try ShmscopeBinary.run(["list", "--all"], environment: ShmscopeBinary.wideEnvironment).stdout.contains(" \(peer.name) "))
        #expect(!(try ShmscopeBinary.run(["list"], environment: ShmscopeBinary.wideEnvironment).stdout.contains(" \(peer.name) ")))

        // Dumped through the process's mapping.
        for (target, text) in [(peer.memfdTarget, "memfd data"), (peer.anonTarget, "anon data")] {
            let dump = try ShmscopeBinary.run(["dump", target, "--format", "raw", "--length", "10"])
            #expect(dump.status == 0, "\(target): \(dump.stderr)")
            #expect(dump.stdout.hasPrefix(text), "\(target): \(dump.stdout.debugDescription)")
        }
        let info = try ShmscopeBinary.run(["info", peer.memfdTarget])
        #expect(info.status == 0 && info.stdout.contains("kind        memfd"), "\(info.stdout)\(info.stderr)")

        // No lock exists: writing needs the user's explicit --no-lock; then the peer reads it back.
        let refused = try ShmscopeBinary.run(["write", peer.memfdTarget, "--offset", "0", "--text", "X"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(
            refused.stderr
                == "shmscope: \(peer.memfdTarget) has no lock to write under: a memfd has no lock: write with --no-lock; nothing written\n")
        let lock = try ShmscopeBinary.run(["lock", peer.anonTarget, "--", "true"])
        #expect(lock.stderr.contains("a shared mapping has no lock") && !lock.stderr.contains("System V"), "\(lock.stderr)")
        #expect(peer.ask("read memfd 0 1") == "ok 6d")
        for (target, which) in [(peer.memfdTarget, "memfd"), (peer.anonTarget, "anon")] {
            let write = try ShmscopeBinary.run(["write", target, "--no-lock", "--offset", "4", "--text", "HI"])
            #expect(write.status == 0, "\(target): \(write.stderr)")
            #expect(peer.ask("read \(which) 4 2") == "ok 4849")
        }

        // Watched: a change the peer makes appears in the log; when the last process goes, it is `removed`.
        let watch = try ShmscopeBinary.start(["watch", peer.anonTarget, "--log", "--interval", "20"])
        try waitUntilMapped(pid: watch.pid, marker: "/dev/zero")
        // The watcher's baseline may still be under way when its mapping shows: a write it takes into the baseline
        // is not a change, so a second, different write follows when the first shows nothing.
        #expect(peer.ask("write anon 0 watched") == "ok")
        var change = watch.readLine(timeout: 3)
        if change == nil {
            #expect(peer.ask("write anon 0 WATCHED") == "ok")
            change = watch.readLine(timeout: 10)
            #expect(change?.hasSuffix(" 0x00000000 7 77617463686564 57415443484544 -") == true, "\(String(describing: change))")
        } else {
            #expect(change?.hasSuffix(" 0x00000000 7 616e6f6e484961 77617463686564 -") == true, "\(String(describing: change))")
        }
        peer.stop()
        let removed = try #require(watch.readLine(timeout: 10))
        #expect(removed.hasSuffix(" event removed"), "\(removed)")
        watch.signal(SIGINT)
        #expect(watch.finish().status == 0)
    }

    /// `browse --all` lists the memfd and opens it (Enter) with the bytes the peer wrote.
    @Test(.enabled(if: which("tmux") != nil)) func browserAllListsAndOpensAMemfd() throws {
        let peer = try SharedMappingPeer()
        let plain = try TmuxScreen(width: 160, arguments: ["browse"])
        try #require(plain.waitFor("ATTACHED") != nil, "\(plain.capture())")
        #expect(!plain.capture().contains(peer.name))
        plain.send("q")
        let screen = try TmuxScreen(width: 160, arguments: ["browse", "--all"])
        try #require(screen.waitFor(peer.name) != nil, "\(screen.capture())")
        screen.send("/")
        screen.send("-l", peer.name)
        screen.send("Enter")
        try #require(screen.waitFor("1 match") != nil, "\(screen.capture())")
        screen.send("Enter")
        #expect(screen.waitFor("memfd data") != nil, "\(screen.capture())")
        screen.send("q")
        try #require(screen.waitFor("ATTACHED") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil, "\(screen.capture())")
    }

    @Test func aMappingThatIsGoneIsNotFound() throws {
        let peer = try SharedMappingPeer()
        let target = peer.memfdTarget
        peer.stop()
        let r = try ShmscopeBinary.run(["dump", target])
        #expect(r.status == 1)
        #expect(r.stderr.contains("has no such shared mapping"), "\(r.stderr)")
        let info = try ShmscopeBinary.run(["info", target])
        #expect(info.status == 1 && info.stderr.contains("shmscope list --all") && !info.stderr.contains("TMPDIR"), "\(info.stderr)")
        let ns = try ShmscopeBinary.run(["dump", target, "--ns", "1"])
        #expect(ns.status == 2 && ns.stderr.contains("already names the process"), "\(ns.stderr)")
    }

    /// Polls /proc/PID/maps until a line contains `marker`, then leaves time for the baseline scan.
    func waitUntilMapped(pid: pid_t, marker: String) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            // Read as bytes: /proc files report size 0, which String(contentsOfFile:) trusts.
            if let maps = try? readFile("/proc/\(pid)/maps"), String(decoding: maps, as: UTF8.self).contains(marker) {
                usleep(100_000)
                return
            }
            usleep(10_000)
        }
        throw PeerError("watch never mapped \(marker)")
    }
}
