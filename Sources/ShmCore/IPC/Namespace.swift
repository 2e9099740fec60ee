import CShmShims
import Glibc

/// Which IPC namespaces a command looks at (`--ns`): our own, the one of a process, or every one that has processes.
public enum NamespaceSelection: Sendable, Equatable {
    case current
    case process(Int32)
    case all

    /// Parses `--ns`: `self`, `all` or a pid.
    public static func parse(_ text: String) throws(NumberSyntaxError) -> NamespaceSelection {
        switch text {
        case "self": return .current
        case "all": return .all
        default:
            let pid = try NumberParser.count(text, label: "--ns (a pid, self or all)", in: 1...Int(Int32.max))
            return .process(Int32(pid))
        }
    }
}

/// An IPC namespace as /proc shows it: its inode, the process we reach it through, and a name for people: the
/// container its processes run in (from their cgroup path) or otherwise its first process.
public struct IPCNamespace: Sendable, Hashable {
    /// The inode of `/proc/PID/ns/ipc` (what `ipc:[N]` names).
    public let inode: UInt64
    /// The lowest pid in it: the process whose namespace we enter and whose root we read files through.
    public let pid: Int32
    public let processCount: Int
    /// This process's own IPC namespace.
    public let isOurs: Bool
    /// `docker:0123456789ab`, `podman:…`, `containerd:…`, `kubernetes:…`, `nspawn:NAME`, or `pid N (comm)`;
    /// `host` for ours when it is init's, else `self`.
    public let name: String

    /// The IPC namespace inode of `pid` (or of this process), nil when it cannot be read.
    public static func inode(of pid: Int32?, procRoot: String = "/proc") -> UInt64? {
        (try? Sys.stat(procRoot + "/" + (pid.map { String($0) } ?? "self") + "/ns/ipc")).map { UInt64($0.st_ino) }
    }

    /// Every IPC namespace that has a process we can see, ours first, then by inode.
    public static func all(procRoot: String = "/proc") -> [IPCNamespace] {
        let ours = inode(of: nil, procRoot: procRoot)
        var members: [UInt64: [Int32]] = [:]
        for name in (try? Sys.directoryEntries(procRoot)) ?? [] {
            guard let pid = Int32(name), let ino = inode(of: pid, procRoot: procRoot) else { continue }
            members[ino, default: []].append(pid)
        }
        let initNamespace = inode(of: 1, procRoot: procRoot)
        return members.map { ino, pids in
            let first = pids.min()!
            let name: String
            if ino == ours {
                name = ino == initNamespace ? "host" : "self"
            } else {
                name = label(pid: first, procRoot: procRoot)
            }
            return IPCNamespace(inode: ino, pid: first, processCount: pids.count, isOurs: ino == ours, name: name)
        }.sorted { ($0.isOurs ? 0 : 1, $0.inode) < ($1.isOurs ? 0 : 1, $1.inode) }
    }

    /// The namespace `pid` is in, named as `all()` names it.
    public static func of(pid: Int32, procRoot: String = "/proc") -> IPCNamespace? {
        guard let ino = inode(of: pid, procRoot: procRoot) else { return nil }
        return all(procRoot: procRoot).first { $0.inode == ino }
    }

    /// The container `pid` runs in, from its cgroup path, or `pid N (comm)`.
    static func label(pid: Int32, procRoot: String = "/proc") -> String {
        if let cgroup = readTextFile("\(procRoot)/\(pid)/cgroup"), let name = containerName(cgroup: cgroup) {
            return name
        }
        return "pid \(pid) (\(ProcessInfoReader.command(pid: pid, procRoot: procRoot).terminalSafe()))"
    }

