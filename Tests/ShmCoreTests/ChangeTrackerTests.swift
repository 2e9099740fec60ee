import ShmCore
import Testing

/// The change tracker on in-memory bytes: exact runs from cached and all-zero blocks, cold blocks past the cache
/// budget, runs across block boundaries, resizes, and per-block / per-byte statistics.
@Suite struct ChangeTrackerTests {
    func tracker(_ bytes: [UInt8], budget: Int = 1 << 20) -> (ChangeTracker, InMemoryBytes) {
        let memory = InMemoryBytes(bytes)
        return (ChangeTracker(length: bytes.count, blockSize: 4096, cacheBudget: budget), memory)
    }

    @Test func firstScanRecordsAndLaterScansReportExactRuns() throws {
        var bytes = [UInt8](repeating: 0, count: 3 * 4096 + 100)
        bytes[5000] = 1
        let (t, m) = tracker(bytes)
        #expect(try t.scan(m, now: 1).isEmpty)
        #expect(try t.scan(m, now: 2).isEmpty)
        m.bytes[16] = 0x68
        m.bytes[17] = 0x69
        m.bytes[5000] = 2
        m.bytes[3 * 4096 + 99] = 0xff  // the short last block
        let changes = try t.scan(m, now: 3)
        #expect(
            changes == [
                ByteChange(offset: 16, old: [0, 0], new: [0x68, 0x69]),
                ByteChange(offset: 5000, old: [1], new: [2]),
                ByteChange(offset: 3 * 4096 + 99, old: [0], new: [0xff]),
            ])
        #expect(t.lastChange == [3, 3, -.infinity, 3])
        #expect(t.changeCount == [1, 1, 0, 1])
        m.bytes[16] = 0x6a
        #expect(try t.scan(m, now: 4) == [ByteChange(offset: 16, old: [0x68], new: [0x6a])])
        #expect(t.changes(atByte: 16) == 2)
        #expect(t.changes(atByte: 17) == 1)
        #expect(t.changes(atByte: 18) == 0)
        #expect(t.block(containing: 5000) == 1)
        #expect(t.offset(ofBlock: 2) == 8192)
    }

    @Test func runsAcrossABlockBoundaryAreOneRun() throws {
        let (t, m) = tracker([UInt8](repeating: 7, count: 8192))
        _ = try t.scan(m, now: 0)
        for i in 4090..<4100 { m.bytes[i] = 9 }
        #expect(
            try t.scan(m, now: 1) == [
                ByteChange(offset: 4090, old: [UInt8](repeating: 7, count: 10), new: [UInt8](repeating: 9, count: 10))
            ])
    }

    @Test func coldBlocksBeyondTheBudgetReportOldAsUnknownOnceThenExactly() throws {
        // Two non-zero blocks, room for one: the second is cold.
        let (t, m) = tracker([UInt8](repeating: 1, count: 8192), budget: 4096)
        _ = try t.scan(m, now: 0)
        #expect(t.cachedBytes == 4096)
        m.bytes[4096 + 10] = 5
        let first = try t.scan(m, now: 1)
        #expect(first.count == 1)
        #expect(first[0].offset == 4096 && first[0].old == nil && first[0].new == Array(m.bytes[4096..<8192]))
        // Now cached (block 0 evicted): exact from here on.
        m.bytes[4096 + 11] = 6
        #expect(try t.scan(m, now: 2) == [ByteChange(offset: 4107, old: [1], new: [6])])
        #expect(t.cachedBytes <= 4096)
        // All-zero blocks need no cache: their old bytes are known from the hash.
        let (z, zm) = tracker([UInt8](repeating: 0, count: 8192), budget: 0)
        _ = try z.scan(zm, now: 0)
        zm.bytes[8000] = 3
        #expect(try z.scan(zm, now: 1) == [ByteChange(offset: 8000, old: [0], new: [3])])
        #expect(z.cachedBytes == 0)
    }

    @Test func aRangeIsWatchedAlone() throws {
        let memory = InMemoryBytes([UInt8](repeating: 0, count: 10000))
        let t = ChangeTracker(start: 100, length: 50)
        _ = try t.scan(memory, now: 0)
        memory.bytes[99] = 1
        memory.bytes[150] = 1
        memory.bytes[120] = 1
        #expect(try t.scan(memory, now: 1) == [ByteChange(offset: 120, old: [0], new: [1])])
    }

    @Test func resizeKeepsWholeBlocksAndRebaselinesTheRest() throws {
        let (t, m) = tracker([UInt8](repeating: 2, count: 10000))
        _ = try t.scan(m, now: 0)
        m.bytes = Array(m.bytes.prefix(5000))
        t.resize(length: 5000)
        #expect(t.blockCount == 2)
        #expect(try t.scan(m, now: 1).isEmpty)
        m.bytes[10] = 3
        m.bytes[4500] = 3
        #expect(
            try t.scan(m, now: 2) == [
                ByteChange(offset: 10, old: [2], new: [3]), ByteChange(offset: 4500, old: [2], new: [3]),
            ]
        )
        t.reset(length: 5000)
        #expect(try t.scan(m, now: 3).isEmpty)
        #expect(t.changeCount == [0, 0])
    }

    @Test func hashSeesEveryByteAndLength() {
        var seen = Set<UInt64>()
        var block = [UInt8](repeating: 0, count: 4096)
        seen.insert(block.withUnsafeBytes { ChangeTracker.hash($0) })
        for i in stride(from: 0, to: 4096, by: 97) {
            block[i] ^= 1
            seen.insert(block.withUnsafeBytes { ChangeTracker.hash($0) })
        }
        #expect(seen.count == 1 + (4096 + 96) / 97)
        let short = [UInt8](repeating: 0, count: 4095)
        #expect(
            short.withUnsafeBytes { ChangeTracker.hash($0) }
                != [UInt8](repeating: 0, count: 4096).withUnsafeBytes { ChangeTracker.hash($0) })
    }

    @Test func aPassCanBeSpreadOverSteps() throws {
        let (t, m) = tracker([UInt8](repeating: 0, count: 200_000))
        _ = try t.scan(m, now: 0)
        m.bytes[10] = 1
        m.bytes[150_000] = 2
        var changes: [ByteChange] = []
        var steps = 0
        while true {
            let step = try t.scanStep(m, now: 1, maxBytes: ChangeTracker.chunkSize)
            changes += step.changes
            steps += 1
            if step.passComplete { break }
            #expect(t.passOffset == steps * ChangeTracker.chunkSize)
        }
        #expect(steps == 4)
        #expect(t.passOffset == 0 && t.scanCount == 2)
        #expect(
            changes == [ByteChange(offset: 10, old: [0], new: [1]), ByteChange(offset: 150_000, old: [0], new: [2])])
    }

    @Test func aWholeRewriteIsStreamedInBoundedRuns() throws {
        let (t, m) = tracker([UInt8](repeating: 0, count: 256 << 10 + 100))
        _ = try t.scan(m, now: 0)
        m.bytes = [UInt8](repeating: 0xff, count: m.bytes.count)
        var runs: [ByteChange] = []
        try t.scan(m, now: 1) { runs.append($0) }
        #expect(runs.map(\.offset) == [0, 64 << 10, 128 << 10, 192 << 10, 256 << 10])
        #expect(runs.map(\.length) == [64 << 10, 64 << 10, 64 << 10, 64 << 10, 100])
        #expect(runs.allSatisfy { $0.old == [UInt8](repeating: 0, count: $0.length) })
        #expect(runs.allSatisfy { $0.new == [UInt8](repeating: 0xff, count: $0.length) })
    }

    @Test func evictionFollowsStoringOrderAndStaysWithinBudget() throws {
        // Ten non-zero blocks, room for three.
        let (t, m) = tracker([UInt8](repeating: 1, count: 10 * 4096), budget: 3 * 4096)
        _ = try t.scan(m, now: 0)  // caches blocks 0, 1, 2
        for round in 0..<50 {
            for b in 0..<10 { m.bytes[b * 4096] = UInt8(2 + round % 200) }
            let runs = try t.scan(m, now: Double(round + 1))
            #expect(runs.count == 10)
            #expect(t.cachedBytes <= 3 * 4096)
            // Round 0: blocks 0-2 were cached at the baseline, so they are exact. Each cold block then evicts the
            // block stored least recently, so after a round the cache holds 7-9, and the next round's blocks 0-2
            // evict them before they come up: a cyclic rewrite bigger than the cache is all cold (documented).
            let exact = runs.filter { $0.old != nil }.map(\.offset)
            #expect(exact == (round == 0 ? [0, 4096, 8192] : []))
        }
        // A small busy segment: the cache never fills, and the bookkeeping does not grow with the changes.
        let (small, sm) = tracker([UInt8](repeating: 1, count: 4096))
        _ = try small.scan(sm, now: 0)
        for i in 0..<20_000 {
            sm.bytes[0] = UInt8(truncatingIfNeeded: i + 2)
            #expect(try small.scan(sm, now: Double(i)).count == 1)
        }
        #expect(small.cachedBytes == 4096)
    }

    @Test func theBlockStoredLeastRecentlyIsEvicted() throws {
        let (t, m) = tracker([UInt8](repeating: 1, count: 4 * 4096), budget: 2 * 4096)
        _ = try t.scan(m, now: 0)  // caches 0 and 1
        m.bytes[4096] = 2  // block 1 changes: exact, stored again (now newer than block 0)
        #expect(try t.scan(m, now: 1) == [ByteChange(offset: 4096, old: [1], new: [2])])
        m.bytes[3 * 4096] = 2  // block 3 is cold: reported whole, and evicts block 0
        #expect(try t.scan(m, now: 2).map { $0.old == nil } == [true])
        m.bytes[4096] = 3  // still cached: exact, and now the most recently stored
        #expect(try t.scan(m, now: 3) == [ByteChange(offset: 4096, old: [2], new: [3])])
        m.bytes[0] = 2  // cold again (evicted above); storing it evicts block 3, stored before block 1
        #expect(try t.scan(m, now: 4).map { $0.old == nil } == [true])
        m.bytes[4096] = 4
        m.bytes[3 * 4096] = 3
        let runs = try t.scan(m, now: 5)
        #expect(runs.map(\.offset) == [4096, 3 * 4096])
        #expect(runs[0] == ByteChange(offset: 4096, old: [3], new: [4]))
        #expect(runs[1].old == nil, "block 3 was evicted")
        #expect(t.cachedBytes == 2 * 4096)
    }

    /// Hashing in place (as a mapping is) and copying chunks out find the same runs, budget and cold blocks
    /// included, over random rounds of writes to a 3 MiB + 100 bytes buffer (several strides, a short last block).
    @Test func inPlaceHashingFindsWhatCopyingFinds() throws {
        var rng = SystemRandomNumberGenerator()
        let size = 3 << 20 + 100
        var start = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 7) { start[i] = UInt8.random(in: 1...255, using: &rng) }
        let inPlace = InMemoryBytes(start)
        let copied = InMemoryBytes(start)
        copied.hashesInPlace = false
        let a = ChangeTracker(length: size, cacheBudget: 1 << 20)
        let b = ChangeTracker(length: size, cacheBudget: 1 << 20)
        _ = try a.scan(inPlace, now: 0)
        _ = try b.scan(copied, now: 0)
        for round in 1...20 {
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                let at = Int.random(in: 0..<size, using: &rng)
                let value = UInt8.random(in: 0...255, using: &rng)
                inPlace.bytes[at] = value
                copied.bytes[at] = value
            }
            let x = try a.scan(inPlace, now: Double(round))
            let y = try b.scan(copied, now: Double(round))
            #expect(x == y, "round \(round)")
        }
        #expect(a.changeCount == b.changeCount)
    }

    /// Words that trade places between stripes, or lanes within one, still change the hash (the key is salted
    /// per stripe), as does any single bit.
    @Test func hashSeesWordsTradingPlaces() {
        var block = [UInt8](repeating: 0, count: 4096)
        for i in block.indices { block[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
        let base = block.withUnsafeBytes { ChangeTracker.hash($0) }
        var swapped = block
        for i in 0..<8 { swapped.swapAt(64 + i, 640 + i) }  // lane 0 of stripe 1 with lane 0 of stripe 10
        #expect(swapped.withUnsafeBytes { ChangeTracker.hash($0) } != base)
        var lanes = block
        for i in 0..<8 { lanes.swapAt(i, 8 + i) }  // lanes 0 and 1 of stripe 0
        #expect(lanes.withUnsafeBytes { ChangeTracker.hash($0) } != base)
        var seen = Set([base])
        for bit in stride(from: 0, to: 4096 * 8, by: 97) {
            var flipped = block
            flipped[bit / 8] ^= UInt8(1 << (bit % 8))
            seen.insert(flipped.withUnsafeBytes { ChangeTracker.hash($0) })
        }
        #expect(seen.count == 1 + (4096 * 8 + 96) / 97)
    }
}
