import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// A container made with `unshare --ipc --mount --fork`: its own IPC namespace, a private tmpfs on /dev/shm and on
/// /tmp, a System V segment and a POSIX object made inside, then a real Qt 5 peer (the namespace's last process)
/// talking over stdin/stdout. Everything in it goes when its processes die, which `deinit` makes sure of.
final class UnsharedContainer {
    let child: Child
    /// The Qt peer's pid: a process inside the namespace, for `--ns`.
    let pid: Int32
    let shmid: Int32
    let inode: UInt64

    static var available: Bool {
        toolAvailable("root and unshare (util-linux)") { getuid() == 0 && which("unshare") != nil }
    }

    init(posixName: String, sysvKey: Int32) throws {
        let qtpeer = try QtPeer.path()
        // The System V segment and the POSIX object are made with Python's libc calls: shmget + shmat, and a file in
        // /dev/shm (what shm_open makes), both 0600 with text in them.
        let python = """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            libc.shmat.restype = ctypes.c_void_p
            sid = libc.shmget(\(sysvKey), 64, 0o1600)
            addr = libc.shmat(sid, None, 0)
            ctypes.memmove(addr, b"sysv in ns", 10)
            fd = os.open("/dev/shm\(posixName)", os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            os.ftruncate(fd, 32)
            os.write(fd, b"posix in ns")
            print("setup shmid=%d" % sid, flush=True)
            """
        // The peer binary and this checkout may live under /tmp, which the private tmpfs hides: hold the binary open
        // across the mount and copy it into the container's own /tmp (same name, so the same command name), and
        // leave the working directory for / (pyenv's python3 shim needs one that exists).
        let script = """
            set -e
            exec 3< '\(qtpeer)'
            mount -t tmpfs -o mode=1777 tmpfs /tmp
            mount -t tmpfs -o mode=1777 tmpfs /dev/shm
            cd /
            cat <&3 > /tmp/qtpeer-test
            exec 3<&-
            chmod 0700 /tmp/qtpeer-test
            python3 -c '\(python)'
            exec /tmp/qtpeer-test
            """
        child = try Child(
            which("unshare") ?? "/usr/bin/unshare",
            ["--ipc", "--mount", "--fork", "--kill-child", "--", "/bin/sh", "-c", script])
        guard let setup = child.readLine(timeout: 30), setup.hasPrefix("setup shmid="),
            let id = Int32(setup.dropFirst("setup shmid=".count))
        else { throw PeerError("container setup failed: \(child.finish().stderr)") }
        shmid = id
        guard let ready = child.readLine(timeout: 30), ready.hasPrefix("ready pid="),
            let qt = Int32(ready.dropFirst("ready pid=".count))
        else { throw PeerError("qtpeer did not start in the container") }
        pid = qt
        inode = try #require(IPCNamespace.inode(of: qt))
    }

    func ask(_ line: String) -> String { child.ask(line) }

    /// Kills every process in the namespace (its segments, semaphores and tmpfs mounts go with the last one).
    deinit {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let p = Int32(name), p != getpid(), IPCNamespace.inode(of: p) == inode else { continue }
            kill(p, SIGKILL)
        }
        child.signal(SIGKILL)
    }
}

