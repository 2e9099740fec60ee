import CShmShims

/// Something whose bytes can be copied out: an attached segment, or an in-memory buffer in tests.
public protocol ByteReader: AnyObject {
    /// How many bytes there are now.
    var byteCount: Int { get }
    /// Fills `buffer` with the bytes at `offset`, or throws (a POSIX segment shrank under us).
    func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws
    /// True when the range is known to be a hole of a sparse segment: all zeros, with no pages to read. Scans then
    /// skip the read and the hashing; false when unknown.
    func isHole(offset: Int, count: Int) -> Bool
    /// Hashes `count` bytes at `offset` with `ChangeTracker.hash`, one value per `blockSize` piece (the last may be
    /// shorter), in place: no copy. Returns false, having done nothing, when the bytes cannot be read in place
    /// (there may be holes, whose pages a read would allocate; or no mapping): the caller copies them instead.
    /// Throws when a page faulted (a POSIX segment shrank under us).
    func hashBlocks(offset: Int, count: Int, blockSize: Int, into hashes: UnsafeMutableBufferPointer<UInt64>) throws
        -> Bool
}

extension ByteReader {
    public func isHole(offset: Int, count: Int) -> Bool { false }
    public func hashBlocks(
        offset: Int, count: Int, blockSize: Int, into hashes: UnsafeMutableBufferPointer<UInt64>
    ) throws -> Bool { false }
}

extension SharedMemory: ByteReader {
    public var byteCount: Int { size }
}

/// Bytes in memory behind `ByteReader`, so the change tracker and everything above it test without IPC.
public final class InMemoryBytes: ByteReader {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var byteCount: Int { bytes.count }

    public func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws {
        guard offset >= 0, offset + buffer.count <= bytes.count else {
            throw ShmError(.invalidSize, operation: "read", target: "memory", message: "range outside the buffer")
        }
        bytes.withUnsafeBytes { src in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + buffer.count)]))
        }
    }

    /// In place, as a mapping is hashed, so tests cover the scan's in-place path too.
    public var hashesInPlace = true

    public func hashBlocks(
        offset: Int, count: Int, blockSize: Int, into hashes: UnsafeMutableBufferPointer<UInt64>
    ) throws -> Bool {
        guard hashesInPlace else { return false }
        guard offset >= 0, offset + count <= bytes.count else {
            throw ShmError(.invalidSize, operation: "read", target: "memory", message: "range outside the buffer")
        }
        bytes.withUnsafeBytes { src in
            var k = 0
            for blockStart in stride(from: offset, to: offset + count, by: blockSize) {
                let end = min(offset + count, blockStart + blockSize)
                hashes[k] = ChangeTracker.hash(UnsafeRawBufferPointer(rebasing: src[blockStart..<end]))
                k += 1
            }
        }
        return true
    }
}

/// One changed run of bytes found by a scan.
public struct ByteChange: Equatable, Sendable {
    /// Offset in the segment.
    public var offset: Int
    /// What the bytes were, or nil when the block was not in the cache (see `ChangeTracker`): then the run is the
    /// whole block, because without the old bytes we cannot tell which of them changed.
    public var old: [UInt8]?
    public var new: [UInt8]

    public init(offset: Int, old: [UInt8]?, new: [UInt8]) {
        self.offset = offset
        self.old = old
        self.new = new
    }

    public var length: Int { new.count }
}

/// Finds what changed in a segment between scans without keeping a copy of it, so a 1 GiB segment costs a few MiB.
///
/// Each scan hashes every block (4 KiB by default) with a 64-bit hash, in place, 1 MiB at a time, where the reader
/// can (a mapping whose pages all exist: `ByteReader.hashBlocks`, fault-safe, at about the speed of a plain read
/// loop); elsewhere, and for the blocks it must compare or cache, it copies 64 KiB chunks out (fault-safe: a peer
/// may truncate a POSIX segment; holes read as zeros without being faulted in). Only blocks whose hash changed are compared byte by
/// byte, against their previous contents from a bounded cache (32 MiB by default). An all-zero block needs no cache
/// entry: its old contents are known from its hash. A block that changed while not cached (the cache was full when
/// it was last seen) is reported once with `old == nil`, as one run covering the block, and is cached from then on,
/// evicting the block stored least recently. Runs are at most `maxRunLength` and can be handed over as they are
/// found, so memory stays bounded even when a peer rewrites everything.
///
/// It also keeps what the activity map shows: per block when it last changed and how often; and per byte how often
/// it changed (up to `byteCountLimit` distinct bytes).
public final class ChangeTracker {
    public let blockSize: Int
    public let cacheBudget: Int
    /// The first watched byte and how many are watched.
    public private(set) var start: Int
    public private(set) var length: Int
    /// Per block: the hash of its contents at the last scan, nil until first seen.
    private var hashes: [UInt64?]
    /// Per block: when it last changed (the `now` of that scan), or -infinity.
    public private(set) var lastChange: [Double]
    /// Per block: how many scans saw it change.
    public private(set) var changeCount: [UInt32]
    private var cache: [Int: [UInt8]] = [:]
    private var cacheStamp: [Int: UInt64] = [:]
    public private(set) var cachedBytes = 0
    private var stamp: UInt64 = 0
    private var evictionQueue: [(index: Int, stamp: UInt64)] = []
    private var queueHead = 0
    /// Per byte offset: how many changes touched it.
    public private(set) var byteCounts: [Int: UInt32] = [:]
    public let byteCountLimit: Int
    private var zeroHashes: [Int: UInt64] = [:]
    private let scratch: UnsafeMutableRawBufferPointer
    /// The hashes of one in-place stride.
    private let strideHashes: UnsafeMutableBufferPointer<UInt64>
    /// Completed scans, and how long the last one took (seconds, from the caller's clock).
    public private(set) var scanCount = 0

