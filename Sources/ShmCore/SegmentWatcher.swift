/// Something `SegmentWatcher` saw.
public enum WatchEvent: Equatable, Sendable {
    case change(ByteChange)
    /// The segment was removed (System V IPC_RMID / SHM_DEST, POSIX unlink). We keep watching our mapping, which
    /// stays valid while we are attached, and look for the target to be created again.
    case removed
    /// A POSIX segment was resized by a peer; we mapped it again at the new size.
    case resized(from: Int, to: Int)
    /// The target names a new segment now (a peer created it again); watching it from a fresh baseline.
    case reattached(size: Int)
    /// Re-attaching failed; the watcher tries again at the next poll.
    case detached(reason: String)
}

/// Bytes whose segment can go away, change size or be created again under the same name: what a watcher follows.
/// The real one is `SegmentFollower`; the TUI's in-memory source stands in for it in tests.
public protocol FollowedSegment: ByteReader {
    /// Looks at the segment and follows it (maps it again after a resize, attaches to a re-created one); returns
    /// what happened since the last call, oldest first. Called once per refresh, before reading.
    func followPresence() -> [WatchEvent]
}

/// An attached `SharedMemory` followed through removal, resizing and re-creation: the one place that logic lives,
/// used by `watch --log` and by the hex view alike.
///
/// Each call checks our own mapping (IPC_STAT on our shmid, fstat on our descriptor) before anything reads, so a
/// truncation is usually seen before a read could fault; a read that faults anyway (the race) fails and the next
/// call sees the new size. A removed segment is kept (our mapping stays valid) until the target names a new one.
public final class SegmentFollower: FollowedSegment {
    public let memory: SharedMemory
    /// How we attach again: the mode of the first attach, so a read-only look never becomes a read-write one
    /// behind the user's back. Only `attachAgain(_:)` changes it (the hex view's edit mode and `L`).
    public private(set) var mode: SharedMemory.AccessMode
    private var removedReported = false
    private var detachedReported = false

    /// `memory` should be attached in `mode`; if it is not, the first `followPresence` attaches it.
    public init(memory: SharedMemory, mode: SharedMemory.AccessMode) {
        self.memory = memory
        self.mode = mode
    }

    public var byteCount: Int { memory.size }

    public func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws {
        try memory.read(into: buffer, offset: offset)
    }

    public func isHole(offset: Int, count: Int) -> Bool { memory.isHole(offset: offset, count: count) }

    public func hashBlocks(
        offset: Int, count: Int, blockSize: Int, into hashes: UnsafeMutableBufferPointer<UInt64>
    ) throws -> Bool {
        try memory.hashBlocks(offset: offset, count: count, blockSize: blockSize, into: hashes)
    }

    /// Detaches and attaches again in `mode` (read-only → read-write when the user chooses to edit or lock), and
    /// follows the segment in that mode from then on. A read-write attach takes Qt's lifecycle lock (and creates
    /// it) as Qt does, which is why a view attaches read-only first and only asks for this when it must.
    /// If the new attach fails, the old mode is attached again and the error is thrown.
    public func attachAgain(_ newMode: SharedMemory.AccessMode) throws(ShmError) {
        if memory.isAttached { try memory.detach() }
        do { try memory.attach(newMode) } catch {
            try? memory.attach(mode)
            throw error
        }
        mode = newMode
    }

    public func followPresence() -> [WatchEvent] {
        var events: [WatchEvent] = []
        if !memory.isAttached {
            reattach(into: &events)
            return events
        }
        switch memory.presence() {
        case .present:
            break
        case .removed:
            if !removedReported {
                events.append(.removed)
                removedReported = true
            }
            if memory.targetNamesAnotherSegment() {
                try? memory.detach()
                reattach(into: &events)
            }
        case .resized(let newSize):
            let old = memory.size
            try? memory.detach()
            do { try memory.attach(mode) } catch {
                events.append(.detached(reason: error.message))
                detachedReported = true
                return events
            }
            events.append(.resized(from: old, to: newSize))
        }
        return events
    }

    private func reattach(into events: inout [WatchEvent]) {
        do { try memory.attach(mode) } catch {
            if !detachedReported { events.append(.detached(reason: error.message)) }
            detachedReported = true
            return
        }
        detachedReported = false
        removedReported = false
        events.append(.reattached(size: memory.size))
    }
}

/// The change-following engine of both the hex view and `watch --log`: follows the segment (presence, resize,
/// re-creation) and scans it for changed bytes with a `ChangeTracker`, whose blocks follow the segment's size.
/// The log polls whole passes; the hex view spreads a pass over its loop turns with `scanStep`.
public final class SegmentWatcher {
    /// How big the tracker's blocks are for a watched length.
    public enum BlockSizing: Sendable {
        case fixed(Int)
        /// Smaller blocks for small segments, so an activity map still has detail (see `activityBlockSize`).
        case scaled
    }