@Suite(.serialized, .enabled(if: UnsharedContainer.available && QtPeer.available && PythonPeer.available))
struct NamespaceTests {
    @Test func listDumpWriteAndLockInsideAnotherIPCNamespace() throws {
        let key = uniqueName("nsqt")
        let posixName = "/" + uniqueName("nsposix")
        let sysvKey = Int32.random(in: 0x1000_0000...0x3fff_ffff)
        let box = try UnsharedContainer(posixName: posixName, sysvKey: sysvKey)
        #expect(box.ask("key \(key)").hasPrefix("ok /tmp/qipc_sharedmemory_"))
        #expect(box.ask("create 64") == "ok")
        #expect(box.ask("lock").hasPrefix("ok"))
        #expect(box.ask("write 0 qt in ns") == "ok")
        #expect(box.ask("unlock") == "ok")
        let ns = String(box.pid)

        // From outside: none of it is ours; `list` shows each with its namespace.
        let mine = try ShmscopeBinary.run(["list", "--ns", "self", "--key", key], environment: ShmscopeBinary.wideEnvironment)
        #expect(!mine.stdout.contains(key) && !mine.stdout.contains(posixName))
        let list = try ShmscopeBinary.run(["list", "--ns", "all", "--key", key], environment: ShmscopeBinary.wideEnvironment)
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NS ") == true, "\(list.stdout)")
        let name = try #require(IPCNamespace.of(pid: box.pid)?.name)
        #expect(name.hasPrefix("pid "))
        for (kind, label) in [("qt", key), ("posix", posixName), ("sysv", hex32(sysvKey))] {
            let row = lines.first { $0.hasPrefix(name + " ") && $0.contains(" \(kind) ") && $0.contains(label) }
            #expect(row != nil, "no \(kind) row for \(label) in namespace \(name):\n\(list.stdout)")
        }
        let qtRow = try #require(lines.first { $0.contains(key) })
        #expect(qtRow.contains("qtpeer-test(\(box.pid))"), "\(qtRow)")
        let byPid = try ShmscopeBinary.run(["list", "--ns", ns, "--json"], environment: ShmscopeBinary.wideEnvironment)
        #expect(byPid.stdout.contains("\"inode\" : \(box.inode)"))

        // `info` names the namespace; `dump` reads all three.
        let info = try ShmscopeBinary.run(["info", "qt:" + key, "--ns", ns])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("namespace   ipc:[\(box.inode)] \(name)"), "\(info.stdout)")
        #expect(info.stdout.contains("lock        qt-sysv-semaphore /tmp/qipc_systemsem_"), "\(info.stdout)")
        for (target, text) in [("qt:" + key, "qt in ns"), (posixName, "posix in ns"), ("shmid:\(box.shmid)", "sysv in ns")] {
            let dump = try ShmscopeBinary.run(["dump", target, "--ns", ns, "--format", "raw", "--length", "16"])
            #expect(dump.status == 0, "\(target): \(dump.stderr)")
            #expect(dump.stdout.hasPrefix(text), "\(target): \(dump.stdout.debugDescription)")
        }
        // Ours has none of them.
        #expect(try ShmscopeBinary.run(["dump", posixName]).status == 1)

        // `write` takes the Qt lock inside the namespace; the Qt peer there reads the bytes back.
        let write = try ShmscopeBinary.run(["write", "qt:" + key, "--ns", ns, "--offset", "0", "--text", "HELLO"])
        #expect(write.status == 0, "\(write.stderr)")
        #expect(box.ask("read 0 5") == "ok 48454c4c4f")
        #expect(box.ask("info").hasPrefix("ok size=64"))

