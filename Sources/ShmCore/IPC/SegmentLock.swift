import CShmShims
import Glibc

/// One lock mechanism behind a segment. Implementations never block forever without the caller asking:
/// `lock()` blocks like Qt's, `tryLock(timeout:)` gives up.
protocol SegmentLock: AnyObject {
    var isHeld: Bool { get }
    /// Makes sure the lock object exists (creating it when `create` is true and the mechanism allows).
    func prepare(create: Bool) throws(ShmError)
    func lock() throws(ShmError)
    func tryLock(timeout: Duration) throws(ShmError) -> Bool
    func unlock() throws(ShmError)
    func state() -> LockState?
    /// Removes the lock object from the system (only for `rm` and for Qt's "owner" cleanup).
    func destroy()
    /// Gives a lock stuck at 0 back (one post / value 1) without holding it: the deliberate repair for a holder
    /// that died without undo. Returns false when the lock was not taken.
    func forceRelease() throws(ShmError) -> Bool
    /// Removes exactly what this object created (a key file, a semaphore), e.g. after an attach that failed, so a
    /// mistyped key leaves nothing behind.
    func undoCreation()
}

/// Creates a Qt key file the way Qt's `createUnixKeyFile` does: `O_EXCL|O_CREAT`, mode 0640, empty, closed at once.
/// Returns true when this call created it. Never follows a symlink planted at `path`: an existing entry must be
/// a regular file.
func createQtKeyFile(_ path: String, target: String, files: FileRoot = .host) throws(ShmError) -> Bool {
    // EEXIST means a peer made the file first (Qt: "already exists" is success). If the peer's last detach removed
    // it again before we could look, the race is over: try to create it once more.
    for attempt in 1...3 {
        do {
            let fd = try files.open(path, O_EXCL | O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o640)
            Sys.close(fd)
            return true
        } catch let e {
            if e.code != EEXIST {
                throw ShmError.fromErrno(
                    e.code, operation: "open", target: target, context: "cannot create key file \(path)")
            }
        }
        if attempt < 3, (try? files.lstat(path)) == nil { continue }
        break
    }
    try checkRegularKeyFile(path, target: target, files: files)
    return false
}

/// Refuses key files that are symlinks or not regular files, so a planted link never redirects `ftok`.
func checkRegularKeyFile(_ path: String, target: String, files: FileRoot = .host) throws(ShmError) {
    let st: stat
    do { st = try files.lstat(path) } catch let e {
        throw ShmError.fromErrno(e.code, operation: "lstat", target: target, context: "key file \(path)")
    }
    if (st.st_mode & S_IFMT) != S_IFREG {
        throw ShmError(
            .keyError, operation: "lstat", target: target,
            message: "key file \(path) is not a regular file (a symlink?); refusing to use it: remove it and retry")
    }
}

/// Qt's System V semaphore (qt-ipc.md §3): a set of one, mode 0600, initial value 1, every operation with SEM_UNDO
/// so a crash gives the lock back. Also serves a raw System V set the user names (no key file, never created).
final class SystemVSemaphoreLock: SegmentLock {
    enum Source {
        /// Qt: the key comes from `ftok(keyFile, 'Q')`; the file and set are created on demand.
        case qtKeyFile(String)
        case key(key_t)
        case id(Int32)
    }

    let source: Source
    let target: String
    let number: UInt16
    /// False for Qt's lock found next to a segment opened without its key: the peer's key file is used, never
    /// made (the semaphore is re-created when missing, as Qt does when it locks).
    let createsKeyFile: Bool
    private(set) var semid: Int32 = -1
    private(set) var createdFile = false
    private(set) var createdSemaphore = false
    private(set) var isHeld = false

    /// Where the key file is: our root, or a container's.
    let files: FileRoot

    init(source: Source, target: String, number: UInt16 = 0, createsKeyFile: Bool = true, files: FileRoot = .host) {
        self.source = source
        self.target = target
        self.number = number
        self.createsKeyFile = createsKeyFile
        self.files = files
        if case .id(let id) = source { semid = id }
    }