    public static let chunkSize = 64 << 10
    /// How much one in-place hashing call covers: one `mincore` and one fault guard per MiB.
    public static let hashStride = 1 << 20

    public init(
        start: Int = 0, length: Int, blockSize: Int = 4096, cacheBudget: Int = 32 << 20, byteCountLimit: Int = 1 << 20
    ) {
        precondition(blockSize > 0 && Self.chunkSize % blockSize == 0, "block size must divide 64 KiB")
        self.start = start
        self.length = max(0, length)
        self.blockSize = blockSize
        self.cacheBudget = cacheBudget
        self.byteCountLimit = byteCountLimit
        let blocks = (self.length + blockSize - 1) / blockSize
        hashes = Array(repeating: nil, count: blocks)
        lastChange = Array(repeating: -.infinity, count: blocks)
        changeCount = Array(repeating: 0, count: blocks)
        scratch = .allocate(byteCount: Self.chunkSize, alignment: 16)
        strideHashes = .allocate(capacity: Self.hashStride / blockSize)
    }

    deinit {
        scratch.deallocate()
        strideHashes.deallocate()
    }

    public var blockCount: Int { hashes.count }

    /// The segment offset where block `index` starts.
    public func offset(ofBlock index: Int) -> Int { start + index * blockSize }

    /// The block holding segment offset `offset`, if watched.
    public func block(containing offset: Int) -> Int? {
        let rel = offset - start
        return rel >= 0 && rel < length ? rel / blockSize : nil
    }

    /// Where the next `scanStep` goes on within the current pass (0: a new pass starts).
    public private(set) var passOffset = 0

    /// The longest run one `ByteChange` holds; a longer run of changed bytes is reported as several, so what a
    /// scan holds in memory at once stays small even when a peer rewrites the whole segment.
    public static let maxRunLength = 64 << 10

    /// Reads the watched range and hands over what changed since the last scan, run by run as they are found
    /// (not collected). The first scan only records.
    public func scan(_ reader: any ByteReader, now: Double, emit: (ByteChange) -> Void) throws {
        passOffset = 0
        while try !scanStep(reader, now: now, maxBytes: Int.max, emit: emit) {}
    }

    /// The same, collected into an array (for small segments and tests).
    public func scan(_ reader: any ByteReader, now: Double) throws -> [ByteChange] {
        var changes: [ByteChange] = []
        try scan(reader, now: now) { changes.append($0) }
        return changes
    }

