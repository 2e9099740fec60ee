import CShmShims
import Glibc

// One internal function per libc call, so each can be found by grep and made to fail in a test (SyscallSeam.swift).
// Each retries EINTR where that is safe and turns the C failure value into a thrown `Errno`; callers add the
// operation and target when they map it to ShmError.

struct Errno: Error, Equatable {
    var code: Int32
    static var current: Errno { Errno(code: Glibc.errno) }
}

/// Runs one libc call through the seam: asks the task's driver first (which may fail it with an errno), then calls
/// libc and turns its failure value into `Errno`. EINTR is retried unless `retryEINTR` is false, whether it came
/// from the kernel or from a driver, so a test can prove the retry.
@inline(__always)
func syscall<T>(
    _ call: Syscall, _ arguments: @autoclosure () -> [Int] = [], path: String? = nil, retryEINTR: Bool = true,
    _ body: () -> T, failed: (T) -> Bool
) throws(Errno) -> T {
    while true {
        if SyscallSeam.isArmed, let driver = SyscallSeam.current,
            let code = driver.intercept(call, arguments: arguments(), path: path)
        {
            if code == EINTR && retryEINTR { continue }
            throw Errno(code: code)
        }
        let result = body()
        if !failed(result) { return result }
        let err = Glibc.errno
        if err != EINTR || !retryEINTR { throw Errno(code: err) }
    }
}

enum Sys {
    // MARK: System V shared memory