    var nativeName: String {
        switch source {
        case .qtKeyFile(let path): path
        case .key(let k): "semkey:" + hex32(k)
        case .id(let id): "semid:\(id)"
        }
    }

    func prepare(create: Bool) throws(ShmError) {
        if semid != -1 { return }
        switch source {
        case .id(let id):
            semid = id
        case .key(let key):
            do { semid = try Sys.semget(key, 0, 0) } catch let e {
                throw ShmError.fromErrno(
                    e.code, operation: "semget", target: target, context: "semaphore set " + hex32(key))
            }
        case .qtKeyFile(let path):
            if create && createsKeyFile {
                if try createQtKeyFile(path, target: target, files: files) { createdFile = true }
            } else {
                try checkRegularKeyFile(path, target: target, files: files)
            }
            let key: key_t
            do { key = try files.ftok(path, QtNaming.ftokProjectID) } catch let e {
                throw ShmError.fromErrno(
                    e.code, operation: "ftok", target: target, context: "semaphore key file \(path)")
            }
            if !create {
                do { semid = try Sys.semget(key, 1, 0) } catch let e {
                    throw ShmError.fromErrno(e.code, operation: "semget", target: target, context: "Qt lock semaphore")
                }
                return
            }
            do {
                semid = try Sys.semget(key, 1, 0o600 | IPC_CREAT | IPC_EXCL)
                createdSemaphore = true
                // A new Qt semaphore starts at 1 (a free mutex).
                try? Sys.semctl(semid, setValue: 1, number: Int32(number))
            } catch let e where e.code == EEXIST {
                do { semid = try Sys.semget(key, 1, 0o600 | IPC_CREAT) } catch let e2 {
                    throw ShmError.fromErrno(e2.code, operation: "semget", target: target, context: "Qt lock semaphore")
                }
            } catch let e {
                throw ShmError.fromErrno(e.code, operation: "semget", target: target, context: "Qt lock semaphore")
            }
        }
    }

    /// Qt re-creates the semaphore when it was removed under it (EINVAL/EIDRM); so do we, for Qt key files.
    private func reopenAfterRemoval(_ error: Errno) throws(ShmError) -> Bool {
        guard error.code == EINVAL || error.code == EIDRM, case .qtKeyFile = source else { return false }
        semid = -1
        try prepare(create: true)
        return true
    }

    private func lockError(_ e: Errno, _ op: String) -> ShmError {
        var err = ShmError.fromErrno(e.code, operation: op, target: target, context: "cannot lock")
        if err.kind == .unknown || err.kind == .notFound { err.kind = .lockError }
        return err
    }

    /// The uncontended case is one `semop` and nothing else (inlined into `SharedMemory.lock`); a failure, a
    /// semaphore not made yet or one removed under us goes the careful way.
    @inline(__always) func lock() throws(ShmError) {
        if isHeld { return }
        if semid != -1, (try? Sys.semop(semid, -1, undo: true, number: number)) != nil {
            isHeld = true
            return
        }
        try lockCarefully()
    }

    private func lockCarefully() throws(ShmError) {
        if semid == -1 { try prepare(create: true) }
        for _ in 0..<4 {
            do {
                try Sys.semop(semid, -1, undo: true, number: number)
                isHeld = true
                return
            } catch let e {
                if try !reopenAfterRemoval(e) { throw lockError(e, "semop") }
            }
        }
        throw ShmError(.lockError, operation: "semop", target: target, message: "the lock semaphore keeps disappearing")
    }

    func tryLock(timeout: Duration) throws(ShmError) -> Bool {
        if isHeld { return true }
        try prepare(create: true)
        let deadline = monotonicNanos() + UInt64(max(0, timeout.nanoseconds))
        var retries = 0
        while true {
            let now = monotonicNanos()
            let remaining = deadline > now ? Duration.nanoseconds(Int64(deadline - now)) : .zero
            do {
                try Sys.semtimedop(semid, -1, undo: true, number: number, timeout: remaining)
                isHeld = true
                return true
            } catch let e {
                if e.code == EAGAIN { return false }
                if e.code == EINTR { continue }
                retries += 1
                if retries > 3 { throw lockError(e, "semtimedop") }
                if try !reopenAfterRemoval(e) { throw lockError(e, "semtimedop") }
            }
        }
    }

