import Glibc
import CShmShims

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

    /// The lock of a segment named without its Qt key: a System V semaphore set the user names (`--sem`) for a
    /// raw System V segment, or Qt's own lock found next to a Qt segment opened by id, key or name.
    public enum SemaphoreReference: Sendable, Hashable {
        case key(key_t, number: UInt16 = 0)
        case id(Int32, number: UInt16 = 0)
        /// Qt's System V lock: a `qipc_systemsem_…` key file (or a Qt 6 native key file, which segment and lock
        /// share), `ftok(path, 'Q')`, SEM_UNDO. The key file is never created; a read-only look creates nothing.
        case qtKeyFile(String)
        /// A POSIX named semaphore, `/name` (Qt POSIX builds: `/qipc_systemsem_…`; Qt 6 native keys: the
        /// segment's own name).
        case posix(String)
    }

    public struct Options: Sendable {
        /// Qt semantics by default; monitors pass `.keep`.
        public var detachPolicy: DetachPolicy = .removeWhenLastOut
        /// Qt's temp dir for key files; nil means Qt's rule on this process's `TMPDIR`.
        public var temporaryDirectory: String?
        /// The lock of a raw System V segment, if the user names one.
        public var semaphore: SemaphoreReference?
        /// The pid of a process whose IPC namespace and root the segment lives in (`--ns PID`); nil: ours.
        public var namespace: Int32?
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
            semaphore: SemaphoreReference? = nil, namespace: Int32? = nil
        ) {
            self.detachPolicy = detachPolicy
            self.temporaryDirectory = temporaryDirectory
            self.semaphore = semaphore
            self.namespace = namespace
        }
    }

    public let target: SegmentTarget
    public let options: Options
    private var mapping: Mapping?
    /// The kind of segment, chosen once by the plan: every create/attach/detach/remove/presence goes through it.
    private let backend: any SegmentBackend
    private let lockImpl: (any SegmentLock)?
    /// Qt's lifecycle rules apply (see `SegmentPlan.followsQt`).
    private let followsQt: Bool
    private let keyProblem: ShmError?
    /// Set when this object created the Qt semaphore (Qt's "owner"), so it cleans up after itself.
    private var ownsLock = false
    /// Where the segment's System V objects and files are: every step that touches them runs through it (on the
    /// thread inside another IPC namespace, or right here for our own). Reads and writes are plain memory copies.
    private let access: NamespaceAccess
    /// The lock when it is a System V semaphore set in our own namespace with nothing to refuse (the common case,
    /// Qt's own lock): `lock()` and `unlock()` call it directly, without the existential, the namespace closure and
    /// the repeated checks, so a lock loop costs what Qt's does (scripts/bench.sh, "Qt lock+unlock"). Unmanaged:
    /// `lockImpl` keeps the same object alive as long as this one, so a call through it needs no retain/release.
    private let directSemaphore: Unmanaged<SystemVSemaphoreLock>?

    public init(_ target: SegmentTarget, options: Options = Options()) {
        self.target = target
        self.options = options
        let plan = SegmentPlan(target, options: options)
        temporaryDirectory = plan.temporaryDirectory
        nativeKey = plan.nativeKey
        key = plan.qtKey
        backend = plan.backend
        lockImpl = plan.lock
        followsQt = plan.followsQt
        keyProblem = plan.keyProblem
        access = plan.access
        directSemaphore = (plan.keyProblem == nil && plan.access.runsHere ? plan.lock as? SystemVSemaphoreLock : nil)
            .map { Unmanaged.passUnretained($0) }
    }

    deinit {
        if isAttached { try? detach() }
        try? lockImpl.map { lock in try access.run { () throws(ShmError) in try lock.unlock() } }
    }

    /// The pid whose namespaces this segment is in (`Options.namespace`), nil for ours.
    public var namespacePID: Int32? { access.isForeign ? access.pid : nil }

    // MARK: Names

    /// The Qt key (`QSharedMemory::key()`), or nil for targets that are not Qt keys.
    public let key: String?

    /// The temp dir Qt key files live in for this object.
    public let temporaryDirectory: String

    /// The OS-level name (`QSharedMemory::nativeKey()`): a key file path for Qt System V keys, a `/name` for
    /// POSIX objects, `0x…` for a System V key and `shmid:N` for an id.
    public let nativeKey: String

    public var isAttached: Bool { mapping != nil }
    /// The segment's size in bytes while attached (Qt: `shm_segsz` or `st_size`, never page-rounded), else 0.
    public var size: Int { mapping?.size ?? 0 }
    public var isReadOnly: Bool { mapping?.readOnly ?? false }
    /// The System V id of the attached segment.
    public var shmid: Int32? { mapping.flatMap { backend.shmid(of: $0) } }

    /// Whether the segment exists now. Looks without attaching, creating or locking anything.
    public func exists() -> Bool { keyProblem == nil && (access.look { backend.exists() } ?? false) }

    /// Whether this object has a lock mechanism at all (a raw System V segment has one only when named).
    public var hasLock: Bool { lockImpl != nil }

    /// The lock object `remove()` removes with the segment (Qt keys only, and only when it exists), read without
    /// taking it; nil when `remove()` leaves every lock alone.
    public var lockRemovedWithSegment: LockState? { followsQt ? lockImpl?.state() : nil }

    private var displayName: String { target.description }

    // MARK: Lifecycle

    /// Creates the segment and attaches to it read-write, as `QSharedMemory::create` does.
    /// The mode applies to the segment (Qt: 0600); key files are 0640.
    public func create(size: Int, mode: mode_t = 0o600) throws(ShmError) {
        try access.run { () throws(ShmError) in try createHere(size: size, mode: mode) }
    }

    private func createHere(size: Int, mode: mode_t) throws(ShmError) {
        guard !isAttached else {
            throw ShmError(
                .alreadyExists, operation: "create", target: displayName, message: "already attached: detach first")
        }
        try validateKey()
        guard size > 0 else {
            throw ShmError(
                .invalidSize, operation: "create", target: displayName,
                message: "size \(size) is invalid: give a size of at least 1 byte")
        }
        try backend.prepareCreate()
        if followsQt {
            // Qt's create makes this object the lock's owner (qt-ipc.md §3). A lock that cannot be made (no
            // semaphore sets left) takes back the key file it made on the way.
            do { try lockImpl?.prepare(create: true) } catch {
                lockImpl?.undoCreation()
                throw error
            }
            ownsLock = true
        }
        let locked = try lifecycleLock()
        defer { if locked { try? lockImpl?.unlock() } }
        do {
            mapping = try backend.create(size: size, permissions: mode & 0o777)
        } catch {
            // A create that failed takes back the lock objects it made, so nothing is left behind. Not when the
            // segment already exists: its lock belongs with it (the attach that usually follows needs it), and this
            // object stays its owner, as in Qt.
            if followsQt && error.kind != .alreadyExists {
                if locked { try? lockImpl?.unlock() }
                lockImpl?.undoCreation()
            }
            throw error
        }
    }

    /// Attaches to an existing segment, as `QSharedMemory::attach` does. `.readOnly` maps without write permission.
    public func attach(_ mode: AccessMode = .readWrite) throws(ShmError) {
        try access.run { () throws(ShmError) in try attachHere(mode) }
    }

    private func attachHere(_ mode: AccessMode) throws(ShmError) {
        guard !isAttached else {
            throw ShmError(
                .alreadyExists, operation: "attach", target: displayName, message: "already attached: detach first")
        }
        try validateKey()
        let readOnly = mode == .readOnly
        do {
            // Qt takes its lock around attach (and creates it). A read-only attach neither creates the lock nor
            // waits for it: a monitor must never stall or leave objects behind because it looked.
            let locked =
                followsQt && !readOnly && (try? lockImpl?.prepare(create: true)) != nil ? try lifecycleLock() : false
            defer { if locked { try? lockImpl?.unlock() } }
            mapping = try backend.attach(readOnly: readOnly)
        } catch {
            // Qt's attach creates the lock's key file and semaphore on the way; when the segment is not there,
            // take back what this attach created, so a mistyped key leaves nothing behind.
            if followsQt && !ownsLock { lockImpl?.undoCreation() }
            throw error
        }
    }

    /// Detaches. For Qt System V keys under `.removeWhenLastOut`, the last process out removes the segment and
    /// its key file, exactly as Qt does; a creator also removes the lock it created (Qt's owner cleanup).
    /// POSIX objects are never unlinked here (Qt never unlinks them on Linux): use `remove()`.
    public func detach() throws(ShmError) {
        try access.run { () throws(ShmError) in try detachHere() }
    }

    private func detachHere() throws(ShmError) {
        guard let mapping else {
            throw ShmError(.notFound, operation: "detach", target: displayName, message: "not attached")
        }
        // Qt locks around detach so that "last one out removes" is decided under the lock; we do so only when the
        // lock exists (detaching must never create one) and only when this detach may remove something: with
        // `.keep` nothing is removed, and waiting for a held lock would only stretch a caller's timeout.
        let lockExists =
            options.detachPolicy == .removeWhenLastOut && followsQt && !mapping.readOnly && lockImpl?.state() != nil
        let locked = lockExists ? ((try? lifecycleLock()) ?? false) : false
        defer { if locked { try? lockImpl?.unlock() } }
        backend.unmap(mapping)
        self.mapping = nil
        guard options.detachPolicy == .removeWhenLastOut else { return }
        if try backend.removeIfUnused(mapping) && ownsLock {
            if locked { try? lockImpl?.unlock() }
            lockImpl?.destroy()
        }
    }

    /// Removes the segment from the system, whoever is attached: for Qt keys also the key files and the lock
    /// semaphore; for POSIX `shm_unlink`. Processes still attached keep their mapping until they detach.
    public func remove() throws(ShmError) {
        try access.run { () throws(ShmError) in try removeHere() }
    }

    private func removeHere() throws(ShmError) {
        try validateKey()
        // Our own mapping stays usable, as every other process's does; a later detach finds no lock object and so
        // takes (and re-creates) none.
        try? lockImpl?.unlock()
        // Look the lock up first: a Qt 6 native key shares its key file with the segment.
        let lockFound = followsQt && lockImpl?.state() != nil
        let found: Bool
        do { found = try backend.remove() } catch where error.kind == .notFound {
            // No segment. Its Qt lock may still be there (a POSIX semaphore outlives its object): remove what there
            // is; with nothing at all, say so below.
            found = false
        }
        if followsQt { lockImpl?.destroy() }
        if !found && !lockFound {
            // A key file alone is left in place: only a segment or semaphore its `ftok` key names makes it ours.
            let leftAlone = followsQt && backend is SystemVBackend && (try? Sys.lstat(nativeKey)) != nil
            throw ShmError(
                .notFound, operation: "remove", target: displayName, errno: ENOENT,
                message: leftAlone
                    ? "nothing to remove: no segment or semaphore matches this key; the file \(nativeKey) was left alone"
                    : followsQt
                        ? "nothing to remove: no key file, segment or semaphore for this key"
                        : "nothing to remove: \(target.notFoundAdvice())")
        }
    }

    // MARK: Data

    /// Copies `count` bytes at `offset` into a new array (a snapshot). Holes of a sparse segment read as zeros
    /// without being faulted in (`ExtentMap`): looking never allocates the segment's memory.
    public func read(offset: Int = 0, count: Int? = nil) throws(ShmError) -> [UInt8] {
        let m = try attachedMapping("read")
        let n = count ?? (m.size - max(0, offset))
        try checkRange(offset: offset, count: n, size: m.size, operation: "read")
        var out = [UInt8](repeating: 0, count: n)
        let ok = out.withUnsafeMutableBytes { m.copySparse(to: $0.baseAddress!, offset: offset, count: n, zeroFilled: true) }
        if n > 0 && !ok { throw truncated(m, operation: "read") }
        return out
    }

    /// Copies bytes at `offset` into `buffer`, filling it entirely; holes read as zeros without being faulted in.
    public func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws(ShmError) {
        let m = try attachedMapping("read")
        try checkRange(offset: offset, count: buffer.count, size: m.size, operation: "read")
        guard buffer.count > 0 else { return }
        if !m.copySparse(to: buffer.baseAddress!, offset: offset, count: buffer.count) {
            throw truncated(m, operation: "read")
        }
    }

    /// Hashes blocks in place (see `ByteReader.hashBlocks`) when every page of the range is known to exist, so the
    /// read can never fault a hole in; otherwise returns false and the caller copies with `read(into:offset:)`.
    public func hashBlocks(
        offset: Int, count: Int, blockSize: Int, into hashes: UnsafeMutableBufferPointer<UInt64>
    ) throws(ShmError) -> Bool {
        let m = try attachedMapping("read")
        try checkRange(offset: offset, count: count, size: m.size, operation: "read")
        guard count > 0, let base = m.base, hashes.count >= (count + blockSize - 1) / blockSize,
            m.extents.isAllData(offset..<(offset + count))
        else { return false }
        if shm_shim_safe_hash_blocks(base + offset, count, blockSize, hashes.baseAddress) != 0 {
            throw truncated(m, operation: "read")
        }
        return true
    }

    /// True when `count` bytes at `offset` are known to be a hole (no pages: zeros), so a scan can skip them.
    public func isHole(offset: Int, count: Int) -> Bool {
        guard let mapping, offset >= 0, count > 0, offset <= mapping.size - count else { return false }
        return mapping.extents.isHole(offset..<(offset + count))
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
    public func currentSize() -> Int? { mapping.flatMap { backend.currentSize(of: $0) } ?? mapping?.size }

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
        let now = backend.currentSize(of: m).map { "now \($0) bytes" } ?? "removed"
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
        return access.look { backend.presence(of: mapping) } ?? .removed
    }

    /// True when the target now names a different segment than the one we have mapped (it was removed and a peer
    /// created it again): a System V key that resolves to another shmid, or a POSIX name with another inode.
    /// A target given as `shmid:N` never reappears.
    public func targetNamesAnotherSegment() -> Bool {
        guard let mapping else { return false }
        return access.look { backend.namesAnotherSegment(than: mapping) } ?? false
    }

    // MARK: Lock

    /// Takes the segment's lock, blocking like `QSharedMemory::lock()`. A second `lock()` while held is a no-op.
    public func lock() throws(ShmError) {
        if let directSemaphore {
            return try directSemaphore._withUnsafeGuaranteedRef { lock in Result { () throws(ShmError) in try lock.lock() } }.get()
        }
        let lock = try requireLock("lock")
        try access.run { () throws(ShmError) in try lock.lock() }
    }

    /// Takes the lock if it becomes free within `timeout`; returns false otherwise. Never blocks longer.
    public func tryLock(timeout: Duration) throws(ShmError) -> Bool {
        let lock = try requireLock("lock")
        return try access.run { () throws(ShmError) in try lock.tryLock(timeout: timeout) }
    }

    /// Releases the lock if this object holds it.
    public func unlock() throws(ShmError) {
        if let directSemaphore {
            return try directSemaphore._withUnsafeGuaranteedRef { lock in Result { () throws(ShmError) in try lock.unlock() } }.get()
        }
        let lock = try requireLock("unlock")
        try access.run { () throws(ShmError) in try lock.unlock() }
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
        let lock = try requireLock("repair")
        return try access.run { () throws(ShmError) in try lock.forceRelease() }
    }

    /// The lock's state (value, last pid, waiters) without taking it; nil when there is no lock or it does not
    /// exist yet.
    public func lockState() -> LockState? { lockImpl.flatMap { lock in access.look { lock.state() } ?? nil } }

    private func requireLock(_ op: String) throws(ShmError) -> any SegmentLock {
        try access.check()
        guard let lockImpl else { throw noLock(op, target.noLockAdvice) }
        if followsQt { try validateKey() }
        return lockImpl
    }

    // MARK: Helpers

    private func noLock(_ op: String, _ message: String) -> ShmError {
        ShmError(.lockError, operation: op, target: displayName, message: message)
    }

    private func validateKey() throws(ShmError) {
        try access.check()
        if let keyProblem { throw keyProblem }
    }

    /// Takes the lock around a lifecycle step, giving up after `lifecycleLockTimeout`.
    private func lifecycleLock() throws(ShmError) -> Bool {
        guard followsQt, let lockImpl, !lockImpl.isHeld else { return false }
        return (try? lockImpl.tryLock(timeout: options.lifecycleLockTimeout)) ?? false
    }
}