    /// The container a cgroup path names (`/proc/PID/cgroup`, v1 or v2): Kubernetes pods, Docker, Podman,
    /// containerd and systemd-nspawn machines; nil for anything else. Ids are shortened to 12 characters, as
    /// `docker ps` shows them.
    public static func containerName(cgroup: String) -> String? {
        for line in cgroup.split(separator: "\n") {
            // "hierarchy-id:controllers:path"; the path may itself contain colons.
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let parts = fields[2].split(separator: "/").map(String.init)
            if parts.contains(where: { $0.hasPrefix("kubepods") }) {
                let id = parts.last.flatMap { containerID(in: $0) }
                let pod = parts.first { $0.hasPrefix("pod") || $0.contains("-pod") }
                if let id { return "kubernetes:" + id }
                if let pod { return "kubernetes:" + pod.replacingOccurrences("kubepods-", "") }
                continue
            }
            for (index, part) in parts.enumerated() {
                for (prefix, runtime) in [
                    ("docker-", "docker"), ("libpod-", "podman"), ("cri-containerd-", "containerd"),
                    ("crio-", "cri-o"),
                ] where part.hasPrefix(prefix) {
                    if let id = containerID(in: String(part.dropFirst(prefix.count))) { return runtime + ":" + id }
                }
                if index > 0, let id = containerID(in: part) {
                    switch parts[index - 1] {
                    case "docker": return "docker:" + id
                    case "libpod_parent": return "podman:" + id
                    case "containerd", "default": return "containerd:" + id
                    default: break
                    }
                }
                if part.hasPrefix("systemd-nspawn@"), part.hasSuffix(".service") {
                    return "nspawn:" + unescapeUnit(String(part.dropFirst("systemd-nspawn@".count).dropLast(8)))
                }
                if part.hasPrefix("machine-"), part.hasSuffix(".scope"), parts.contains("machine.slice") {
                    return "nspawn:" + unescapeUnit(String(part.dropFirst("machine-".count).dropLast(6)))
                }
            }
        }
        return nil
    }

    /// A 64-hex-digit container id (optionally followed by `.scope`), shortened to 12.
    private static func containerID(in text: String) -> String? {
        var body = Substring(text)
        if body.hasSuffix(".scope") { body = body.dropLast(6) }
        if let dash = body.lastIndex(of: "-") { body = body[body.index(after: dash)...] }
        guard body.utf8.count == 64, body.utf8.allSatisfy({ isHexDigit($0) }) else { return nil }
        return String(body.prefix(12))
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
    }

    /// systemd unit names escape `-` as `\x2d`.
    private static func unescapeUnit(_ text: String) -> String { text.replacingOccurrences("\\x2d", "-") }
}

