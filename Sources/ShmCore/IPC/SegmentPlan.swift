import Glibc

/// What a target resolves to, decided once when a `SharedMemory` is made: the native name, the backend that owns
/// the segment, the lock, and whether Qt's lifecycle rules apply. This is the one place that looks at the target's
/// kind; Qt's dialect only derives names here (`QtNaming`) and picks the backend and the lock.
///
/// A new kind of segment is a new `SegmentBackend` type and one case below.
struct SegmentPlan {
    /// The temp dir Qt key files live in.
    let temporaryDirectory: String
    /// `QSharedMemory::nativeKey()`: a key file path, a `/name`, `0x…` or `shmid:N`.
    let nativeKey: String
    /// `QSharedMemory::key()`: the Qt key, or nil for targets that are not Qt keys.
    let qtKey: String?
    let backend: any SegmentBackend
    let lock: (any SegmentLock)?
    /// Qt's lifecycle rules: take the lock around create/attach/detach, the creator owns (and removes) the lock,
    /// and an attach that fails takes back the lock objects it created.
    let followsQt: Bool
    /// Why the key cannot be used (empty, too long for Qt's names); thrown when the key is first used, as Qt does.
    let keyProblem: ShmError?
    /// The namespaces the segment lives in: ours, or another process's (`--ns PID`). Its System V calls run
    /// there (`NamespaceAccess.run`) and its files are reached inside that process's root.
    let access: NamespaceAccess

