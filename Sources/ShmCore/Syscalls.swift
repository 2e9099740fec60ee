import CShmShims
import Glibc

// One internal function per system call, so each can be found by grep. Each retries EINTR and turns the
// C failure value into a thrown `Errno`; callers add the operation and target when they map it to ShmError.

struct Errno: Error, Equatable {
    var code: Int32
    static var current: Errno { Errno(code: Glibc.errno) }
}

@inline(__always)
func retryingEINTR<T>(_ body: () -> T, failed: (T) -> Bool) throws(Errno) -> T {
    while true {
        let result = body()
        if !failed(result) { return result }
        let err = Glibc.errno
        if err != EINTR { throw Errno(code: err) }
    }
}

enum Sys {
    /// The corresponding C function is `shmget`.
    static func shmget(_ key: key_t, _ size: Int, _ flags: Int32) throws(Errno) -> Int32 {
        try retryingEINTR({ Glibc.shmget(key, size, flags) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `shmat`; its failure value is `(void *)-1`, not NULL.
    static func shmat(_ id: Int32, readOnly: Bool) throws(Errno) -> UnsafeMutableRawPointer {
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        let p = try retryingEINTR(
            { Glibc.shmat(id, nil, readOnly ? Int32(SHM_RDONLY) : 0) }, failed: { $0 == nil || $0 == failed })
        return p!
    }

    /// The corresponding C function is `shmdt`.
    static func shmdt(_ address: UnsafeRawPointer) throws(Errno) {
        _ = try retryingEINTR({ Glibc.shmdt(address) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `shmctl(IPC_STAT)`.
    static func shmStat(_ id: Int32) throws(Errno) -> shmid_ds {
        var ds = shmid_ds()
        _ = try retryingEINTR({ Glibc.shmctl(id, IPC_STAT, &ds) }, failed: { $0 == -1 })
        return ds
    }

    /// The corresponding C function is `shmctl(IPC_RMID)`.
    static func shmRemove(_ id: Int32) throws(Errno) {
        _ = try retryingEINTR({ Glibc.shmctl(id, IPC_RMID, nil) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `semget`.
    static func semget(_ key: key_t, _ count: Int32, _ flags: Int32) throws(Errno) -> Int32 {
        try retryingEINTR({ Glibc.semget(key, count, flags) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `semop`. EINTR is retried, as Qt's EINTR_LOOP does.
    static func semop(_ id: Int32, _ op: Int16, undo: Bool, number: UInt16 = 0) throws(Errno) {
        var buf = sembuf(sem_num: number, sem_op: op, sem_flg: undo ? Int16(SEM_UNDO) : 0)
        _ = try retryingEINTR({ Glibc.semop(id, &buf, 1) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `semtimedop`. Throws EAGAIN when the timeout passes. EINTR is not
    /// retried here: the caller recomputes the remaining time.
    static func semtimedop(_ id: Int32, _ op: Int16, undo: Bool, number: UInt16 = 0, timeout: Duration) throws(Errno) {
        var buf = sembuf(sem_num: number, sem_op: op, sem_flg: undo ? Int16(SEM_UNDO) : 0)
        var ts = timespec(duration: timeout)
        if shm_shim_semtimedop(id, &buf, 1, &ts) == -1 { throw Errno.current }
    }

    /// The corresponding C function is `semctl`.
    static func semctl(_ id: Int32, getValue number: Int32 = 0) throws(Errno) -> Int32 {
        try retryingEINTR({ shm_shim_semctl_getval(id, number) }, failed: { $0 == -1 })
    }

    static func semctl(_ id: Int32, setValue value: Int32, number: Int32 = 0) throws(Errno) {
        _ = try retryingEINTR({ shm_shim_semctl_setval(id, number, value) }, failed: { $0 == -1 })
    }

    static func semctl(_ id: Int32, getPid number: Int32 = 0) throws(Errno) -> Int32 {
        try retryingEINTR({ shm_shim_semctl_getpid(id, number) }, failed: { $0 == -1 })
    }

    static func semctl(_ id: Int32, getWaiters number: Int32 = 0) throws(Errno) -> Int32 {
        try retryingEINTR({ shm_shim_semctl_getncnt(id, number) }, failed: { $0 == -1 })
    }

    static func semStat(_ id: Int32) throws(Errno) -> semid_ds {
        var ds = semid_ds()
        _ = try retryingEINTR({ shm_shim_semctl_stat(id, &ds) }, failed: { $0 == -1 })
        return ds
    }

    static func semRemove(_ id: Int32) throws(Errno) {
        _ = try retryingEINTR({ shm_shim_semctl_rmid(id) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `open`.
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(Errno) -> Int32 {
        try retryingEINTR({ shm_shim_open(path, flags, UInt32(mode)) }, failed: { $0 == -1 })
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// The corresponding C function is `shm_open`.
    static func shmOpen(_ name: String, _ flags: Int32, _ mode: mode_t) throws(Errno) -> Int32 {
        try retryingEINTR({ Glibc.shm_open(name, flags, mode) }, failed: { $0 == -1 })
    }

    static func shmUnlink(_ name: String) throws(Errno) {
        _ = try retryingEINTR({ Glibc.shm_unlink(name) }, failed: { $0 == -1 })
    }

    static func ftruncate(_ fd: Int32, _ size: Int) throws(Errno) {
        _ = try retryingEINTR({ Glibc.ftruncate(fd, off_t(size)) }, failed: { $0 == -1 })
    }

    static func fstat(_ fd: Int32) throws(Errno) -> stat {
        var st = stat()
        _ = try retryingEINTR({ Glibc.fstat(fd, &st) }, failed: { $0 == -1 })
        return st
    }

    static func lstat(_ path: String) throws(Errno) -> stat {
        var st = stat()
        _ = try retryingEINTR({ Glibc.lstat(path, &st) }, failed: { $0 == -1 })
        return st
    }

    /// The corresponding C function is `mmap`; its failure value is `MAP_FAILED`.
    static func mmap(_ fd: Int32, _ size: Int, writable: Bool) throws(Errno) -> UnsafeMutableRawPointer {
        let prot = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        guard let p = Glibc.mmap(nil, size, prot, MAP_SHARED, fd, 0), p != MAP_FAILED else { throw Errno.current }
        return p
    }

    static func munmap(_ p: UnsafeMutableRawPointer, _ size: Int) { _ = Glibc.munmap(p, size) }

    /// The corresponding C function is `ftok`.
    static func ftok(_ path: String, _ id: Int32) throws(Errno) -> key_t {
        let k = Glibc.ftok(path, id)
        if k == -1 { throw Errno.current }
        return k
    }

    static func unlink(_ path: String) { _ = Glibc.unlink(path) }

    /// The corresponding C function is `flock`.
    static func flock(_ fd: Int32, _ op: Int32) throws(Errno) {
        _ = try retryingEINTR({ shm_shim_flock(fd, op) }, failed: { $0 == -1 })
    }
}

extension timespec {
    init(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let clamped = max(0, seconds)
        self.init(tv_sec: Int(clamped), tv_nsec: seconds < 0 ? 0 : Int(attoseconds / 1_000_000_000))
    }
}

/// Monotonic clock in nanoseconds, for deadlines and measured waits.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