extension String {
    func replacingOccurrences(_ what: String, _ with: String) -> String {
        guard !what.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: what) {
            out += rest[..<r.lowerBound] + with
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

/// Where file paths resolve: in our own root, or inside another process's root (`/proc/PID/root`, its container).
/// Inside a foreign root every path is opened with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: an absolute
/// symlink planted in the container resolves inside it, never to a host file, as `/proc/PID/root/...` would
/// (decisions.md, "Machine facts").
final class FileRoot: @unchecked Sendable {
    static let host = FileRoot(descriptor: nil, pid: nil)

    /// An `shm_shim_o_path()` descriptor of the root; nil for ours.
    let descriptor: Int32?
    let pid: Int32?

    init(descriptor: Int32?, pid: Int32?) {
        self.descriptor = descriptor
        self.pid = pid
    }

    var isHost: Bool { descriptor == nil }

    /// How a path inside this root is shown to people.
    func display(_ path: String) -> String { pid.map { "/proc/\($0)/root" + path } ?? path }

    func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(Errno) -> Int32 {
        guard let descriptor else { return try Sys.open(path, flags, mode) }
        return try Sys.openInRoot(descriptor, path, flags, mode)
    }

    /// `lstat`: the entry itself, never what a symlink points to.
    func lstat(_ path: String) throws(Errno) -> stat {
        guard let descriptor else { return try Sys.lstat(path) }
        let fd = try Sys.openInRoot(descriptor, path, shm_shim_o_path() | O_NOFOLLOW)
        defer { Sys.close(fd) }
        return try Sys.fstat(fd)
    }

    func exists(_ path: String) -> Bool {
        guard descriptor != nil else { return (try? Sys.access(path, F_OK)) != nil }
        return (try? lstat(path)) != nil
    }

    /// glibc's `ftok`: the low 16 bits of the inode, the low 8 of the device and the project id. Device numbers
    /// are the same seen from every namespace, so a key file reached through the root gives the peer's key.
    func ftok(_ path: String, _ id: Int32) throws(Errno) -> key_t {
        guard let descriptor else { return try Sys.ftok(path, id) }
        let fd = try Sys.openInRoot(descriptor, path, shm_shim_o_path())
        defer { Sys.close(fd) }
        let st = try Sys.fstat(fd)
        let bits = UInt32(truncatingIfNeeded: st.st_ino & 0xffff) | UInt32(truncatingIfNeeded: (st.st_dev & 0xff) << 16)
            | (UInt32(truncatingIfNeeded: id & 0xff) << 24)
        return key_t(bitPattern: bits)
    }

    func unlink(_ path: String) {
        guard let descriptor else { return Sys.unlink(path) }
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let dir = try? Sys.openInRoot(descriptor, directory.isEmpty ? "/" : directory, shm_shim_o_path() | O_DIRECTORY)
        else { return }
        defer { Sys.close(dir) }
        try? Sys.unlinkat(dir, name)
    }

    func directoryEntries(_ path: String) throws(Errno) -> [String] {
        guard let descriptor else { return try Sys.directoryEntries(path) }
        return try Sys.directoryEntries(descriptor: try Sys.openInRoot(descriptor, path, O_RDONLY | O_DIRECTORY))
    }
}

/// A thread that entered another IPC namespace (`setns(CLONE_NEWIPC)`) and runs System V calls there for
/// callers that wait for it. `setns` changes only the calling thread, and leaving a namespace again runs the
/// kernel's SEM_UNDO cleanup for that thread, which would release a Qt lock we hold: so the thread enters once and
/// never leaves, lives as long as the process (its undo list is given back when the process exits, as Qt's lock
/// must be), blocks every signal, and runs nothing but the callers' calls: it never takes one of our own locks.
final class NamespaceThread: @unchecked Sendable {
    private let request = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private let callers = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var job: (() -> Void)?
    private var thread = pthread_t()
    private var namespaceFD: Int32
    private var startError: Int32 = 0

    /// Starts the thread and enters the namespace `namespaceFD` names (the descriptor is closed).
    init(namespaceFD: Int32) throws(Errno) {
        self.namespaceFD = namespaceFD
        sem_init(request, 0, 0)
        sem_init(done, 0, 0)
        pthread_mutex_init(callers, nil)
        let me = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &thread, nil,
            { argument in
                let me = Unmanaged<NamespaceThread>.fromOpaque(argument!).takeRetainedValue()
                me.main()
                return nil
            }, me)
        guard rc == 0 else {
            Unmanaged<NamespaceThread>.fromOpaque(me).release()
            Sys.close(namespaceFD)
            throw Errno(code: rc)
        }
        pthread_detach(thread)
        while sem_wait(done) != 0 {}
        if startError != 0 { throw Errno(code: startError) }
    }

    private func main() {
        _ = shm_shim_block_all_signals()
        do { try Sys.setnsIPC(namespaceFD) } catch { startError = error.code }
        Sys.close(namespaceFD)
        let failed = startError != 0
        sem_post(done)
        if failed { return }
        while true {
            while sem_wait(request) != 0 {}
            job?()
            job = nil
            sem_post(done)
        }
    }

    /// Runs `body` on the thread, inside the namespace, and waits for it. Called on the thread itself (a nested
    /// call), it runs `body` at once.
    func run<T>(_ body: () throws(ShmError) -> T) throws(ShmError) -> T {
        if pthread_equal(pthread_self(), thread) != 0 { return try body() }
        var result: Result<T, ShmError>?
        withoutActuallyEscaping(body) { escapable in
            pthread_mutex_lock(callers)
            job = { result = Result { () throws(ShmError) -> T in try escapable() } }
            sem_post(request)
            while sem_wait(done) != 0 {}
            pthread_mutex_unlock(callers)
        }
        return try result!.get()
    }
}

/// Another process's namespaces as ShmCore reaches them: its IPC namespace (System V objects, through a
/// `NamespaceThread` that entered it) and its root (POSIX objects in its `/dev/shm`, Qt key files in its `/tmp`,
/// through `FileRoot`). `local` is our own, with no thread and no redirection.
public final class NamespaceAccess: @unchecked Sendable {
    public let pid: Int32?
    let files: FileRoot
    private let thread: NamespaceThread?
    /// The IPC namespace inode `pid` was in when this was made: a pid reused by another process is not the same.
    private var inode: UInt64?
    /// Why the namespace cannot be reached; thrown by every `run`.
    private let problem: ShmError?

