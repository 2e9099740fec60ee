import Glibc

/// Where a mapped shmem object has pages, so reads visit only those and read holes as zeros.
///
/// Reading a tmpfs/shmem hole through a shared mapping allocates a page: one `watch --log` or `open --read-only` of a
/// big sparse segment would otherwise allocate all of it, for good. The kernel says where the pages are through
/// `lseek(SEEK_DATA/SEEK_HOLE)` on a descriptor of the object: the POSIX object's own descriptor, or for a System V
/// segment `/proc/self/map_files/<start>-<end>` of our own attach. `mincore()` is no substitute: it reports a
/// swapped-out page as absent, so it cannot tell a hole from data. It serves as a hint in one direction only: a
/// range whose pages are all resident has no hole, and is read without asking `lseek` (which on a dense object walks
/// every page from the offset to the next hole, often the end: on a dense 1 GiB segment that made each window read
/// of the hex view cost milliseconds).
///
/// The answers are cached for one sequential pass: a scan reads a big segment chunk after chunk, and one hole or
/// data extent usually spans many of them. The cache is used only by a read that starts exactly where the previous
/// one ended, and only for `freshness`; any other read (the next pass starting over, the hex view's window) asks the
/// kernel again, so a read never misses a write completed before it unless it continues a pass begun earlier, which
/// sees it on its next pass like any poll.
final class ExtentMap {
    /// The descriptor `lseek` asks; -1 when there is none (every byte then counts as data: the old behaviour).
    let descriptor: Int32
    /// Whether `close()` closes `descriptor` (the System V map_files descriptor; a POSIX backend owns its own).
    private let ownsDescriptor: Bool
    private var knownData: Range<Int> = 0..<0
    private var knownHole: Range<Int> = 0..<0
    private var learnedAt: UInt64 = 0
    /// Where the previous read ended: the only place the next one may start and still use the cache.
    private var sequenceEnd = -1
    /// How long an answer about a range stays usable (nanoseconds).
    static let freshness: UInt64 = 5_000_000
    /// `lseek` calls made, for tests that prove holes are skipped without asking for every chunk.
    private(set) var queries = 0
    /// Where the object is mapped, for the `mincore` hint; nil: no hint.
    var base: UnsafeMutableRawPointer?
    private var residency: [UInt8] = []

    init(descriptor: Int32, ownsDescriptor: Bool, base: UnsafeMutableRawPointer? = nil) {
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
        self.base = base
    }

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Whether `mincore` says every page of `range` is resident: then it is all data, with no hole to fault in.
    /// False when any page is not (a hole, or swapped out: `lseek` decides) or the hint is unavailable.
    func allResident(_ range: Range<Int>) -> Bool {
        guard let base, !range.isEmpty else { return false }
        let page = Self.pageSize
        let first = range.lowerBound / page * page
        let pages = (range.upperBound - first + page - 1) / page
        if residency.count < pages { residency = [UInt8](repeating: 0, count: pages) }
        let ok = residency.withUnsafeMutableBufferPointer { vector -> Bool in
            guard (try? Sys.mincore(base + first, pages * page, vector.baseAddress!)) != nil else { return false }
            for i in 0..<pages where vector[i] & 1 == 0 { return false }
            return true
        }
        return ok
    }

    /// No extent information: every byte is read.
    static var none: ExtentMap { ExtentMap(descriptor: -1, ownsDescriptor: false) }

    /// Linux's `lseek` whences (glibc defines them only under `_GNU_SOURCE`, which Swift's Glibc module lacks).
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    func close() {
        if ownsDescriptor && descriptor >= 0 { Sys.close(descriptor) }
    }

    /// Splits `range` into data and holes, in order: `data` for parts with pages (returning false stops with false,
    /// e.g. when a copy faulted), `hole` for parts without. A part past the object's end counts as data, so the
    /// fault-safe copy reports the truncation as it always has.
    func visit(_ range: Range<Int>, data: (Range<Int>) -> Bool, hole: (Range<Int>) -> Void) -> Bool {
        guard descriptor >= 0 else { return range.isEmpty || data(range) }
        if allResident(range) { return data(range) }
        continueSequence(at: range.lowerBound)
        sequenceEnd = range.upperBound
        var pos = range.lowerBound
        let end = range.upperBound
        while pos < end {
            if knownData.contains(pos) {
                let next = min(end, knownData.upperBound)
                if !data(pos..<next) { return false }
                pos = next
            } else if knownHole.contains(pos) {
                let next = min(end, knownHole.upperBound)
                hole(pos..<next)
                pos = next
            } else if !learn(at: pos) {
                // The kernel cannot say (not a shmem file, or an error): read the rest as it is.
                return data(pos..<end)
            }
        }
        return true
    }

    /// True when every byte of `range` is known to have a page (so reading it in place allocates nothing): always
    /// without extent information (every byte counts as data), else when `mincore` says all of it is resident.
    /// False only means "not known": the caller then reads with `visit`, which asks the kernel.
    func isAllData(_ range: Range<Int>) -> Bool {
        guard descriptor >= 0 else { return true }
        return allResident(range)
    }

    /// True when all of `range` is a hole (asks the kernel once when the cache cannot tell).
    func isHole(_ range: Range<Int>) -> Bool {
        guard descriptor >= 0, !range.isEmpty else { return false }
        if allResident(range) { return false }
        continueSequence(at: range.lowerBound)
        if !knownHole.contains(range.lowerBound) && !knownData.contains(range.lowerBound) {
            guard learn(at: range.lowerBound) else { return false }
        }
        let hole = knownHole.contains(range.lowerBound) && knownHole.upperBound >= range.upperBound
        // Skipped as a hole, the pass goes on after it; otherwise the read of this range comes next.
        sequenceEnd = hole ? range.upperBound : range.lowerBound
        return hole
    }

    /// Forgets what the cache knows unless a read starting at `start` continues the previous one, freshly.
    private func continueSequence(at start: Int) {
        if start != sequenceEnd || monotonicNanos() &- learnedAt > Self.freshness {
            knownData = 0..<0
            knownHole = 0..<0
        }
    }

    /// Asks where the data at or after `pos` starts and ends. Returns false when the kernel gave no usable answer.
    private func learn(at pos: Int) -> Bool {
        queries += 1
        learnedAt = monotonicNanos()
        let dataStart: Int
        do { dataStart = try Sys.lseek(descriptor, pos, Self.seekData) } catch let e {
            guard e.code == ENXIO, let size = try? Sys.fstat(descriptor).st_size else { return false }
            // No data from `pos` to the end; past the end (a peer truncated it) the copy must see the fault.
            guard pos < Int(size) else {
                knownData = pos..<Int.max
                knownHole = 0..<0
                return true
            }
            knownHole = pos..<Int(size)
            knownData = Int(size)..<Int.max
            return true
        }
        guard dataStart >= pos else { return false }
        let dataEnd = (try? Sys.lseek(descriptor, dataStart, Self.seekHole)) ?? Int.max
        knownHole = pos..<dataStart
        knownData = dataStart..<max(dataEnd, dataStart + 1)
        return true
    }
}
