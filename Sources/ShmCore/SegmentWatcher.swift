/// Something `SegmentWatcher.poll` saw.
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

/// Watches one attached segment (read-only) for changes, removal and resizing, and follows it when it is created
/// again under the same name. Each `poll` checks our own mapping (IPC_STAT on our shmid, fstat on our descriptor)
/// before scanning, so a truncation is usually seen before a read could fault; a read that faults anyway (the race)
/// is skipped and the next poll sees the new size.
public final class SegmentWatcher {
    public let memory: SharedMemory
    public let tracker: ChangeTracker
    /// The watched range as asked: first byte, and length (nil: to the end, following resizes).
    public let rangeOffset: Int
    public let rangeLength: Int?
    private var removedReported = false
    private var detachedReported = false

    /// `memory` must be attached (read-only is what `watch` uses).
    public init(
        memory: SharedMemory, rangeOffset: Int = 0, rangeLength: Int? = nil, blockSize: Int = 4096,
        cacheBudget: Int = 32 << 20
    ) {
        self.memory = memory
        self.rangeOffset = rangeOffset
        self.rangeLength = rangeLength
        // No per-byte counts: the log does not show them, and they would grow with a busy segment.
        tracker = ChangeTracker(
            start: rangeOffset, length: Self.watchedLength(size: memory.size, offset: rangeOffset, length: rangeLength),
            blockSize: blockSize, cacheBudget: cacheBudget, byteCountLimit: 0)
    }

    static func watchedLength(size: Int, offset: Int, length: Int?) -> Int {
        max(0, min(length ?? Int.max, size - offset))
    }

    /// One round: presence checks, then a scan. The first poll only records the baseline.
    public func poll(now: Double) -> [WatchEvent] {
        var events: [WatchEvent] = []
        poll(now: now) { events.append($0) }
        return events
    }

    /// The same, handing over each event as soon as it is known, so a scan of a segment that changed everywhere
    /// never holds more than a chunk's worth of changes.
    public func poll(now: Double, emit: (WatchEvent) -> Void) {
        var events: [WatchEvent] = []
        defer { events.forEach(emit) }
        if !memory.isAttached {
            guard reattach(into: &events) else { return }
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
                guard reattach(into: &events) else { return }
            }
        case .resized(let newSize):
            let old = memory.size
            try? memory.detach()
            do { try memory.attach(.readOnly) } catch {
                events.append(.detached(reason: error.message))
                detachedReported = true
                return
            }
            events.append(.resized(from: old, to: newSize))
            tracker.resize(length: Self.watchedLength(size: memory.size, offset: rangeOffset, length: rangeLength))
        }
        events.forEach(emit)
        events = []
        try? tracker.scan(memory, now: now) { emit(.change($0)) }
    }

    private func reattach(into events: inout [WatchEvent]) -> Bool {
        do { try memory.attach(.readOnly) } catch {
            if !detachedReported { events.append(.detached(reason: error.message)) }
            detachedReported = true
            return false
        }
        detachedReported = false
        removedReported = false
        events.append(.reattached(size: memory.size))
        tracker.reset(length: Self.watchedLength(size: memory.size, offset: rangeOffset, length: rangeLength))
        return true
    }
}