    public static let local = NamespaceAccess(pid: nil, files: .host, thread: nil, problem: nil)

    private init(pid: Int32?, files: FileRoot, thread: NamespaceThread?, problem: ShmError?) {
        self.pid = pid
        self.files = files
        self.thread = thread
        self.problem = problem
    }

    /// True when System V calls run in another IPC namespace than ours.
    public var isForeign: Bool { thread != nil || !files.isHost }

    /// The namespaces of `pid`: ours when they are ours, else a thread inside its IPC namespace and its root.
    /// One per IPC namespace and root is kept for the life of the process (see `NamespaceThread`).
    public static func of(pid: Int32) throws(ShmError) -> NamespaceAccess {
        pthread_mutex_lock(cacheLock)
        defer { pthread_mutex_unlock(cacheLock) }
        let inode = IPCNamespace.inode(of: pid)
        if let known = cache[pid], known.inode == inode { return known }
        let access = try make(pid: pid)
        access.inode = inode
        cache[pid] = access
        return access
    }

    /// Like `of(pid:)`, but never throws: the problem is thrown by every later call instead.
    static func reaching(pid: Int32) -> NamespaceAccess {
        do { return try of(pid: pid) } catch {
            return NamespaceAccess(pid: pid, files: .host, thread: nil, problem: error)
        }
    }

    nonisolated(unsafe) private static var cache: [Int32: NamespaceAccess] = [:]
    nonisolated(unsafe) private static var threads: [UInt64: NamespaceThread] = [:]
    nonisolated(unsafe) private static let cacheLock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    private static func make(pid: Int32) throws(ShmError) -> NamespaceAccess {
        let target = "--ns \(pid)"
        let procDir = "/proc/\(pid)"
        guard (try? Sys.stat(procDir)) != nil else {
            throw ShmError(
                .notFound, operation: "namespace", target: target, errno: ENOENT,
                message: "no process \(pid): --ns takes the pid of a process in the namespace (or self, or all)")
        }
        func denied(_ what: String, _ code: Int32) -> ShmError {
            ShmError(
                .permissionDenied, operation: "namespace", target: target, errno: code,
                message: "\(what) of process \(pid) needs root (CAP_SYS_ADMIN and the right to trace it): run shmscope with sudo")
        }
        let ns: stat
        let ours: stat
        do {
            ns = try Sys.stat(procDir + "/ns/ipc")
            ours = try Sys.stat("/proc/self/ns/ipc")
        } catch { throw denied("reading the IPC namespace", error.code) }
        // The root: ours when the process shares our mount namespace and root directory (the same directory in
        // another mount namespace can have other mounts on it, such as a private /dev/shm).
        let files: FileRoot
        do {
            let rootStat = try Sys.stat(procDir + "/root/")
            let ourRoot = try Sys.stat("/")
            let mounts = try Sys.stat(procDir + "/ns/mnt")
            let ourMounts = try Sys.stat("/proc/self/ns/mnt")
            if rootStat.st_dev == ourRoot.st_dev && rootStat.st_ino == ourRoot.st_ino
                && mounts.st_ino == ourMounts.st_ino
            {
                files = .host
            } else {
                files = FileRoot(descriptor: try Sys.open(procDir + "/root", shm_shim_o_path() | O_DIRECTORY | O_CLOEXEC), pid: pid)
            }
        } catch { throw denied("reading the root directory", error.code) }
        var thread: NamespaceThread? = nil
        if ns.st_ino != ours.st_ino {
            let inode = UInt64(ns.st_ino)
            if let known = threads[inode] {
                thread = known
            } else {
                do {
                    let fd = try Sys.open(procDir + "/ns/ipc", O_RDONLY | O_CLOEXEC)
                    thread = try NamespaceThread(namespaceFD: fd)
                } catch { throw denied("entering the IPC namespace", error.code) }
                threads[inode] = thread
            }
        }
        return NamespaceAccess(pid: pid, files: files, thread: thread, problem: nil)
    }