    @inline(__always) func unlock() throws(ShmError) {
        guard isHeld else { return }
        isHeld = false
        do { try Sys.semop(semid, 1, undo: true, number: number) } catch let e { try unlockFailed(e) }
    }

    private func unlockFailed(_ e: Errno) throws(ShmError) {
        // A removed semaphore has nothing left to release.
        if e.code == EINVAL || e.code == EIDRM { return }
        throw ShmError(.lockError, operation: "semop", target: target, errno: e.code, message: "cannot unlock")
    }

    func state() -> LockState? {
        if semid == -1 { try? prepare(create: false) }
        guard semid != -1, let value = try? Sys.semctl(semid, getValue: Int32(number)) else { return nil }
        let pid = try? Sys.semctl(semid, getPid: Int32(number))
        let waiters = try? Sys.semctl(semid, getWaiters: Int32(number))
        return LockState(
            mechanism: { if case .qtKeyFile = source { return .qtSystemV } else { return .systemVSet } }(),
            value: Int(value), lastPID: pid.flatMap { $0 > 0 ? $0 : nil }, waiters: waiters.map(Int.init),
            heldByUs: isHeld, nativeName: nativeName)
    }

    func undoCreation() {
        if createdSemaphore && semid != -1 { try? Sys.semRemove(semid) }
        if createdFile, case .qtKeyFile(let path) = source { files.unlink(path) }
        if createdSemaphore || createdFile { semid = -1 }
        createdSemaphore = false
        createdFile = false
    }

    func forceRelease() throws(ShmError) -> Bool {
        try prepare(create: false)
        let value: Int32
        do { value = try Sys.semctl(semid, getValue: Int32(number)) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "semctl", target: target, context: "cannot read the lock")
        }
        guard value <= 0 else { return false }
        do { try Sys.semctl(semid, setValue: 1, number: Int32(number)) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "semctl", target: target, context: "cannot reset the lock")
        }
        return true
    }

    func destroy() {
        if semid == -1 { try? prepare(create: false) }
        guard semid != -1 else { return }
        try? Sys.semRemove(semid)
        semid = -1
        // The key file goes only with the semaphore it named (`prepare` checked it is a regular file whose `ftok`
        // key has this semaphore); a key file without one is left alone.
        if case .qtKeyFile(let path) = source, (try? checkRegularKeyFile(path, target: target, files: files)) != nil {
            files.unlink(path)
        }
    }
}

/// A POSIX named semaphore, as Qt POSIX builds use for their lock (qt-ipc.md §4). There is no undo: whatever
/// we take we must give back on every exit path we can catch.
final class PosixSemaphoreLock: SegmentLock {
    let name: String
    let target: String
    /// Where the semaphore's file is: our `/dev/shm`, or a container's.
    let files: FileRoot
    private var sem: UnsafeMutablePointer<sem_t>?
    /// True when `sem` is our own mapping of a container's `sem.NAME` (unmapped, never `sem_close`d).
    private var mappedFile = false
    private(set) var isHeld = false
    private(set) var created = false

    init(name: String, target: String, files: FileRoot = .host) {
        self.name = name
        self.target = target
        self.files = files
    }

    deinit { close() }

    private func close() {
        guard let sem else { return }
        shm_shim_held_sem_remove(sem)
        if mappedFile { Sys.munmap(UnsafeMutableRawPointer(sem), MemoryLayout<sem_t>.size) } else { Sys.semClose(sem) }
        self.sem = nil
    }

