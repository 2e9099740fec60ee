import Glibc
import ShmCore

/// Who has the segment's lock, as the status line shows it.
package enum LockStatus: Equatable, Sendable {
    /// The target has no lock object shmscope knows how to take (e.g. a raw System V segment).
    case none
    case unlocked
    case lockedByUs
    /// Held by another process; `waiters` processes are blocked waiting for it (System V GETNCNT).
    case heldBy(pid: Int32?, command: String?, waiters: Int = 0)

    /// "held by pid 1234 (qtpeer)", "held by another process" when the pid is unknown.
    package var holderText: String {
        guard case .heldBy(let pid, let command, _) = self else { return "" }
        guard let pid else { return "another process" }
        return command.map { "pid \(pid) (\($0))" } ?? "pid \(pid)"
    }

    package var text: String {
        switch self {
        case .none: "no lock"
        case .unlocked: "unlocked"
        case .lockedByUs: "locked by us"
        case .heldBy(_, _, let waiters): "held by " + holderText + (waiters > 0 ? ", \(waiters) waiting" : "")
        }
    }
}

/// What the live view reads, writes and locks. The real implementation wraps `ShmCore.SharedMemory`; the
/// in-memory one lets every TUI behaviour be tested without IPC.
package protocol LiveSource: FollowedSegment {
    /// The target as the user would type it.
    var targetName: String { get }
    /// "Qt SysV", "POSIX", "SysV".
    var kindName: String { get }
    var size: Int { get }
    /// The view may never write (`open --read-only`, `watch`): edit mode and `L` are refused.
    var isReadOnly: Bool { get }
    /// Attached read-write now. A view attaches read-only first and asks for `attachReadWrite()` only when the
    /// user enters edit mode or locks.
    var isAttachedReadWrite: Bool { get }
    /// Re-attaches read-write (taking Qt's lifecycle lock then, as Qt's attach does). Throws when the source is
    /// read-only or the attach fails; the read-only attach is kept then.
    func attachReadWrite() throws
    /// The lock a commit takes, "mechanism name" (`qt-sysv-semaphore /tmp/qipc_systemsem_…`), nil without one.
    func lockDescription() -> String?
    func read(offset: Int, count: Int) throws -> [UInt8]
    func write(_ bytes: [UInt8], at offset: Int) throws
    /// Takes the lock if it is free within `timeout`; never blocks longer.
    func tryLock(timeout: Duration) throws -> Bool
    func unlock() throws
    func lockStatus() -> LockStatus
    /// Releases the lock if held and detaches; called on every exit path.
    func close()
}

/// A live source is read by the change-following engine (`SegmentWatcher`) like any segment.
extension LiveSource {
    package var byteCount: Int { size }

