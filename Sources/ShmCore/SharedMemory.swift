import Glibc

/// A shared-memory segment, with the API and behaviour of `QSharedMemory`: name it, `create` or `attach`,
/// read and write bytes, `lock`/`unlock` it with the same lock its peers use, `detach`.
///
/// For Qt keys every step follows Qt's own sequence (qt-ipc.md §8), so Qt programs and shmscope share segments
/// and exclude each other while writing.
public final class SharedMemory {
    public enum AccessMode: Sendable {
        case readOnly
        case readWrite
    }

    /// What `detach()` does when this process is the last one attached to a Qt segment.
    public enum DetachPolicy: Sendable {
        /// Qt's behaviour: the last one out removes the segment and its key file.
        case removeWhenLastOut
        /// Leave everything in place: what a monitor must do, so that looking never destroys a peer's data.
        case keep
    }

    /// A System V semaphore set that guards a raw System V segment (raw segments have no lock of their own).
    public enum SemaphoreReference: Sendable, Hashable {
        case key(key_t, number: UInt16 = 0)
        case id(Int32, number: UInt16 = 0)
    }

    public struct Options: Sendable {
        /// Qt semantics by default; monitors pass `.keep`.
        public var detachPolicy: DetachPolicy = .removeWhenLastOut
        /// Qt's temp dir for key files; nil means Qt's rule on this process's `TMPDIR`.
        public var temporaryDirectory: String?
        /// The lock of a raw System V segment, if the user names one.
        public var semaphore: SemaphoreReference?
        /// How long create/attach/detach wait for the lock before going on without it (Qt waits forever;
        /// a monitor must not hang because a peer holds its lock).
        public var lifecycleLockTimeout: Duration = .seconds(2)

        /// The same options with another lifecycle lock timeout.
        public func lifecycleLockTimeout(_ timeout: Duration) -> Options {
            var copy = self
            copy.lifecycleLockTimeout = timeout
            return copy
        }

        public init(
            detachPolicy: DetachPolicy = .removeWhenLastOut, temporaryDirectory: String? = nil,
            semaphore: SemaphoreReference? = nil
        ) {
            self.detachPolicy = detachPolicy
            self.temporaryDirectory = temporaryDirectory
            self.semaphore = semaphore
        }
    }

    public let target: SegmentTarget
    public let options: Options
    private var mapping: Mapping?
    private let lockImpl: (any SegmentLock)?
    /// Set when this object created the Qt semaphore (Qt's "owner"), so it cleans up after itself.
    private var ownsLock = false
    /// The key passed `validateKey` once; it never changes, so lock/unlock need not check it again.
    private var keyValidated = false