        // `lock` holds the Qt lock: the Qt peer's lock() inside waits until it lets go.
        let holder = try ShmscopeBinary.start(["lock", "qt:" + key, "--ns", ns, "--", "/bin/sh", "-c", "read x"])
        #expect(holder.readLine(timeout: 20)?.hasPrefix("locked") == true)
        box.child.send("lock")
        #expect(box.child.readLine(timeout: 1) == nil, "the Qt peer took the lock shmscope holds")
        holder.send("go")
        let reply = try #require(box.child.readLine(timeout: 20))
        #expect(reply.hasPrefix("ok waited_ms="), "\(reply)")
        // It waited (how long depends on when it read its command under load; that it did not answer while the
        // lock was held is the proof above).
        #expect((Int(reply.dropFirst("ok waited_ms=".count)) ?? 0) > 0, "\(reply)")
        #expect(holder.finish().status == 0)
        #expect(box.ask("unlock") == "ok")
    }

    /// The browser lists the container's segments with their namespace and opens one there (Enter).
    @Test(.enabled(if: which("tmux") != nil)) func browserListsAndOpensAContainersSegment() throws {
        let key = uniqueName("nsbrowse")
        let box = try UnsharedContainer(posixName: "/" + uniqueName("nsbposix"), sysvKey: Int32.random(in: 0x1000_0000...0x3fff_ffff))
        #expect(box.ask("key \(key)").hasPrefix("ok "))
        #expect(box.ask("create 64") == "ok")
        #expect(box.ask("write 0 browsed in ns") == "ok")
        let name = try #require(IPCNamespace.of(pid: box.pid)?.name)
        let screen = try TmuxScreen(width: 160, arguments: ["browse", "--ns", "all", "--key", key])
        try #require(screen.waitFor("NS ") != nil, "\(screen.capture())")
        #expect(
            screen.waitFor { $0.split(separator: "\n").contains { $0.hasPrefix(name) && $0.contains(key) } } != nil,
            "\(screen.capture())")
        screen.send("/")
        screen.send("-l", key)
        screen.send("Enter")
        try #require(screen.waitFor("1 match") != nil, "\(screen.capture())")
        screen.send("Enter")
        #expect(screen.waitFor("browsed in ns") != nil, "\(screen.capture())")
        screen.send("q")
        try #require(screen.waitFor("NS ") != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil, "\(screen.capture())")
    }

    /// A PyQt6 peer (Qt 6.6) in a container of its own: an IPC namespace and a private `/dev/shm` (only that: the
    /// virtual environment and the peer script may live under /tmp). With `temporaryDirectory` (made inside that
    /// `/dev/shm`) as its TMPDIR and no XDG_RUNTIME_DIR. Returns the peer and its pid.
    static func qt6PeerInAContainer(temporaryDirectory: String? = nil) throws -> (Child, Int32) {
        var env = ProcessInfo.processInfo.environment
        env["QT_QPA_PLATFORM"] = "offscreen"
        var setup = "mount -t tmpfs -o mode=1777 tmpfs /dev/shm && cd /"
        if let temporaryDirectory {
            env["TMPDIR"] = temporaryDirectory
            env["XDG_RUNTIME_DIR"] = nil
            setup += " && mkdir -m 1777 '\(temporaryDirectory)'"
        }
        let script = packageRoot.appendingPathComponent("Tests/Peers/pyqt6peer.py").path
        let peer = try Child(
            which("unshare") ?? "/usr/bin/unshare",
            ["--ipc", "--mount", "--fork", "--kill-child", "--", "/bin/sh", "-c",
             "\(setup) && exec '\(Qt6Peer.python)' -u '\(script)'"],
            environment: env)
        guard let ready = peer.readLine(timeout: 30), let pid = Int32(ready.dropFirst("ready pid=".count)) else {
            peer.signal(SIGKILL)
            throw PeerError("pyqt6peer did not start in the container: \(peer.finish().stderr)")
        }
        return (peer, pid)
    }

    /// `write TARGET --ns NS` takes the peer's lock and the peer reads the bytes back; `lock` holding it (while
    /// `whileHeld` runs) makes the peer's `lock()` wait until it lets go.
    static func writeAndLockReachThePeer(
        _ target: String, ns: String, peer: Child, whileHeld: () throws -> Void = {}
    ) throws {
        let write = try ShmscopeBinary.run(["write", target, "--ns", ns, "--offset", "0", "--text", "HELLO"])
        #expect(write.status == 0, "\(write.stderr)")
        #expect(peer.ask("read 0 5") == "ok 48454c4c4f")
        let holder = try ShmscopeBinary.start(["lock", target, "--ns", ns, "--", "/bin/sh", "-c", "read x"])
        #expect(holder.readLine(timeout: 20)?.hasPrefix("locked") == true)
        try whileHeld()
        peer.send("lock")
        #expect(peer.readLine(timeout: 1) == nil, "the peer took the lock shmscope holds")
        holder.send("go")
        let reply = try #require(peer.readLine(timeout: 20))
        #expect(reply.hasPrefix("ok waited_ms="), "\(reply)")
        #expect((Int(reply.dropFirst("ok waited_ms=".count)) ?? 0) > 0, "\(reply)")
        #expect(holder.finish().status == 0)
        #expect(peer.ask("unlock") == "ok")
    }

    /// A Qt 6.6 peer (PyQt6) with its own IPC namespace and `/dev/shm`: its POSIX object and POSIX semaphore exist
    /// only in the container. `write` takes that semaphore (the container's `sem.KEY`, mapped through the process's
    /// root, never one of ours by the same name) and the peer reads the bytes back; `lock` holding it makes the peer's
    /// `lock()` wait; afterwards the peer locks at once, and the host's `/dev/shm` never had either object.
    @Test(.enabled(if: Qt6Peer.available)) func qt6PosixSegmentAndSemaphoreInsideAContainer() throws {
        let key = uniqueName("nsqt6")
        let (peer, pid) = try Self.qt6PeerInAContainer()
        defer { peer.signal(SIGKILL) }
        #expect(peer.ask("native posix \(key)") == "ok /\(key)")
        #expect(peer.ask("create 64") == "ok")
        #expect(access("/dev/shm/\(key)", F_OK) != 0 && access("/dev/shm/sem.\(key)", F_OK) != 0)
        let ns = String(pid)

        let info = try ShmscopeBinary.run(["info", "qt6:" + key, "--ns", ns])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("lock        posix-semaphore /\(key): free; value 1"), "\(info.stdout)")
        try Self.writeAndLockReachThePeer("qt6:" + key, ns: ns, peer: peer) {
            let held = try ShmscopeBinary.run(["info", "qt6:" + key, "--ns", ns])
            #expect(held.stdout.contains("value 0"), "\(held.stdout)")
        }
        // Given back: the peer locks again without waiting, and shmscope sees the semaphore free.
        let again = peer.ask("lock")
        #expect((Int(again.dropFirst("ok waited_ms=".count)) ?? .max) < 500, "\(again)")
        #expect(peer.ask("unlock") == "ok")
        let after = try ShmscopeBinary.run(["info", "qt6:" + key, "--ns", ns])
        #expect(after.stdout.contains("free; value 1"), "\(after.stdout)")
        #expect(access("/dev/shm/sem.\(key)", F_OK) != 0, "shmscope made a semaphore of that name on the host")
    }

    /// A Qt 6.6 native System V key in a container whose process has no XDG_RUNTIME_DIR: Qt puts the key file in its
    /// fallback `TMPDIR/runtime-USER`, here a TMPDIR only the container sees. shmscope finds it the same way (the
    /// process's TMPDIR, its user's name from the container's passwd, the file through the process's root): `list`
    /// names the key, `info` gives the path, `write` takes Qt's semaphore there and the peer reads the bytes back.
    @Test(.enabled(if: Qt6Peer.available)) func qt6NativeSystemVKeyInsideAContainerWithoutARuntimeDir() throws {
        let key = uniqueName("nsq6sysv")
        let (peer, pid) = try Self.qt6PeerInAContainer(temporaryDirectory: "/dev/shm/qttmp")
        defer { peer.signal(SIGKILL) }
        let path = "/dev/shm/qttmp/runtime-root/\(key)"
        #expect(peer.ask("native sysv \(key)") == "ok \(path)")
        #expect(peer.ask("create 64") == "ok")
        let ns = String(pid)

        let list = try ShmscopeBinary.run(["list", "--ns", ns], environment: ShmscopeBinary.wideEnvironment)
        #expect(list.stdout.split(separator: "\n").contains { $0.contains(" qt6-sysv ") && $0.contains(key) }, "\(list.stdout)")
        let info = try ShmscopeBinary.run(["info", "qt6-sysv:" + key, "--ns", ns])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("native key  \(path)"), "\(info.stdout)")
        #expect(info.stdout.contains("lock        qt-sysv-semaphore \(path): free; value 1"), "\(info.stdout)")
        try Self.writeAndLockReachThePeer("qt6-sysv:" + key, ns: ns, peer: peer)
    }

    @Test func enteringANamespaceWithoutPrivilegeSaysWhatIsNeeded() throws {
        guard let setpriv = which("setpriv") else { return }
        let box = try UnsharedContainer(posixName: "/" + uniqueName("nspriv"), sysvKey: Int32.random(in: 0x1000_0000...0x3fff_ffff))
        let r = try run(
            setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", ShmscopeBinary.path, "dump", "/x", "--ns", String(box.pid)],
            environment: ShmscopeBinary.environment)
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("needs root"), "\(r.stderr)")
        // So does `list` of that namespace.
        let list = try run(
            setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", ShmscopeBinary.path, "list", "--ns", String(box.pid)],
            environment: ShmscopeBinary.environment)
        #expect(list.status == 1)
        #expect(list.stderr.split(separator: "\n").count == 1 && list.stderr.contains("needs root"), "\(list.stderr)")
        // A pid that is not there is one line too.
        let gone = try ShmscopeBinary.run(["list", "--ns", "2147483647"], environment: ShmscopeBinary.wideEnvironment)
        #expect(gone.status == 1 && gone.stderr.contains("no process 2147483647"), "\(gone.stderr)")
    }

    @Test func containerNamesFromCgroupPaths() {
        let id = String(repeating: "0123456789abcdef", count: 4)
        #expect(IPCNamespace.containerName(cgroup: "0::/system.slice/docker-\(id).scope\n") == "docker:0123456789ab")
        #expect(IPCNamespace.containerName(cgroup: "12:memory:/docker/\(id)\n0::/\n") == "docker:0123456789ab")
        #expect(IPCNamespace.containerName(cgroup: "0::/machine.slice/libpod-\(id).scope/container\n") == "podman:0123456789ab")
        #expect(
            IPCNamespace.containerName(
                cgroup: "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice/cri-containerd-\(id).scope")
                == "kubernetes:0123456789ab")
        #expect(IPCNamespace.containerName(cgroup: "0::/system.slice/cri-containerd-\(id).scope") == "containerd:0123456789ab")
        #expect(IPCNamespace.containerName(cgroup: "0::/machine.slice/systemd-nspawn@deb\\x2dtest.service/payload") == "nspawn:deb-test")
        #expect(IPCNamespace.containerName(cgroup: "0::/machine.slice/machine-deb\\x2dtest.scope/payload") == "nspawn:deb-test")
        #expect(IPCNamespace.containerName(cgroup: "0::/user.slice/user-0.slice/session-3.scope") == nil)
        #expect(IPCNamespace.containerName(cgroup: "garbage") == nil)
    }
}