    /// The corresponding C function is `shmget`.
    static func shmget(_ key: key_t, _ size: Int, _ flags: Int32) throws(Errno) -> Int32 {
        try syscall(.shmget, [Int(key), size, Int(flags)], { Glibc.shmget(key, size, flags) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `shmat`; its failure value is `(void *)-1`, not NULL.
    static func shmat(_ id: Int32, readOnly: Bool) throws(Errno) -> UnsafeMutableRawPointer {
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        let flags = readOnly ? Int32(SHM_RDONLY) : 0
        let p = try syscall(
            .shmat, [Int(id), Int(flags)], { Glibc.shmat(id, nil, flags) }, failed: { $0 == nil || $0 == failed })
        return p!
    }

    /// The corresponding C function is `shmdt`.
    static func shmdt(_ address: UnsafeRawPointer) throws(Errno) {
        _ = try syscall(.shmdt, [], { Glibc.shmdt(address) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `shmctl(IPC_STAT)`.
    static func shmStat(_ id: Int32) throws(Errno) -> shmid_ds {
        var ds = shmid_ds()
        _ = try syscall(.shmctl, [Int(id), Int(IPC_STAT)], { Glibc.shmctl(id, IPC_STAT, &ds) }, failed: { $0 == -1 })
        return ds
    }

    /// The corresponding C function is `shmctl(IPC_RMID)`.
    static func shmRemove(_ id: Int32) throws(Errno) {
        _ = try syscall(.shmctl, [Int(id), Int(IPC_RMID)], { Glibc.shmctl(id, IPC_RMID, nil) }, failed: { $0 == -1 })
    }

    // MARK: System V semaphores

    /// The corresponding C function is `semget`.
    static func semget(_ key: key_t, _ count: Int32, _ flags: Int32) throws(Errno) -> Int32 {
        try syscall(
            .semget, [Int(key), Int(count), Int(flags)], { Glibc.semget(key, count, flags) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `semop`. EINTR is retried, as Qt's EINTR_LOOP does.
    static func semop(_ id: Int32, _ op: Int16, undo: Bool, number: UInt16 = 0) throws(Errno) {
        var buf = sembuf(sem_num: number, sem_op: op, sem_flg: undo ? Int16(SEM_UNDO) : 0)
        _ = try syscall(
            .semop, [Int(id), Int(number), Int(op), Int(buf.sem_flg)], { Glibc.semop(id, &buf, 1) },
            failed: { $0 == -1 })
    }

    /// The corresponding C function is `semtimedop`. Throws EAGAIN when the timeout passes. EINTR is not
    /// retried here: the caller recomputes the remaining time. The last argument recorded is the timeout in ns.
    static func semtimedop(_ id: Int32, _ op: Int16, undo: Bool, number: UInt16 = 0, timeout: Duration) throws(Errno) {
        var buf = sembuf(sem_num: number, sem_op: op, sem_flg: undo ? Int16(SEM_UNDO) : 0)
        var ts = timespec(duration: timeout)
        _ = try syscall(
            .semtimedop, [Int(id), Int(number), Int(op), Int(buf.sem_flg), Int(timeout.nanoseconds)], retryEINTR: false,
            { shm_shim_semtimedop(id, &buf, 1, &ts) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `semctl(GETVAL)`.
    static func semctl(_ id: Int32, getValue number: Int32 = 0) throws(Errno) -> Int32 {
        try syscall(
            .semctl, [Int(id), Int(number), Int(GETVAL)], { shm_shim_semctl_getval(id, number) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `semctl(SETVAL)`.
    static func semctl(_ id: Int32, setValue value: Int32, number: Int32 = 0) throws(Errno) {
        _ = try syscall(
            .semctl, [Int(id), Int(number), Int(SETVAL), Int(value)], { shm_shim_semctl_setval(id, number, value) },
            failed: { $0 == -1 })
    }

    /// The corresponding C function is `semctl(GETPID)`.
    static func semctl(_ id: Int32, getPid number: Int32 = 0) throws(Errno) -> Int32 {
        try syscall(
            .semctl, [Int(id), Int(number), Int(GETPID)], { shm_shim_semctl_getpid(id, number) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `semctl(GETNCNT)`.
    static func semctl(_ id: Int32, getWaiters number: Int32 = 0) throws(Errno) -> Int32 {
        try syscall(
            .semctl, [Int(id), Int(number), Int(GETNCNT)], { shm_shim_semctl_getncnt(id, number) }, failed: { $0 == -1 }
        )
    }

    /// The corresponding C function is `semctl(IPC_STAT)`.
    static func semStat(_ id: Int32) throws(Errno) -> semid_ds {
        var ds = semid_ds()
        _ = try syscall(.semctl, [Int(id), 0, Int(IPC_STAT)], { shm_shim_semctl_stat(id, &ds) }, failed: { $0 == -1 })
        return ds
    }

    /// The corresponding C function is `semctl(IPC_RMID)`.
    static func semRemove(_ id: Int32) throws(Errno) {
        _ = try syscall(.semctl, [Int(id), 0, Int(IPC_RMID)], { shm_shim_semctl_rmid(id) }, failed: { $0 == -1 })
    }

    // MARK: POSIX semaphores

    /// The corresponding C function is `sem_open`; its failure value is `SEM_FAILED` (NULL from the shim).
    static func semOpen(_ name: String, _ flags: Int32, _ mode: mode_t = 0, value: UInt32 = 0) throws(Errno)
        -> UnsafeMutablePointer<sem_t>
    {
        let s = try syscall(
            .semOpen, [Int(flags), Int(mode), Int(value)], path: name,
            { shm_shim_sem_open(name, flags, UInt32(mode), value) },
            failed: { $0 == nil })
        return s!
    }

    /// The corresponding C function is `sem_close`.
    static func semClose(_ sem: UnsafeMutablePointer<sem_t>) {
        _ = try? syscall(.semClose, [], retryEINTR: false, { Glibc.sem_close(sem) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `sem_unlink`.
    static func semUnlink(_ name: String) throws(Errno) {
        _ = try syscall(.semUnlink, path: name, { Glibc.sem_unlink(name) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `sem_wait`. EINTR is retried, as Qt's EINTR_LOOP does.
    static func semWait(_ sem: UnsafeMutablePointer<sem_t>) throws(Errno) {
        _ = try syscall(.semWait, [], { Glibc.sem_wait(sem) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `sem_timedwait`; the deadline is absolute (CLOCK_REALTIME), so retrying EINTR
    /// keeps the same deadline. Throws ETIMEDOUT when it passes.
    static func semTimedwait(_ sem: UnsafeMutablePointer<sem_t>, deadline: timespec) throws(Errno) {
        var abs = deadline
        _ = try syscall(
            .semTimedwait, [abs.tv_sec, abs.tv_nsec], { Glibc.sem_timedwait(sem, &abs) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `sem_post`.
    static func semPost(_ sem: UnsafeMutablePointer<sem_t>) throws(Errno) {
        _ = try syscall(.semPost, [], { Glibc.sem_post(sem) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `sem_getvalue`.
    static func semGetvalue(_ sem: UnsafeMutablePointer<sem_t>) throws(Errno) -> Int32 {
        var value: Int32 = 0
        _ = try syscall(.semGetvalue, [], { Glibc.sem_getvalue(sem, &value) }, failed: { $0 == -1 })
        return value
    }

    // MARK: POSIX shared memory and mappings

    /// The corresponding C function is `shm_open`.
    static func shmOpen(_ name: String, _ flags: Int32, _ mode: mode_t) throws(Errno) -> Int32 {
        try syscall(
            .shmOpen, [Int(flags), Int(mode)], path: name, { Glibc.shm_open(name, flags, mode) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `shm_unlink`.
    static func shmUnlink(_ name: String) throws(Errno) {
        _ = try syscall(.shmUnlink, path: name, { Glibc.shm_unlink(name) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `ftruncate`.
    static func ftruncate(_ fd: Int32, _ size: Int) throws(Errno) {
        _ = try syscall(.ftruncate, [Int(fd), size], { Glibc.ftruncate(fd, off_t(size)) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `mmap`; its failure value is `MAP_FAILED`.
    static func mmap(_ fd: Int32, _ size: Int, writable: Bool) throws(Errno) -> UnsafeMutableRawPointer {
        let prot = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        let p = try syscall(
            .mmap, [Int(fd), size, Int(prot)], retryEINTR: false, { Glibc.mmap(nil, size, prot, MAP_SHARED, fd, 0) },
            failed: { $0 == nil || $0 == MAP_FAILED })
        return p!
    }

    /// The corresponding C function is `munmap`.
    static func munmap(_ p: UnsafeMutableRawPointer, _ size: Int) {
        _ = try? syscall(.munmap, [size], retryEINTR: false, { Glibc.munmap(p, size) }, failed: { $0 == -1 })
    }

    // MARK: Files

    /// The corresponding C function is `open`.
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(Errno) -> Int32 {
        try syscall(
            .open, [Int(flags), Int(mode)], path: path, { shm_shim_open(path, flags, UInt32(mode)) },
            failed: { $0 == -1 })
    }

    /// The corresponding C function is `close`. Never retried: on Linux the descriptor is gone even after EINTR.
    static func close(_ fd: Int32) {
        _ = try? syscall(.close, [Int(fd)], retryEINTR: false, { Glibc.close(fd) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `read`.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try syscall(
            .read, [Int(fd), buffer.count], { Glibc.read(fd, buffer.baseAddress, buffer.count) }, failed: { $0 < 0 })
    }

    /// The corresponding C function is `write`.
    static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try syscall(
            .write, [Int(fd), buffer.count], { Glibc.write(fd, buffer.baseAddress, buffer.count) }, failed: { $0 < 0 })
    }

    /// `write` until all of `bytes` is written (a write may take only part of them).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Errno) {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { all in
                Result { () throws(Errno) in try write(fd, UnsafeRawBufferPointer(rebasing: all[done...])) }
            }
            done += try written.get()
        }
    }

    /// The corresponding C function is `lseek`. With `SEEK_DATA`/`SEEK_HOLE` it finds where a shmem file has
    /// pages without touching them (ENXIO: no data at or after `offset`).
    /// The corresponding C function is `mincore`: one byte per page of `[address, address + length)`, bit 0 set
    /// when the page is resident. `address` must be page-aligned.
    static func mincore(_ address: UnsafeMutableRawPointer, _ length: Int, _ vector: UnsafeMutablePointer<UInt8>)
        throws(Errno)
    {
        _ = try syscall(
            .mincore, [Int(bitPattern: address), length], { Glibc.mincore(address, length, vector) },
            failed: { $0 == -1 })
    }

    static func lseek(_ fd: Int32, _ offset: Int, _ whence: Int32) throws(Errno) -> Int {
        Int(
            try syscall(
                .lseek, [Int(fd), offset, Int(whence)], { Glibc.lseek(fd, off_t(offset), whence) },
                failed: { $0 == -1 }))
    }

    /// The corresponding C function is `fstat`.
    static func fstat(_ fd: Int32) throws(Errno) -> Glibc.stat {
        var st = Glibc.stat()
        _ = try syscall(.fstat, [Int(fd)], { Glibc.fstat(fd, &st) }, failed: { $0 == -1 })
        return st
    }

    /// The corresponding C function is `lstat`.
    static func lstat(_ path: String) throws(Errno) -> Glibc.stat {
        var st = Glibc.stat()
        _ = try syscall(.lstat, path: path, { Glibc.lstat(path, &st) }, failed: { $0 == -1 })
        return st
    }

    /// The corresponding C function is `stat`.
    static func stat(_ path: String) throws(Errno) -> Glibc.stat {
        var st = Glibc.stat()
        _ = try syscall(.stat, path: path, { callStat(path, &st) }, failed: { $0 == -1 })
        return st
    }

    /// The corresponding C function is `access`.
    static func access(_ path: String, _ mode: Int32) throws(Errno) {
        _ = try syscall(.access, [Int(mode)], path: path, { Glibc.access(path, mode) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `mkdir`.
    static func mkdir(_ path: String, _ mode: mode_t) throws(Errno) {
        _ = try syscall(.mkdir, [Int(mode)], path: path, { Glibc.mkdir(path, mode) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `unlink`. Failures are ignored: every caller removes what may be gone.
    static func unlink(_ path: String) {
        _ = try? syscall(.unlink, path: path, { Glibc.unlink(path) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `rename`: replaces `to` atomically (a symlink at `to` is replaced, never
    /// followed).
    static func rename(_ from: String, _ to: String) throws(Errno) {
        _ = try syscall(.rename, path: to, { Glibc.rename(from, to) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `renameat2` with `RENAME_NOREPLACE`: fails with EEXIST when anything (a
    /// file, a symlink) is at `to`, atomically.
    static func renameNoReplace(_ from: String, _ to: String) throws(Errno) {
        _ = try syscall(.renameNoReplace, path: to, { shm_shim_rename_noreplace(from, to) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `fsync`.
    static func fsync(_ fd: Int32) throws(Errno) {
        _ = try syscall(.fsync, [Int(fd)], { Glibc.fsync(fd) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `realpath`.
    static func realpath(_ path: String) throws(Errno) -> String {
        let resolved = try syscall(
            .realpath, path: path, retryEINTR: false, { Glibc.realpath(path, nil) }, failed: { $0 == nil })
        defer { free(resolved) }
        return String(cString: resolved!)
    }

    /// The names in a directory, without `.` and `..`, in directory order. The corresponding C functions are
    /// `opendir`, `readdir` and `closedir`.
    static func directoryEntries(_ path: String) throws(Errno) -> [String] {
        let dir = try syscall(.opendir, path: path, { Glibc.opendir(path) }, failed: { $0 == nil })!
        defer { closedir(dir) }
        return names(in: dir)
    }

    /// The names `readdir` gives for an open directory, without `.` and `..`. Each name is read in place, up to its
    /// NUL: glibc sizes each record to its name (d_reclen), so the last one in readdir's buffer can end before a
    /// whole `d_name[256]`, and copying `entry.pointee.d_name` read past the buffer (found by AddressSanitizer,
    /// scripts/asan.sh).
    private static func names(in dir: OpaquePointer) -> [String] {
        var names: [String] = []
        let nameOffset = MemoryLayout<dirent>.offset(of: \.d_name)!
        while let entry = readdir(dir) {
            let name = String(
                cString: UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The corresponding system call is `openat2` with `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS`: `path` (absolute
    /// or not) is resolved inside the directory `root` as if it were `/`, so no symlink (absolute or `..`) leads out
    /// of it, and `/proc` magic links are refused.
    static func openInRoot(_ root: Int32, _ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(Errno) -> Int32 {
        let resolve = shm_shim_resolve_in_root() | shm_shim_resolve_no_magiclinks()
        // openat2 refuses a mode without O_CREAT (EINVAL), where open ignores it.
        let mode = flags & O_CREAT != 0 ? UInt32(mode) : 0
        return try syscall(
            .openat2, [Int(flags), Int(mode)], path: path,
            { shm_shim_openat2(root, path, flags | O_CLOEXEC, mode, resolve) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `unlinkat` (a name in the directory `directory`, never a path).
    static func unlinkat(_ directory: Int32, _ name: String) throws(Errno) {
        _ = try syscall(.unlinkat, path: name, { Glibc.unlinkat(directory, name, 0) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `setns(fd, CLONE_NEWIPC)`: the calling thread enters the IPC namespace.
    static func setnsIPC(_ fd: Int32) throws(Errno) {
        _ = try syscall(.setns, [Int(fd)], { shm_shim_setns_ipc(fd) }, failed: { $0 == -1 })
    }

    /// The names in the directory open as `fd` (which this call consumes), without `.` and `..`. The corresponding
    /// C functions are `fdopendir`, `readdir` and `closedir`.
    static func directoryEntries(descriptor fd: Int32) throws(Errno) -> [String] {
        guard let dir = Glibc.fdopendir(fd) else {
            let e = Errno.current
            Glibc.close(fd)
            throw e
        }
        defer { closedir(dir) }
        return names(in: dir)
    }

    /// The corresponding C function is `ftok`.
    static func ftok(_ path: String, _ id: Int32) throws(Errno) -> key_t {
        try syscall(.ftok, [Int(id)], path: path, retryEINTR: false, { Glibc.ftok(path, id) }, failed: { $0 == -1 })
    }

    /// The corresponding C function is `flock`.
    static func flock(_ fd: Int32, _ op: Int32) throws(Errno) {
        _ = try syscall(.flock, [Int(fd), Int(op)], { shm_shim_flock(fd, op) }, failed: { $0 == -1 })
    }

    // MARK: Processes and users

    /// The corresponding C function is `kill`.
    static func kill(_ pid: Int32, _ signal: Int32) throws(Errno) {
        _ = try syscall(.kill, [Int(pid), Int(signal)], { Glibc.kill(pid, signal) }, failed: { $0 == -1 })
    }

    /// The user's login name. The corresponding C function is `getpwuid`.
    static func userName(_ uid: uid_t) throws(Errno) -> String {
        let pw = try syscall(.getpwuid, [Int(uid)], retryEINTR: false, { Glibc.getpwuid(uid) }, failed: { $0 == nil })
        guard let name = pw!.pointee.pw_name else { throw Errno(code: ENOENT) }
        return String(cString: name)
    }

    /// The corresponding C function is `getuid`; it cannot fail.
    static func getuid() -> uid_t { Glibc.getuid() }

    /// Sleeps a little between polls. The corresponding C function is `usleep`.
    static func usleep(_ microseconds: UInt32) { _ = Glibc.usleep(microseconds) }
}

/// `stat` the function, which Swift cannot name inside `Sys` (where `stat` is `Sys.stat`) nor as `Glibc.stat`
/// (the struct).
private func callStat(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }

extension timespec {
    init(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let clamped = max(0, seconds)
        self.init(tv_sec: Int(clamped), tv_nsec: seconds < 0 ? 0 : Int(attoseconds / 1_000_000_000))
    }
}

/// Monotonic clock in nanoseconds, for deadlines and measured waits. (clock_gettime is a vDSO read that cannot fail
/// for CLOCK_MONOTONIC; it does not go through the seam.)
@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