    public init(_ target: SegmentTarget, options: Options = Options()) {
        self.target = target
        self.options = options
        // Names are resolved once: they depend on TMPDIR (realpath) and a SHA-1, and never change for this object.
        var environment = currentEnvironment()
        if let dir = options.temporaryDirectory { environment["TMPDIR"] = dir }
        let tmp = options.temporaryDirectory ?? QtNaming.tempPath(environment: environment)
        temporaryDirectory = tmp
        nativeKey = Self.nativeKey(of: target, temporaryDirectory: tmp, environment: environment)
        let name = target.description
        switch target {
        case .qt(let key, .systemV):
            lockImpl = SystemVSemaphoreLock(
                source: .qtKeyFile(tmp + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix)),
                target: name)
        case .qt(let key, .posix):
            lockImpl = PosixSemaphoreLock(
                name: "/" + QtNaming.legacyName(for: key, prefix: QtNaming.semaphorePrefix), target: name)
        case .qtNative(let key, let type):
            // Qt 6.6+ native keys: the semaphore has the same native key as the segment.
            let native = QtNaming.nativeKey(for: key, type: type, environment: environment)
            switch type {
            case .posix: lockImpl = PosixSemaphoreLock(name: native, target: name)
            case .systemV: lockImpl = SystemVSemaphoreLock(source: .qtKeyFile(native), target: name)
            }
        case .posix(let posixName):
            lockImpl = FileLock(path: "/dev/shm" + posixName, target: name)
        case .sysvKey, .sysvID:
            switch options.semaphore {
            case .key(let k, let n): lockImpl = SystemVSemaphoreLock(source: .key(k), target: name, number: n)
            case .id(let id, let n): lockImpl = SystemVSemaphoreLock(source: .id(id), target: name, number: n)
            case nil: lockImpl = nil
            }
        }
    }

    deinit {
        if isAttached { try? detach() }
        try? lockImpl?.unlock()
    }

    // MARK: Names

    /// The Qt key (`QSharedMemory::key()`), or nil for targets that are not Qt keys.
    public var key: String? {
        switch target {
        case .qt(let key, _), .qtNative(let key, _): return key
        default: break
        }
        return nil
    }

    /// The temp dir Qt key files live in for this object.
    public let temporaryDirectory: String

    /// The OS-level name (`QSharedMemory::nativeKey()`): a key file path for Qt System V keys, a `/name` for
    /// POSIX objects, `0x…` for a System V key and `shmid:N` for an id.
    public let nativeKey: String

    private static func nativeKey(
        of target: SegmentTarget, temporaryDirectory: String, environment: [String: String]
    ) -> String {
        switch target {
        case .qt(let key, .systemV):
            key.isEmpty ? "" : temporaryDirectory + "/" + QtNaming.legacyName(for: key, prefix: QtNaming.sharedMemoryPrefix)
        case .qt(let key, .posix):
            key.isEmpty ? "" : "/" + QtNaming.legacyName(for: key, prefix: QtNaming.sharedMemoryPrefix)
        case .qtNative(let key, let type):
            QtNaming.nativeKey(for: key, type: type, environment: environment)
        case .posix(let name): name
        case .sysvKey(let key): hex32(key)
        case .sysvID(let id): "shmid:\(id)"
        }
    }

    public var isAttached: Bool { mapping != nil }
    /// The segment's size in bytes while attached (Qt: `shm_segsz` or `st_size`, never page-rounded), else 0.
    public var size: Int { mapping?.size ?? 0 }
    public var isReadOnly: Bool { mapping?.readOnly ?? false }
    /// The System V id of the attached segment.
    public var shmid: Int32? {
        if case .systemV(let id) = mapping?.backing { return id }
        return nil
    }

    /// Whether this object has a lock mechanism at all (a raw System V segment has one only when named).
    public var hasLock: Bool { lockImpl != nil }

    private var displayName: String { target.description }

    // MARK: Lifecycle

    /// Creates the segment and attaches to it read-write, as `QSharedMemory::create` does.
    /// The mode applies to the segment (Qt: 0600); key files are 0640.
    public func create(size: Int, mode: mode_t = 0o600) throws(ShmError) {
        guard !isAttached else {
            throw ShmError(.alreadyExists, operation: "create", target: displayName, message: "already attached: detach first")
        }
        try validateKey()
        guard size > 0 else {
            throw ShmError(
                .invalidSize, operation: "create", target: displayName,
                message: "size \(size) is invalid: give a size of at least 1 byte")
        }
        let perms = Int32(mode & 0o777)
        switch target {
        case .qt(_, .systemV), .qtNative(_, .systemV):
            try makeRuntimeDirectoryIfNeeded()
            try prepareQtLock(create: true)
            ownsLock = true
            let locked = try lifecycleLock()
            defer { if locked { try? lockImpl?.unlock() } }
            let keyFile = nativeKey
            let createdFile = try createQtKeyFile(keyFile, target: displayName)
            do throws(ShmError) {
                let key = try qtSystemVKey(keyFile)
                let id: Int32
                do { id = try Sys.shmget(key, size, perms | IPC_CREAT | IPC_EXCL) } catch let e {
                    throw mapShmgetError(e, size: size)
                }
                mapping = try attachSystemV(id: id, readOnly: false)
            } catch let error {
                if createdFile && error.kind != .alreadyExists { Sys.unlink(keyFile) }
                throw error
            }
        case .qt(_, .posix), .qtNative(_, .posix), .posix:
            if isQt {
                try prepareQtLock(create: true)
                ownsLock = true
            }
            let locked = try lifecycleLock()
            defer { if locked { try? lockImpl?.unlock() } }
            let name = nativeKey
            let fd: Int32
            do { fd = try Sys.shmOpen(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(perms)) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shm_open", target: displayName, context: "cannot create")
            }
            do { try Sys.ftruncate(fd, size) } catch let e {
                Sys.close(fd)
                _ = try? Sys.shmUnlink(name)
                var err = ShmError.fromErrno(e.code, operation: "ftruncate", target: displayName, context: "cannot size to \(size) bytes")
                if e.code == EINVAL { err.kind = .invalidSize }
                throw err
            }
            Sys.close(fd)
            do { mapping = try attachPosix(readOnly: false) } catch let error {
                _ = try? Sys.shmUnlink(name)
                throw error
            }
        case .sysvKey(let key):
            let id: Int32
            do { id = try Sys.shmget(key, size, perms | IPC_CREAT | IPC_EXCL) } catch let e {
                throw mapShmgetError(e, size: size)
            }
            mapping = try attachSystemV(id: id, readOnly: false)
        case .sysvID:
            throw ShmError(
                .keyError, operation: "create", target: displayName,
                message: "a shmid names an existing segment: create by key (sysv:0x…) instead")
        }
    }

    /// Attaches to an existing segment, as `QSharedMemory::attach` does. `.readOnly` maps without write permission.
    public func attach(_ mode: AccessMode = .readWrite) throws(ShmError) {
        guard !isAttached else {
            throw ShmError(.alreadyExists, operation: "attach", target: displayName, message: "already attached: detach first")
        }
        try validateKey()
        do {
            try attachSegment(mode)
        } catch {
            // Qt's attach creates the lock's key file and semaphore on the way; when the segment is not there,
            // take back what this attach created, so a mistyped key leaves nothing behind.
            if isQt && !ownsLock { lockImpl?.undoCreation() }
            throw error
        }
    }

    private func attachSegment(_ mode: AccessMode) throws(ShmError) {
        let readOnly = mode == .readOnly
        switch target {
        case .qt(_, .systemV), .qtNative(_, .systemV):
            // Qt takes its lock around attach (and creates it). A read-only attach neither creates the lock nor
            // waits for it: a monitor must never stall or leave objects behind because it looked.
            let locked = readOnly ? false : ((try? prepareQtLock(create: true)) != nil ? try lifecycleLock() : false)
            defer { if locked { try? lockImpl?.unlock() } }
            let keyFile = nativeKey
            guard (try? Sys.lstat(keyFile)) != nil else {
                throw ShmError(
                    .notFound, operation: "attach", target: displayName, errno: ENOENT,
                    message: "no Qt key file \(keyFile): is the segment created, and does the peer use the same TMPDIR?")
            }
            try checkRegularKeyFile(keyFile, target: displayName)
            let key = try qtSystemVKey(keyFile)
            let id: Int32
            do { id = try Sys.shmget(key, 0, readOnly ? 0o400 : 0o600) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmget", target: displayName, context: "cannot attach")
            }
            mapping = try attachSystemV(id: id, readOnly: readOnly)
        case .qt(_, .posix), .qtNative(_, .posix):
            let locked = readOnly ? false : ((try? prepareQtLock(create: true)) != nil ? try lifecycleLock() : false)
            defer { if locked { try? lockImpl?.unlock() } }
            mapping = try attachPosix(readOnly: readOnly)
        case .posix:
            mapping = try attachPosix(readOnly: readOnly)
        case .sysvKey(let key):
            let id: Int32
            do { id = try Sys.shmget(key, 0, 0) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmget", target: displayName, context: "cannot attach")
            }
            mapping = try attachSystemV(id: id, readOnly: readOnly)
        case .sysvID(let id):
            mapping = try attachSystemV(id: id, readOnly: readOnly)
        }
    }

    /// Detaches. For Qt System V keys under `.removeWhenLastOut`, the last process out removes the segment and
    /// its key file, exactly as Qt does; a creator also removes the lock it created (Qt's owner cleanup).
    /// POSIX objects are never unlinked here (Qt never unlinks them on Linux): use `remove()`.
    public func detach() throws(ShmError) {
        guard let mapping else {
            throw ShmError(.notFound, operation: "detach", target: displayName, message: "not attached")
        }
        // Qt locks around detach; we do so only when the lock exists (detaching must never create one).
        let lockExists = isQt && !mapping.readOnly && lockImpl?.state() != nil
        let locked = lockExists ? ((try? lifecycleLock()) ?? false) : false
        defer { if locked { try? lockImpl?.unlock() } }
        mapping.unmap()
        self.mapping = nil
        guard isQtSystemV, options.detachPolicy == .removeWhenLastOut,
            case .systemV(let id) = mapping.backing
        else { return }
        guard let ds = try? Sys.shmStat(id) else { return }
        if ds.shm_nattch == 0 {
            do { try Sys.shmRemove(id) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmctl", target: displayName, context: "cannot remove")
            }
            Sys.unlink(nativeKey)
            if ownsLock {
                if locked { try? lockImpl?.unlock() }
                lockImpl?.destroy()
            }
        }
    }

    /// Removes the segment from the system, whoever is attached: for Qt keys also the key files and the lock
    /// semaphore; for POSIX `shm_unlink`. Processes still attached keep their mapping until they detach.
    public func remove() throws(ShmError) {
        try validateKey()
        // Our own mapping stays usable, as every other process's does; a later detach finds no lock object and so
        // takes (and re-creates) none.
        try? lockImpl?.unlock()
        switch target {
        case .qt(_, .systemV), .qtNative(_, .systemV):
            let keyFile = nativeKey
            // Look the lock up first: a Qt 6 native key shares its key file with the segment.
            var found = lockImpl?.state() != nil
            if (try? checkRegularKeyFile(keyFile, target: displayName)) != nil,
                let key = try? qtSystemVKey(keyFile), let id = try? Sys.shmget(key, 0, 0)
            {
                do { try Sys.shmRemove(id) } catch let e {
                    throw ShmError.fromErrno(e.code, operation: "shmctl", target: displayName, context: "cannot remove")
                }
                found = true
            }
            if (try? Sys.lstat(keyFile)) != nil { found = true }
            Sys.unlink(keyFile)
            lockImpl?.destroy()
            if !found {
                throw ShmError(.notFound, operation: "remove", target: displayName, errno: ENOENT,
                    message: "nothing to remove: no key file, segment or semaphore for this key")
            }
        case .qt(_, .posix), .qtNative(_, .posix), .posix:
            do { try Sys.shmUnlink(nativeKey) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shm_unlink", target: displayName, context: "cannot remove")
            }
            if isQt { lockImpl?.destroy() }
        case .sysvKey(let key):
            do { try Sys.shmRemove(try Sys.shmget(key, 0, 0)) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmctl", target: displayName, context: "cannot remove")
            }
        case .sysvID(let id):
            do { try Sys.shmRemove(id) } catch let e {
                throw ShmError.fromErrno(e.code, operation: "shmctl", target: displayName, context: "cannot remove")
            }
        }
    }

    // MARK: Data

    /// Copies `count` bytes at `offset` into a new array (a snapshot).
    public func read(offset: Int = 0, count: Int? = nil) throws(ShmError) -> [UInt8] {
        let m = try attachedMapping("read")
        let n = count ?? (m.size - max(0, offset))
        try checkRange(offset: offset, count: n, size: m.size, operation: "read")
        var out = [UInt8](repeating: 0, count: n)
        let ok = out.withUnsafeMutableBytes { m.copy(to: $0.baseAddress!, offset: offset, count: n) }
        if n > 0 && !ok { throw truncated(m, operation: "read") }
        return out
    }

    /// Copies bytes at `offset` into `buffer`, filling it entirely.
    public func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws(ShmError) {
        let m = try attachedMapping("read")
        try checkRange(offset: offset, count: buffer.count, size: m.size, operation: "read")
        guard buffer.count > 0 else { return }
        if !m.copy(to: buffer.baseAddress!, offset: offset, count: buffer.count) { throw truncated(m, operation: "read") }
    }

    /// Writes `bytes` at `offset`: all of them or, when out of range or read-only, none.
    public func write(_ bytes: [UInt8], at offset: Int) throws(ShmError) {
        let m = try attachedMapping("write")
        if m.readOnly {
            throw ShmError(
                .permissionDenied, operation: "write", target: displayName,
                message: "attached read-only: attach read-write to change bytes")
        }
        try checkRange(offset: offset, count: bytes.count, size: m.size, operation: "write")
        let ok = bytes.withUnsafeBytes { m.copy(from: $0.baseAddress!, offset: offset, count: bytes.count) }
        if !bytes.isEmpty && !ok { throw truncated(m, operation: "write") }
    }

    /// For POSIX objects: the object's size now (a peer may have resized it since we attached).
    public func currentSize() -> Int? { mapping?.currentFileSize() ?? mapping?.size }

    private func attachedMapping(_ op: String) throws(ShmError) -> Mapping {
        guard let mapping else {
            throw ShmError(.notFound, operation: op, target: displayName, message: "not attached: attach first")
        }
        return mapping
    }

    private func checkRange(offset: Int, count: Int, size: Int, operation: String) throws(ShmError) {
        if offset < 0 || count < 0 || offset > size || count > size - offset {
            throw ShmError(
                .invalidSize, operation: operation, target: displayName,
                message: "range \(offset)+\(count) is outside the segment (\(size) bytes)")
        }
    }

    private func truncated(_ m: Mapping, operation: String) -> ShmError {
        let now = m.currentFileSize().map { "now \($0) bytes" } ?? "removed"
        return ShmError(
            .notFound, operation: operation, target: displayName,
            message: "segment was truncated by a peer (\(now), mapped \(m.size)): re-attach to see the new size")
    }

    /// Whether the attached segment is still what the target names, as a watcher needs to know between scans.
    public enum Presence: Equatable, Sendable {
        case present
        /// System V: IPC_RMID was done (SHM_DEST) or the id is gone; POSIX: the name was unlinked. Our mapping
        /// stays valid until we detach.
        case removed
        /// A POSIX object that a peer resized with ftruncate: re-attach to map the new size.
        case resized(to: Int)
    }

    /// Checks our own mapping: IPC_STAT on our shmid (System V) or fstat on our descriptor (POSIX).
    public func presence() -> Presence {
        guard let mapping else { return .removed }
        switch mapping.backing {
        case .systemV(let id):
            guard let ds = try? Sys.shmStat(id) else { return .removed }
            return Int32(ds.shm_perm.mode) & Int32(SHM_DEST) != 0 ? .removed : .present
        case .posix(let fd, _):
            guard let st = try? Sys.fstat(fd) else { return .removed }
            if st.st_nlink == 0 { return .removed }
            return Int(st.st_size) != mapping.size ? .resized(to: Int(st.st_size)) : .present
        }
    }

    /// True when the target now names a different segment than the one we have mapped (it was removed and a peer
    /// created it again): a System V key that resolves to another shmid, or a POSIX name with another inode.
    /// A target given as `shmid:N` never reappears.
    public func targetNamesAnotherSegment() -> Bool {
        guard let mapping else { return false }
        switch mapping.backing {
        case .systemV(let ours):
            let key: key_t
            switch target {
            case .sysvKey(let k): key = k
            case .qt(_, .systemV), .qtNative(_, .systemV):
                guard let k = try? qtSystemVKey(nativeKey) else { return false }
                key = k
            default: return false
            }
            guard let id = try? Sys.shmget(key, 0, 0) else { return false }
            return id != ours
        case .posix(let fd, let path):
            guard let now = try? Sys.lstat(path), let mine = try? Sys.fstat(fd) else { return false }
            return now.st_ino != mine.st_ino || now.st_dev != mine.st_dev
        }
    }

    // MARK: Lock

    /// Takes the segment's lock, blocking like `QSharedMemory::lock()`. A second `lock()` while held is a no-op.
    public func lock() throws(ShmError) {
        try requireLock("lock").lock()
    }

    /// Takes the lock if it becomes free within `timeout`; returns false otherwise. Never blocks longer.
    public func tryLock(timeout: Duration) throws(ShmError) -> Bool {
        try requireLock("lock").tryLock(timeout: timeout)
    }

    /// Releases the lock if this object holds it.
    public func unlock() throws(ShmError) {
        try requireLock("unlock").unlock()
    }

    /// Runs `body` while holding the lock and releases it on every path (the seed's `lock_guard`).
    public func withLock<R>(_ body: () throws -> R) throws -> R {
        try lock()
        defer { try? unlock() }
        return try body()
    }

    public var isLockedByUs: Bool { lockImpl?.isHeld ?? false }

    /// Gives back a lock left taken by a holder that died (a POSIX semaphore has no undo): one post, or value 1
    /// for a System V semaphore. Returns false when the lock was free. Only for deliberate repair.
    public func repairLock() throws(ShmError) -> Bool {
        try requireLock("repair").forceRelease()
    }

    /// The lock's state (value, last pid, waiters) without taking it; nil when there is no lock or it does not
    /// exist yet.
    public func lockState() -> LockState? { lockImpl?.state() }

    private func requireLock(_ op: String) throws(ShmError) -> any SegmentLock {
        guard let lockImpl else {
            throw ShmError(
                .lockError, operation: op, target: displayName,
                message: "a raw System V segment has no lock of its own: name a semaphore set (--sem)")
        }
        if isQt { try validateKey() }
        return lockImpl
    }

    // MARK: Helpers

    private func validateKey() throws(ShmError) {
        if keyValidated { return }
        try checkKey()
        keyValidated = true
    }

    private func checkKey() throws(ShmError) {
        if case .qtNative(let key, let type) = target {
            if key.isEmpty {
                throw ShmError(.keyError, operation: "key", target: displayName, message: "key is empty: give a Qt key")
            }
            // POSIX names (and `sem.` + name) must fit NAME_MAX: Qt's limit for "/" + key is 251 bytes.
            if type == .posix && nativeKey.utf8.count - 1 > 251 {
                throw ShmError(
                    .keyError, operation: "key", target: String(displayName.prefix(60)) + "…",
                    message: "native key is \(nativeKey.utf8.count - 1) bytes; Qt's limit is 251: use a shorter key")
            }
            return
        }
        guard case .qt(let key, let backend) = target else { return }
        if key.isEmpty {
            throw ShmError(.keyError, operation: "key", target: displayName, message: "key is empty: give a Qt key")
        }
        let letters = QtNaming.letters(of: key).utf8.count
        // Names must fit NAME_MAX (qt-ipc.md §1.4): SysV 18+|L|+40 for the segment and 15+|L|+40 for the
        // semaphore key file; POSIX `sem.` + 15 + |L| + 40 for the semaphore.
        let limit = backend == .systemV ? 197 : 196
        if letters > limit {
            throw ShmError(
                .keyError, operation: "key", target: String(displayName.prefix(60)) + "…",
                message: "key has \(letters) ASCII letters; Qt's limit is \(limit): use a shorter key")
        }
    }

    private var isQt: Bool {
        switch target {
        case .qt, .qtNative: true
        default: false
        }
    }

    private var isQtSystemV: Bool {
        switch target {
        case .qt(_, .systemV), .qtNative(_, .systemV): true
        default: false
        }
    }

    /// Qt creates its fallback runtime dir (`<temp>/runtime-<user>`, 0700) when `XDG_RUNTIME_DIR` is unusable.
    private func makeRuntimeDirectoryIfNeeded() throws(ShmError) {
        guard case .qtNative(let key, .systemV) = target, !key.hasPrefix("/") else { return }
        let dir = String(nativeKey.dropLast(key.utf8.count + 1))
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw ShmError.fromErrno(errno, operation: "mkdir", target: displayName, context: "runtime dir \(dir)")
        }
    }

    private func prepareQtLock(create: Bool) throws(ShmError) {
        try lockImpl?.prepare(create: create)
    }

    /// Takes the lock around a lifecycle step, giving up after `lifecycleLockTimeout`.
    private func lifecycleLock() throws(ShmError) -> Bool {
        guard let lockImpl, !lockImpl.isHeld else { return false }
        return (try? lockImpl.tryLock(timeout: options.lifecycleLockTimeout)) ?? false
    }

    private func qtSystemVKey(_ keyFile: String) throws(ShmError) -> key_t {
        do { return try Sys.ftok(keyFile, QtNaming.ftokProjectID) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "ftok", target: displayName, context: "key file \(keyFile)")
        }
    }

    private func mapShmgetError(_ e: Errno, size: Int) -> ShmError {
        if e.code == EINVAL {
            return ShmError(
                .invalidSize, operation: "shmget", target: displayName, errno: e.code,
                message: "size \(size) is outside the system's limits (kernel.shmmax) or the existing segment's size")
        }
        return ShmError.fromErrno(e.code, operation: "shmget", target: displayName, context: "cannot create")
    }

    private func attachSystemV(id: Int32, readOnly: Bool) throws(ShmError) -> Mapping {
        let base: UnsafeMutableRawPointer
        do { base = try Sys.shmat(id, readOnly: readOnly) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "shmat", target: displayName, context: "cannot attach")
        }
        let size: Int
        do { size = Int(try Sys.shmStat(id).shm_segsz) } catch let e {
            try? Sys.shmdt(base)
            throw ShmError.fromErrno(e.code, operation: "shmctl", target: displayName, context: "cannot read size")
        }
        return Mapping(base: base, size: size, readOnly: readOnly, backing: .systemV(shmid: id))
    }

    private func attachPosix(readOnly: Bool) throws(ShmError) -> Mapping {
        let name = nativeKey
        let fd: Int32
        do {
            fd = try Sys.shmOpen(name, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW, readOnly ? 0o400 : 0o600)
        } catch let e {
            throw ShmError.fromErrno(e.code, operation: "shm_open", target: displayName, context: "cannot attach")
        }
        let size: Int
        do { size = Int(try Sys.fstat(fd).st_size) } catch let e {
            Sys.close(fd)
            throw ShmError.fromErrno(e.code, operation: "fstat", target: displayName, context: "cannot read size")
        }
        var base: UnsafeMutableRawPointer? = nil
        if size > 0 {
            do { base = try Sys.mmap(fd, size, writable: !readOnly) } catch let e {
                Sys.close(fd)
                throw ShmError.fromErrno(e.code, operation: "mmap", target: displayName, context: "cannot map \(size) bytes")
            }
        }
        return Mapping(base: base, size: size, readOnly: readOnly, backing: .posix(fd: fd, path: "/dev/shm" + name))
    }
}