    func prepare(create: Bool) throws(ShmError) {
        if sem != nil { return }
        if !files.isHost {
            // A container's semaphore: `sem_open` only knows our /dev/shm, and a glibc semaphore is nothing but a
            // `sem_t` in the file `/dev/shm/sem.NAME`, mapped shared. We use one that exists; creating one safely
            // is glibc's business, inside the container.
            let path = "/dev/shm/sem." + name.dropFirst()
            do throws(Errno) {
                let fd = try files.open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
                defer { Sys.close(fd) }
                guard try Sys.fstat(fd).st_size >= MemoryLayout<sem_t>.size else { throw Errno(code: EINVAL) }
                sem = try Sys.mmap(fd, MemoryLayout<sem_t>.size, writable: true).assumingMemoryBound(to: sem_t.self)
                mappedFile = true
            } catch let e {
                throw ShmError.fromErrno(
                    e.code, operation: "open", target: target, context: "semaphore \(files.display(path))")
            }
            return
        }
        if create, let s = try? Sys.semOpen(name, O_CREAT | O_EXCL, 0o600, value: 1) {
            sem = s
            created = true
            return
        }
        do { sem = try Sys.semOpen(name, 0) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "sem_open", target: target, context: "semaphore \(name)")
        }
    }

    func lock() throws(ShmError) {
        if isHeld { return }
        try prepare(create: true)
        do { try Sys.semWait(sem!) } catch let e {
            throw ShmError(.lockError, operation: "sem_wait", target: target, errno: e.code, message: "cannot lock")
        }
        held()
    }

    /// No undo for POSIX semaphores: while we hold this one, a fatal signal posts it before the process dies
    /// (`shm_shim_held_sem_add`, CShmShims), so a crash cannot hang every Qt 6 peer.
    private func held() {
        isHeld = true
        _ = shm_shim_held_sem_add(sem!)
    }

    func tryLock(timeout: Duration) throws(ShmError) -> Bool {
        if isHeld { return true }
        try prepare(create: true)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = Int64(now.tv_nsec) + max(0, timeout.nanoseconds)
        let deadline = timespec(tv_sec: now.tv_sec + Int(total / 1_000_000_000), tv_nsec: Int(total % 1_000_000_000))
        do { try Sys.semTimedwait(sem!, deadline: deadline) } catch let e {
            if e.code == ETIMEDOUT || e.code == EAGAIN { return false }
            throw ShmError(
                .lockError, operation: "sem_timedwait", target: target, errno: e.code, message: "cannot lock")
        }
        held()
        return true
    }

    func unlock() throws(ShmError) {
        guard isHeld, let sem else { return }
        isHeld = false
        // Out of the registry first: a crash in between leaves the lock taken, never posted twice (a value of 2
        // would let two holders in).
        shm_shim_held_sem_remove(sem)
        do { try Sys.semPost(sem) } catch let e {
            throw ShmError(.lockError, operation: "sem_post", target: target, errno: e.code, message: "cannot unlock")
        }
    }

    func state() -> LockState? {
        if sem == nil { try? prepare(create: false) }
        guard let sem, let value = try? Sys.semGetvalue(sem) else { return nil }
        return LockState(
            mechanism: .posixSemaphore, value: Int(value), lastPID: nil, waiters: nil, heldByUs: isHeld,
            nativeName: name)
    }

    func undoCreation() {
        guard created else { return }
        destroy()
        created = false
    }

    func forceRelease() throws(ShmError) -> Bool {
        try prepare(create: false)
        let value: Int32
        do { value = try Sys.semGetvalue(sem!) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "sem_getvalue", target: target, context: "cannot read the lock")
        }
        guard value <= 0 else { return false }
        do { try Sys.semPost(sem!) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "sem_post", target: target, context: "cannot release the lock")
        }
        return true
    }

    func destroy() {
        close()
        if files.isHost { _ = try? Sys.semUnlink(name) } else { files.unlink("/dev/shm/sem." + name.dropFirst()) }
    }
}

/// An advisory `flock(LOCK_EX)` on the `/dev/shm` file of a plain POSIX segment. POSIX shared memory has no lock
/// of its own; this one keeps out only peers that take the same flock (another shmscope, `flock(1)`).
final class FileLock: SegmentLock {
    let path: String
    let target: String
    private var fd: Int32 = -1
    private(set) var isHeld = false