    /// The environment of the process we reach the namespace through (its `TMPDIR` is where its Qt key files are);
    /// empty for our own and when it cannot be read.
    public var environment: [String: String] {
        guard let pid, isForeign, let bytes = readFileBytes("/proc/\(pid)/environ") else { return [:] }
        var out: [String: String] = [:]
        for item in bytes.split(separator: 0) {
            guard let eq = item.firstIndex(of: UInt8(ascii: "=")) else { continue }
            out[String(decoding: item[..<eq], as: UTF8.self)] = String(decoding: item[(eq + 1)...], as: UTF8.self)
        }
        return out
    }

    /// Qt's temp dir inside the namespace's root: its process's `TMPDIR`, else `/tmp`.
    public var temporaryDirectory: String { environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp" }

    /// Qt's runtime dir (`QStandardPaths::RuntimeLocation`, where Qt 6 native System V keys live) as the namespace's
    /// process has it: its `XDG_RUNTIME_DIR` when that is a directory inside its root, else
    /// `TEMP/runtime-USER` with its own user's name from its root's `/etc/passwd` (Qt's fallback; an empty name
    /// when it has none, as Qt's `resolveUserName`). Ours for our own namespace.
    public func runtimeDirectory(temporaryDirectory temp: String) -> String {
        guard isForeign else {
            var env = currentEnvironment()
            env["TMPDIR"] = temp
            return QtNaming.runtimeDirectory(environment: env)
        }
        let env = environment
        if let dir = env["XDG_RUNTIME_DIR"], dir.hasPrefix("/"),
            let fd = try? files.open(dir, shm_shim_o_path() | O_DIRECTORY | O_CLOEXEC)
        {
            Sys.close(fd)
            return dir
        }
        return temp + "/runtime-" + (effectiveUID.flatMap(userNameInside) ?? "")
    }

    /// The effective uid of the process we reach the namespace through (`/proc/PID/status`, `Uid:` line).
    private var effectiveUID: UInt32? {
        guard let pid, let bytes = readFileBytes("/proc/\(pid)/status") else { return nil }
        for line in bytes.split(separator: UInt8(ascii: "\n")) where line.starts(with: Array("Uid:".utf8)) {
            let ids = line.dropFirst(4).split(whereSeparator: { $0 == 9 || $0 == 32 })
            guard ids.count >= 2 else { return nil }
            return UInt32(String(decoding: ids[1], as: UTF8.self))
        }
        return nil
    }

    /// The name `uid` has in the root's own `/etc/passwd` (a container's users are not the host's).
    private func userNameInside(_ uid: UInt32) -> String? {
        guard let fd = try? files.open("/etc/passwd", O_RDONLY | O_CLOEXEC) else { return nil }
        defer { Sys.close(fd) }
        guard let bytes = try? readWholeFile(descriptor: fd, limit: 4 << 20) else { return nil }
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            if fields.count > 2, UInt32(String(decoding: fields[2], as: UTF8.self)) == uid {
                return String(decoding: fields[0], as: UTF8.self)
            }
        }
        return nil
    }

    /// True when `run` calls its body right here: our own namespace, nothing to refuse.
    var runsHere: Bool { thread == nil && problem == nil }

    /// Throws why the namespace cannot be reached, if it cannot.
    public func check() throws(ShmError) {
        if let problem { throw problem }
    }

    /// Runs `body` where this namespace's System V objects are: on its thread, or here for our own.
    public func run<T>(_ body: () throws(ShmError) -> T) throws(ShmError) -> T {
        if let problem { throw problem }
        guard let thread else { return try body() }
        return try thread.run(body)
    }

    /// `run` for a body that cannot fail; nil when the namespace cannot be reached.
    func look<T>(_ body: () -> T) -> T? {
        try? run { () throws(ShmError) -> T in body() }
    }
}