    init(_ target: SegmentTarget, options: SharedMemory.Options) {
        access = options.namespace.map(NamespaceAccess.reaching) ?? .local
        let files = access.files
        // Names depend on TMPDIR (realpath) and a SHA-1, and never change for one object.
        var environment = access.isForeign ? access.environment : currentEnvironment()
        if let dir = options.temporaryDirectory { environment["TMPDIR"] = dir }
        // A container's temp dir is its own TMPDIR or /tmp, inside its root (never resolved through ours).
        let tmp =
            options.temporaryDirectory
            ?? (access.isForeign ? (environment["TMPDIR"] ?? "/tmp") : QtNaming.tempPath(environment: environment))
        let name = target.description
        temporaryDirectory = tmp
        switch target {
        case .qt(let key, let qtBackend):
            let segmentName = QtNaming.legacyName(for: key, prefix: QtNaming.sharedMemoryPrefix)
            let semaphoreName = QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)
            qtKey = key
            followsQt = true
            switch qtBackend {
            case .systemV:
                nativeKey = key.isEmpty ? "" : tmp + "/" + segmentName
                backend = SystemVBackend(
                    source: .keyFile(path: nativeKey, directory: nil), target: name, lastOutRemoves: true, files: files)
                lock = SystemVSemaphoreLock(source: .qtKeyFile(tmp + "/" + semaphoreName), target: name, files: files)
            case .posix:
                nativeKey = key.isEmpty ? "" : "/" + segmentName
                backend = PosixBackend(name: nativeKey, target: name, files: files)
                lock = PosixSemaphoreLock(name: "/" + semaphoreName, target: name, files: files)
            }
            keyProblem = Self.legacyKeyProblem(key, backend: qtBackend, target: name)
        case .qtNative(let key, let type):
            // Qt 6.6+ native keys: the semaphore has the same native key as the segment. A relative System V key
            // lives in Qt's runtime dir as the namespace's process has it (ours, or a container's inside its root).
            let runtime = type == .systemV && !key.hasPrefix("/") ? access.runtimeDirectory(temporaryDirectory: tmp) : nil
            nativeKey = runtime.map { $0 + "/" + key } ?? QtNaming.nativeKey(for: key, type: type, environment: environment)
            qtKey = key
            followsQt = true
            switch type {
            case .posix:
                backend = PosixBackend(name: nativeKey, target: name, files: files)
                lock = PosixSemaphoreLock(name: nativeKey, target: name, files: files)
            case .systemV:
                // Qt creates its fallback runtime dir (`<temp>/runtime-<user>`, 0700) when XDG_RUNTIME_DIR is
                // unusable; an absolute key names its file directly.
                backend = SystemVBackend(
                    source: .keyFile(path: nativeKey, directory: runtime), target: name, lastOutRemoves: true,
                    files: files)
                lock = SystemVSemaphoreLock(source: .qtKeyFile(nativeKey), target: name, files: files)
            }
            keyProblem = Self.nativeKeyProblem(key, type: type, nativeKey: nativeKey, target: name)
        case .posix(let posixName):
            nativeKey = posixName
            qtKey = nil
            followsQt = false
            backend = PosixBackend(name: posixName, target: name, files: files)
            lock = Self.posixLock(posixName, reference: options.semaphore, target: name, files: files)
            keyProblem = nil
        case .sysvKey(let key):
            nativeKey = hex32(key)
            qtKey = nil
            followsQt = false
            backend = SystemVBackend(source: .key(key), target: name, lastOutRemoves: false, files: files)
            lock = Self.namedSemaphore(options.semaphore, target: name, files: files)
            keyProblem = nil
        case .memfd(let pid, _), .mapping(let pid, _):
            // No name, no lock: reached through the process that maps it, whatever its namespace.
            nativeKey = name
            qtKey = nil
            followsQt = false
            backend = SharedMappingBackend(target: target, pid: pid)
            lock = nil
            keyProblem = nil
        case .sysvID(let id):
            nativeKey = "shmid:\(id)"
            qtKey = nil
            followsQt = false
            backend = SystemVBackend(source: .id(id), target: name, lastOutRemoves: false, files: files)
            lock = Self.namedSemaphore(options.semaphore, target: name, files: files)
            keyProblem = nil
        }
    }

    /// A raw System V segment has no lock of its own: only the semaphore set the user names, or Qt's lock that
    /// `ResolvedTarget` found next to it (a Qt segment opened by id or key).
    private static func namedSemaphore(
        _ reference: SharedMemory.SemaphoreReference?, target: String, files: FileRoot
    ) -> (any SegmentLock)? {
        switch reference {
        case .key(let k, let n): SystemVSemaphoreLock(source: .key(k), target: target, number: n)
        case .id(let id, let n): SystemVSemaphoreLock(source: .id(id), target: target, number: n)
        case .qtKeyFile(let path):
            SystemVSemaphoreLock(source: .qtKeyFile(path), target: target, createsKeyFile: false, files: files)
        case .posix(let name): PosixSemaphoreLock(name: name, target: target, files: files)
        case nil: nil
        }
    }

    /// The lock of a POSIX object opened by name. A Qt POSIX segment (`/qipc_sharedmemory_X`) is locked by Qt's
    /// `/qipc_systemsem_X`, and a Qt 6 native key (`/KEY` with `/dev/shm/sem.KEY`, as the catalog tells them) by
    /// `/KEY`: the peer's real lock. Anything else gets an advisory `flock` on its `/dev/shm` file.
    static func posixLock(
        _ name: String, reference: SharedMemory.SemaphoreReference?, target: String, files: FileRoot = .host
    ) -> any SegmentLock {
        if case .posix(let semaphore) = reference {
            return PosixSemaphoreLock(name: semaphore, target: target, files: files)
        }
        if let semaphore = qtPosixSemaphore(for: name, files: files) {
            return PosixSemaphoreLock(name: semaphore, target: target, files: files)
        }
        return FileLock(path: "/dev/shm" + name, target: target, files: files)
    }

    /// Qt's semaphore name for the POSIX object `name`, when it is a Qt segment; nil for a plain object.
    static func qtPosixSemaphore(for name: String, devShm: String = "/dev/shm", files: FileRoot = .host) -> String? {
        let file = String(name.dropFirst())
        if let parsed = QtNaming.parseLegacyName(file) {
            guard parsed.prefix == QtNaming.sharedMemoryPrefix else { return nil }
            return "/" + QtNaming.semaphorePrefix + parsed.letters + parsed.hash
        }
        guard !file.isEmpty, !file.contains("/"), files.exists(devShm + "/sem." + file) else {
            return nil
        }
        return name
    }

    private static func legacyKeyProblem(_ key: String, backend: QtBackend, target: String) -> ShmError? {
        if key.isEmpty {
            return ShmError(.keyError, operation: "key", target: target, message: "key is empty: give a Qt key")
        }
        let letters = QtNaming.letters(of: key).utf8.count
        // Names must fit NAME_MAX (qt-ipc.md §1.4): SysV 18+|L|+40 for the segment and 15+|L|+40 for the
        // semaphore key file; POSIX `sem.` + 15 + |L| + 40 for the semaphore.
        let limit = backend == .systemV ? 197 : 196
        if letters > limit {
            return ShmError(
                .keyError, operation: "key", target: String(target.prefix(60)) + "…",
                message: "key has \(letters) ASCII letters; Qt's limit is \(limit): use a shorter key")
        }
        return nil
    }

    private static func nativeKeyProblem(_ key: String, type: QtNativeType, nativeKey: String, target: String)
        -> ShmError?
    {
        if key.isEmpty {
            return ShmError(.keyError, operation: "key", target: target, message: "key is empty: give a Qt key")
        }
        // POSIX names (and `sem.` + name) must fit NAME_MAX: Qt's limit for "/" + key is 251 bytes.
        if type == .posix && nativeKey.utf8.count - 1 > 251 {
            return ShmError(
                .keyError, operation: "key", target: String(target.prefix(60)) + "…",
                message: "native key is \(nativeKey.utf8.count - 1) bytes; Qt's limit is 251: use a shorter key")
        }
        return nil
    }
}