    /// Scans on from `passOffset`, at least one chunk and about `maxBytes`, so a caller that must stay responsive
    /// (the hex view) can spread a pass over a big segment across many turns of its loop. Returns whether the pass
    /// is complete. A read that fails leaves `passOffset` where it was, to be retried.
    public func scanStep(_ reader: any ByteReader, now: Double, maxBytes: Int, emit: (ByteChange) -> Void) throws
        -> Bool
    {
        // The last run is held back after each chunk, since it may go on in the next one.
        var pending: [ByteChange] = []
        defer { pending.forEach(emit) }
        var done = 0
        while passOffset < length && done < maxBytes {
            let chunkOffset = passOffset
            // At most what the caller allows (whole chunks, at least one), so a stepped pass stays stepped.
            let allowed = max(Self.chunkSize, (maxBytes - done) / Self.chunkSize * Self.chunkSize)
            let span = min(Self.hashStride, length - chunkOffset, allowed)
            if try reader.hashBlocks(offset: start + chunkOffset, count: span, blockSize: blockSize, into: strideHashes) {
                try compareHashed(reader, at: chunkOffset, count: span, now: now, into: &pending)
                if pending.count > 1 {
                    pending.dropLast().forEach(emit)
                    pending.removeFirst(pending.count - 1)
                }
                passOffset += span
                done += span
                continue
            }
            let n = min(Self.chunkSize, length - chunkOffset)
            let chunk = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<n])
            if reader.isHole(offset: start + chunkOffset, count: n) {
                // A hole of a sparse segment: zeros, known without reading (or hashing) them. Only a block that
                // was not zero before is examined (against a zeroed chunk).
                var zeroed = false
                var i = 0
                while i < n {
                    let blockLength = min(blockSize, n - i)
                    let index = (chunkOffset + i) / blockSize
                    let zero = zeroHash(blockLength)
                    if hashes[index] == nil {
                        hashes[index] = zero
                    } else if hashes[index] != zero {
                        if !zeroed {
                            chunk.initializeMemory(as: UInt8.self, repeating: 0)
                            zeroed = true
                        }
                        examine(UnsafeRawBufferPointer(rebasing: chunk[i..<(i + blockLength)]), index: index, now: now, into: &pending)
                    }
                    i += blockLength
                }
            } else {
                try reader.read(into: chunk, offset: start + chunkOffset)
                var i = 0
                while i < n {
                    let blockLength = min(blockSize, n - i)
                    let index = (chunkOffset + i) / blockSize
                    let block = UnsafeRawBufferPointer(rebasing: chunk[i..<(i + blockLength)])
                    examine(block, index: index, now: now, into: &pending)
                    i += blockLength
                }
            }
            if pending.count > 1 {
                pending.dropLast().forEach(emit)
                pending.removeFirst(pending.count - 1)
            }
            passOffset += n
            done += n
        }
        guard passOffset >= length else { return false }
        passOffset = 0
        scanCount += 1
        return true
    }

    /// The same, collected into an array.
    public func scanStep(_ reader: any ByteReader, now: Double, maxBytes: Int) throws -> (
        changes: [ByteChange], passComplete: Bool
    ) {
        var changes: [ByteChange] = []
        let complete = try scanStep(reader, now: now, maxBytes: maxBytes) { changes.append($0) }
        return (changes, complete)
    }

    /// After an in-place stride: a block whose hash is unchanged costs nothing more; one seen for the first time is
    /// copied only to be cached (while there is room, and not when it is all zeros); one that changed is copied
    /// and examined, which hashes the copy again so the stored hash always matches the cached bytes.
    private func compareHashed(
        _ reader: any ByteReader, at chunkOffset: Int, count: Int, now: Double, into changes: inout [ByteChange]
    ) throws {
        var k = 0
        var i = 0
        while i < count {
            let blockLength = min(blockSize, count - i)
            let index = (chunkOffset + i) / blockSize
            let h = strideHashes[k]
            defer {
                k += 1
                i += blockLength
            }
            if let previous = hashes[index] {
                if previous == h { continue }
            } else if h == zeroHash(blockLength) || cachedBytes + blockLength > cacheBudget {
                hashes[index] = h
                continue
            }
            let copy = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<blockLength])
            try reader.read(into: copy, offset: start + chunkOffset + i)
            examine(UnsafeRawBufferPointer(copy), index: index, now: now, into: &changes)
        }
    }

    private func examine(_ block: UnsafeRawBufferPointer, index: Int, now: Double, into changes: inout [ByteChange]) {
        let h = Self.hash(block)
        guard let previous = hashes[index] else {
            hashes[index] = h
            // Fill the cache on first sight only while there is room: evicting here would churn through the
            // whole cache on every block of a big segment.
            if h != zeroHash(block.count) { remember(index, block, evict: false) }
            return
        }
        if previous == h { return }
        hashes[index] = h
        lastChange[index] = now
        changeCount[index] &+= 1
        let base = offset(ofBlock: index)
        let old: [UInt8]?
        if let cached = cache[index] {
            old = cached
        } else if previous == zeroHash(block.count) {
            old = [UInt8](repeating: 0, count: block.count)
        } else {
            old = nil
        }
        if let old {
            var i = 0
            while i < block.count {
                if old[i] == block[i] {
                    i += 1
                    continue
                }
                var j = i + 1
                while j < block.count && old[j] != block[j] { j += 1 }
                append(ByteChange(offset: base + i, old: Array(old[i..<j]), new: Array(block[i..<j])), to: &changes)
                for offset in (base + i)..<(base + j) { countByte(offset) }
                i = j
            }
        } else {
            append(ByteChange(offset: base, old: nil, new: Array(block)), to: &changes)
        }
        if h == zeroHash(block.count) {
            forget(index)
        } else {
            remember(index, block, evict: true)
        }
    }

    /// Joins a run that continues the previous one across a block boundary (up to `maxRunLength`).
    private func append(_ change: ByteChange, to changes: inout [ByteChange]) {
        if var last = changes.last, last.offset + last.length == change.offset,
            (last.old == nil) == (change.old == nil),
            last.old != nil, last.length + change.length <= Self.maxRunLength
        {
            last.old! += change.old!
            last.new += change.new
            changes[changes.count - 1] = last
        } else {
            changes.append(change)
        }
    }

    private func countByte(_ offset: Int) {
        if let n = byteCounts[offset] {
            byteCounts[offset] = n &+ 1
        } else if byteCounts.count < byteCountLimit {
            byteCounts[offset] = 1
        }
    }

    /// How many changes touched the byte at `offset` (0 when never seen, or beyond the per-byte limit).
    public func changes(atByte offset: Int) -> UInt32 { byteCounts[offset] ?? 0 }

    private func remember(_ index: Int, _ block: UnsafeRawBufferPointer, evict: Bool) {
        stamp += 1
        if let existing = cache[index] {
            cachedBytes -= existing.count
        } else if !evict {
            if cachedBytes + block.count > cacheBudget { return }
        } else {
            // Make room by evicting the block that was stored least recently; nothing is cached past the budget.
            while cachedBytes + block.count > cacheBudget, evictOldest() {}
            if cachedBytes + block.count > cacheBudget { return }
        }
        cache[index] = Array(block)
        cacheStamp[index] = stamp
        cachedBytes += block.count
        evictionQueue.append((index, stamp))
        // Superseded entries pile up while nothing needs evicting (a small, busy segment); drop them now and then.
        if evictionQueue.count - queueHead > 2 * cache.count + 4096 {
            evictionQueue = evictionQueue[queueHead...].filter { cacheStamp[$0.index] == $0.stamp }
            queueHead = 0
        }
    }

    /// Removes the least recently stored block in O(1) amortised: the queue holds (block, stamp) in storing order,
    /// and an entry whose stamp is no longer the block's current one was superseded and is skipped. A peer that
    /// rewrites a whole big segment thus costs a constant per block, not a search of the cache.
    private func evictOldest() -> Bool {
        while queueHead < evictionQueue.count {
            let entry = evictionQueue[queueHead]
            queueHead += 1
            if cacheStamp[entry.index] == entry.stamp {
                forget(entry.index)
                compactQueue()
                return true
            }
        }
        return false
    }

    private func compactQueue() {
        if queueHead > 4096 && queueHead * 2 > evictionQueue.count {
            evictionQueue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    private func forget(_ index: Int) {
        if let existing = cache.removeValue(forKey: index) { cachedBytes -= existing.count }
        cacheStamp[index] = nil
    }

    private func zeroHash(_ count: Int) -> UInt64 {
        if let h = zeroHashes[count] { return h }
        let zeros = [UInt8](repeating: 0, count: count)
        let h = zeros.withUnsafeBytes { Self.hash($0) }
        zeroHashes[count] = h
        return h
    }

    /// Follows a resize of the segment: blocks that still exist whole keep their state; a block cut short and
    /// new blocks are recorded again by the next scan without being reported as changes.
    public func resize(length newLength: Int) {
        let newLength = max(0, newLength)
        let blocks = (newLength + blockSize - 1) / blockSize
        let keepWhole = min(length, newLength) / blockSize
        for index in keepWhole..<max(keepWhole, hashes.count) { forget(index) }
        hashes = Array(hashes.prefix(keepWhole)) + Array(repeating: nil, count: max(0, blocks - keepWhole))
        lastChange =
            Array(lastChange.prefix(min(blocks, lastChange.count)))
            + Array(repeating: -.infinity, count: max(0, blocks - lastChange.count))
        changeCount =
            Array(changeCount.prefix(min(blocks, changeCount.count)))
            + Array(repeating: 0, count: max(0, blocks - changeCount.count))
        byteCounts = byteCounts.filter { $0.key < start + newLength }
        length = newLength
        passOffset = 0
    }

    /// Forgets all contents (a different segment now sits behind the target); the next scan records afresh.
    public func reset(length newLength: Int) {
        for index in Array(cache.keys) { forget(index) }
        evictionQueue = []
        queueHead = 0
        hashes = []
        resize(length: 0)
        resize(length: newLength)
    }

    /// A 64-bit hash of `bytes` (`shm_shim_hash` in CShmShims: eight XXH3-style lanes, AVX2 when the CPU has it,
    /// then a finaliser). Not cryptographic: it only has to make an accidental collision between two states of one
    /// block vanishingly rare.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = bytes.baseAddress else { return shm_shim_hash(nil, 0) }
        return shm_shim_hash(base, bytes.count)
    }
}