    /// Where the file is: our root, or a container's.
    let files: FileRoot

    init(path: String, target: String, files: FileRoot = .host) {
        self.path = path
        self.target = target
        self.files = files
    }

    deinit { if fd != -1 { Sys.close(fd) } }

    func prepare(create: Bool) throws(ShmError) {
        if fd != -1 { return }
        do { fd = try files.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "open", target: target, context: "lock file \(path)")
        }
    }

    func lock() throws(ShmError) {
        if isHeld { return }
        try prepare(create: false)
        do { try Sys.flock(fd, LOCK_EX) } catch let e {
            throw ShmError(.lockError, operation: "flock", target: target, errno: e.code, message: "cannot lock")
        }
        isHeld = true
    }

    func tryLock(timeout: Duration) throws(ShmError) -> Bool {
        if isHeld { return true }
        try prepare(create: false)
        let deadline = monotonicNanos() + UInt64(max(0, timeout.nanoseconds))
        while true {
            do {
                try Sys.flock(fd, LOCK_EX | LOCK_NB)
                isHeld = true
                return true
            } catch let e {
                guard e.code == EWOULDBLOCK else {
                    throw ShmError(
                        .lockError, operation: "flock", target: target, errno: e.code, message: "cannot lock")
                }
            }
            if monotonicNanos() >= deadline { return false }
            Sys.usleep(5_000)
        }
    }

    func unlock() throws(ShmError) {
        guard isHeld else { return }
        isHeld = false
        try? Sys.flock(fd, LOCK_UN)
    }

    func state() -> LockState? {
        guard let st = try? files.lstat(path) else { return nil }
        let holder = FileLocks.holder(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        return LockState(
            mechanism: .flock, value: nil, lastPID: holder, waiters: nil, heldByUs: isHeld, nativeName: path)
    }

    func destroy() {}

    func undoCreation() {}

    func forceRelease() throws(ShmError) -> Bool {
        throw ShmError(
            .lockError, operation: "flock", target: target,
            message: "an flock dies with its holder and never gets stuck: nothing to repair")
    }
}

/// Reads `/proc/locks` to find who holds a flock on a file.
enum FileLocks {
    static func holder(device: UInt64, inode: UInt64, locksText: String? = nil) -> Int32? {
        let text = locksText ?? (readTextFile("/proc/locks") ?? "")
        let major = (device >> 8) & 0xfff | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        for line in text.split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 1234 00:1b:5 0 EOF"; blocked waiters have "->" and are skipped.
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, f[1] == "FLOCK", f[2] != "->" else { continue }
            let dev = f[5].split(separator: ":")
            guard dev.count == 3, UInt64(dev[0], radix: 16) == major, UInt64(dev[1], radix: 16) == minor,
                UInt64(dev[2]) == inode
            else { continue }
            return Int32(f[4])
        }
        return nil
    }
}

/// Reads a whole (small, /proc) text file; nil when it cannot be read.
func readTextFile(_ path: String) -> String? {
    guard let bytes = readFileBytes(path) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

func readFileBytes(_ path: String) -> [UInt8]? {
    guard let fd = try? Sys.open(path, O_RDONLY | O_CLOEXEC) else { return nil }
    defer { Sys.close(fd) }
    var out: [UInt8] = []
    // Most files read here are small (/proc comm, status, the key store): a page first. A file that fills it
    // (/proc/sysvipc/shm with 1,000 segments is 180 KiB, a big process's maps) is read 64 KiB at a time.
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n: Int
        do { n = try chunk.withUnsafeMutableBytes { (buffer) throws(Errno) in try Sys.read(fd, into: buffer) } } catch {
            return out.isEmpty ? nil : out
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
        if n == chunk.count && chunk.count < 65_536 { chunk = [UInt8](repeating: 0, count: 65_536) }
    }
    return out
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