    public let segment: any FollowedSegment
    public private(set) var tracker: ChangeTracker
    /// The watched range as asked: first byte, and length (nil: to the end, following resizes).
    public let rangeOffset: Int
    public let rangeLength: Int?
    private let sizing: BlockSizing
    private let cacheBudget: Int
    private let byteCountLimit: Int

    /// `byteCountLimit` 0 keeps no per-byte counts (the log does not show them, and they would grow with a busy
    /// segment); the hex view's inspector keeps a bounded number.
    public init(
        segment: any FollowedSegment, rangeOffset: Int = 0, rangeLength: Int? = nil,
        blockSizing: BlockSizing = .fixed(4096),
        cacheBudget: Int = 32 << 20, byteCountLimit: Int = 0
    ) {
        self.segment = segment
        self.rangeOffset = rangeOffset
        self.rangeLength = rangeLength
        self.sizing = blockSizing
        self.cacheBudget = cacheBudget
        self.byteCountLimit = byteCountLimit
        let length = Self.watchedLength(size: segment.byteCount, offset: rangeOffset, length: rangeLength)
        tracker = ChangeTracker(
            start: rangeOffset, length: length, blockSize: Self.blockSize(sizing, length: length),
            cacheBudget: cacheBudget, byteCountLimit: byteCountLimit)
    }

    /// A read-only watcher of an attached segment (what `watch --log` uses).
    public convenience init(
        memory: SharedMemory, rangeOffset: Int = 0, rangeLength: Int? = nil, blockSize: Int = 4096,
        cacheBudget: Int = 32 << 20
    ) {
        self.init(
            segment: SegmentFollower(memory: memory, mode: .readOnly), rangeOffset: rangeOffset,
            rangeLength: rangeLength, blockSizing: .fixed(blockSize), cacheBudget: cacheBudget)
    }

    static func watchedLength(size: Int, offset: Int, length: Int?) -> Int {
        max(0, min(length ?? Int.max, size - offset))
    }

    static func blockSize(_ sizing: BlockSizing, length: Int) -> Int {
        switch sizing {
        case .fixed(let size): size
        case .scaled: activityBlockSize(for: length)
        }
    }

    /// Follows the segment and keeps the tracker in step: a resize keeps the blocks that still exist whole (unless
    /// the new size calls for other blocks); a new segment starts from a fresh baseline.
    public func followPresence() -> [WatchEvent] {
        let events = segment.followPresence()
        for event in events {
            switch event {
            case .resized, .reattached:
                let length = Self.watchedLength(size: segment.byteCount, offset: rangeOffset, length: rangeLength)
                let blockSize = Self.blockSize(sizing, length: length)
                if case .resized = event, blockSize == tracker.blockSize {
                    tracker.resize(length: length)
                } else if blockSize == tracker.blockSize {
                    tracker.reset(length: length)
                } else {
                    tracker = ChangeTracker(
                        start: rangeOffset, length: length, blockSize: blockSize, cacheBudget: cacheBudget,
                        byteCountLimit: byteCountLimit)
                }
            default:
                break
            }
        }
        return events
    }

    /// One round: presence, then a whole scan. The first poll only records the baseline.
    public func poll(now: Double) -> [WatchEvent] {
        var events: [WatchEvent] = []
        poll(now: now) { events.append($0) }
        return events
    }

    /// The same, handing over each event as soon as it is known, so a scan of a segment that changed everywhere
    /// never holds more than a chunk's worth of changes.
    public func poll(now: Double, emit: (WatchEvent) -> Void) {
        followPresence().forEach(emit)
        try? tracker.scan(segment, now: now) { emit(.change($0)) }
    }

    /// Scans on for about `maxBytes` (at least one chunk); returns whether the pass is complete. Throws when the
    /// segment shrank under us or went away (the next `followPresence` sees why).
    public func scanStep(now: Double, maxBytes: Int, emit: (ByteChange) -> Void) throws -> Bool {
        try tracker.scanStep(segment, now: now, maxBytes: maxBytes, emit: emit)
    }

    /// A whole pass at once (the hex view's baseline).
    public func scanPass(now: Double) {
        try? tracker.scan(segment, now: now) { _ in }
    }
}

/// The activity map's block size: 4 KiB for big segments, smaller for small ones so the map still has detail (a
/// 4 KiB Qt segment gets 16-byte blocks, one per hex row); about 512 blocks until 4 KiB is reached. A power of two,
/// so it divides the tracker's 64 KiB chunk.
public func activityBlockSize(for size: Int) -> Int {
    var block = 16
    while block < 4096 && block * 512 < size { block *= 2 }
    return block
}