    package func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws {
        let bytes = try read(offset: offset, count: buffer.count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
}

/// In-memory bytes with a fake lock another "process" can hold (`holderPID`), for tests and demos.
package final class MemorySource: LiveSource {
    package var bytes: [UInt8]
    package var targetName: String
    package var kindName: String
    package var isReadOnly: Bool
    package var hasLock: Bool
    /// Whether the source is attached read-write; `attachReadWrite()` sets it, writes need it.
    package private(set) var isAttachedReadWrite: Bool
    /// How often `attachReadWrite()` was asked (tests check that looking never re-attaches).
    package private(set) var readWriteAttaches = 0
    /// Set to make the next `attachReadWrite()` fail.
    package var attachFailure: String?
    /// Set to simulate a peer holding the lock; nil when free.
    package var holderPID: Int32?
    package var holderCommand: String?
    /// Processes waiting for the lock the simulated peer holds.
    package var waiters = 0
    package private(set) var lockedByUs = false
    package private(set) var writes: [(offset: Int, bytes: [UInt8])] = []
    package private(set) var lockAttempts = 0
    package private(set) var closed = false
    /// The next answer of `followPresence`, set by tests to simulate a peer removing or resizing the segment.
    package var pendingEvent: WatchEvent?

    package init(
        bytes: [UInt8], targetName: String = "qt:demo", kindName: String = "Qt SysV", readOnly: Bool = false,
        hasLock: Bool = true, attachedReadWrite: Bool = false
    ) {
        self.bytes = bytes
        self.targetName = targetName
        self.kindName = kindName
        self.isReadOnly = readOnly
        self.hasLock = hasLock
        self.isAttachedReadWrite = attachedReadWrite && !readOnly
    }

    package func attachReadWrite() throws {
        guard !isReadOnly else { throw SourceError("attached read-only") }
        if let attachFailure { throw SourceError(attachFailure) }
        readWriteAttaches += 1
        isAttachedReadWrite = true
    }

    /// A stand-in for the lock's mechanism and name, as the commit dialog shows them.
    package func lockDescription() -> String? { hasLock ? "fake-semaphore \(targetName)" : nil }

    package var size: Int { bytes.count }

    package func read(offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset + count <= bytes.count else { throw SourceError("read out of range") }
        return Array(bytes[offset..<(offset + count)])
    }

    package func write(_ data: [UInt8], at offset: Int) throws {
        guard isAttachedReadWrite else { throw SourceError("attached read-only") }
        guard offset >= 0, offset + data.count <= bytes.count else { throw SourceError("write out of range") }
        bytes.replaceSubrange(offset..<(offset + data.count), with: data)
        writes.append((offset, data))
    }

    package func tryLock(timeout: Duration) throws -> Bool {
        guard hasLock else { throw SourceError("no lock") }
        lockAttempts += 1
        if lockedByUs { return true }
        if holderPID != nil { return false }
        lockedByUs = true
        return true
    }

    package func unlock() throws { lockedByUs = false }

    package func lockStatus() -> LockStatus {
        if !hasLock { return .none }
        if lockedByUs { return .lockedByUs }
        if let holderPID { return .heldBy(pid: holderPID, command: holderCommand, waiters: waiters) }
        return .unlocked
    }

    package func close() {
        lockedByUs = false
        closed = true
    }

    package func followPresence() -> [WatchEvent] {
        defer { pendingEvent = nil }
        return pendingEvent.map { [$0] } ?? []
    }
}

package struct SourceError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// A real segment. Detaching never removes it (`detachPolicy: .keep`): a monitor must not delete a segment just
/// because it was the last one attached.
package final class SharedMemorySource: LiveSource {
    package let memory: SharedMemory

    /// How a view attaches.
    package enum Access: Sendable {
        /// Never writes (`open --read-only`, `watch`).
        case readOnly
        /// Attached read-only until the user edits or locks (`open`, the browser's Enter, `demo`).
        case viewFirst
        /// Attached read-write from the start (tests).
        case readWrite
    }

    /// The user's choice: read-only forever, or read-only until edit mode. (`memory.isReadOnly` is false while
    /// detached, so the follower's mode says how we are attached.)
    private let access: Access
    private let follower: SegmentFollower

    /// The resolved target names Qt's temp dir or a raw System V segment's semaphore; detaching never removes.
    package convenience init(resolved: ResolvedTarget, access: Access) throws(ShmError) {
        try self.init(memory: resolved.memory(detachPolicy: .keep), access: access)
    }

    package convenience init(resolved: ResolvedTarget, readOnly: Bool) throws(ShmError) {
        try self.init(resolved: resolved, access: readOnly ? .readOnly : .readWrite)
    }

    /// A target with no options (tests).
    package convenience init(target: SegmentTarget, readOnly: Bool) throws(ShmError) {
        try self.init(resolved: ResolvedTarget(target: target), readOnly: readOnly)
    }

    package convenience init(target: SegmentTarget, access: Access) throws(ShmError) {
        try self.init(resolved: ResolvedTarget(target: target), access: access)
    }

    private init(memory: SharedMemory, access: Access) throws(ShmError) {
        self.memory = memory
        self.access = access
        // Looking takes no lock and creates nothing: only a read-write attach takes Qt's lifecycle lock.
        let mode: SharedMemory.AccessMode = access == .readWrite ? .readWrite : .readOnly
        follower = SegmentFollower(memory: memory, mode: mode)
        try memory.attach(mode)
    }

    package var isAttachedReadWrite: Bool { follower.mode == .readWrite && memory.isAttached }

    package func attachReadWrite() throws {
        guard access != .readOnly else { throw SourceError("attached read-only: open without --read-only to edit") }
        guard follower.mode != .readWrite else { return }
        try follower.attachAgain(.readWrite)
    }

    package func lockDescription() -> String? {
        guard memory.hasLock else { return nil }
        guard let state = memory.lockState() else { return "lock (not created yet)" }
        // An flock says it is advisory: only cooperating tools wait for it.
        return "\(state.mechanism.displayName) \(state.nativeName)"
    }

    package var targetName: String { memory.target.description }

    package var kindName: String { memory.target.kindName }

    package var size: Int { memory.size }
    package var isReadOnly: Bool { access == .readOnly }

    package func read(offset: Int, count: Int) throws -> [UInt8] { try memory.read(offset: offset, count: count) }
    package func isHole(offset: Int, count: Int) -> Bool { memory.isHole(offset: offset, count: count) }

    package func hashBlocks(
        offset: Int, count: Int, blockSize: Int, into hashes: UnsafeMutableBufferPointer<UInt64>
    ) throws -> Bool {
        try memory.hashBlocks(offset: offset, count: count, blockSize: blockSize, into: hashes)
    }
    package func write(_ bytes: [UInt8], at offset: Int) throws { try memory.write(bytes, at: offset) }
    package func tryLock(timeout: Duration) throws -> Bool { try memory.tryLock(timeout: timeout) }
    package func unlock() throws { try memory.unlock() }

    package func lockStatus() -> LockStatus {
        guard memory.hasLock else { return .none }
        if memory.isLockedByUs { return .lockedByUs }
        // No lock object yet means nobody has ever locked it: free.
        guard let state = memory.lockState(), state.isHeld else { return .unlocked }
        return .heldBy(
            pid: state.lastPID, command: state.lastPID.flatMap(processCommand), waiters: state.waiters ?? 0)
    }

    package func close() {
        if memory.isLockedByUs { try? memory.unlock() }
        try? memory.detach()
    }

    /// Removal, resizing and re-creation are followed by the one engine `watch --log` uses too.
    package func followPresence() -> [WatchEvent] { follower.followPresence() }
}

/// A process's command name from /proc/PID/comm, for "held by pid 1234 (qtpeer)".
package func processCommand(_ pid: Int32) -> String? {
    let fd = open("/proc/\(pid)/comm", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { Glibc.close(fd) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { return nil }
    let text = String(decoding: buffer[0..<n], as: UTF8.self)
    return text.hasSuffix("\n") ? String(text.dropLast()) : text
}
