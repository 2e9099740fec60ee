import CZlib
import Glibc

/// A recording (`watch --record`): the segment's starting contents, then every change with its time, the removed /
/// resized / re-created events, and who was attached, in one compressed file that `replay` reads.
///
/// Format (docs/ARCHITECTURE.md "Recordings"): the line `SHMSCOPE-RECORDING 1\n`, then blocks, each
/// `u32le compressed length, u32le raw length, zlib data`. The raw bytes of all blocks, concatenated, are a stream of
/// entries, each a tag byte and its fields (integers little-endian, times f64 seconds since the epoch, strings
/// `u32le length + UTF-8`). A block is written at least once a second, so a recording cut short (a crash, a full
/// disk) loses at most its last second; a reader stops at the first incomplete block or entry.
public enum RecordingEntry: Equatable, Sendable {
    /// `H`: first entry. The target as typed, its kind, when recording started, the poll interval.
    case header(target: String, kind: String, time: Double, intervalMS: Int)
    /// `K`: the whole segment at `time` (the start, after a resize or re-creation, after a gap).
    case keyframe(time: Double, bytes: [UInt8])
    /// `C`: bytes at `offset` became `new`. `oldKnown` false when the watcher did not have the old bytes (its log
    /// prints `?` then).
    case change(time: Double, offset: Int, new: [UInt8], oldKnown: Bool)
    /// `E`: removed, resized, re-created or detached (never `.change`).
    case event(time: Double, WatchEvent)
    /// `G`: changes were dropped because they exceeded the per-second bound; a keyframe follows.
    case gap(time: Double, droppedChanges: Int, droppedBytes: Int, limit: Int)
    /// `W`: who was attached (the Who pane of a replay shows the latest before the position).
    case who(time: Double, RecordedWho)
    /// `Z`: the recording ended normally, and why.
    case end(time: Double, reason: String)

    public var time: Double {
        switch self {
        case .header(_, _, let t, _), .keyframe(let t, _), .change(let t, _, _, _), .event(let t, _),
            .gap(let t, _, _, _), .who(let t, _), .end(let t, _):
            t
        }
    }
}

/// Who was attached when it was recorded, and the last pid that attached or detached (`shm_lpid`).
public struct RecordedWho: Equatable, Sendable {
    public struct Process: Equatable, Sendable {
        public var pid: Int32
        public var command: String
        public var uid: UInt32
        /// Attached read-write (else read-only).
        public var readWrite: Bool
        public init(pid: Int32, command: String, uid: UInt32 = 0, readWrite: Bool = true) {
            self.pid = pid
            self.command = command
            self.uid = uid
            self.readWrite = readWrite
        }
    }
    public var attached: [Process]
    public var lastPID: Int32?
    /// The lock as `info` summarises it ("free", "held by pid N (cmd)"), or nil without a lock.
    public var lock: String?

    public init(attached: [Process], lastPID: Int32?, lock: String?) {
        self.attached = attached
        self.lastPID = lastPID
        self.lock = lock
    }

    /// `1234 (qtpeer), 1240 (shmscope)` or `none`.
    public var attachedText: String {
        attached.isEmpty ? "none" : attached.map { "\($0.pid) (\($0.command))" }.joined(separator: ", ")
    }
}

public struct RecordingFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

enum RecordingCodec {
    static let magic = Array("SHMSCOPE-RECORDING 1\n".utf8)

    static func put(_ v: UInt64, _ width: Int, into out: inout [UInt8]) {
        for i in 0..<width { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }
    static func put(_ d: Double, into out: inout [UInt8]) { put(d.bitPattern, 8, into: &out) }
    static func put(_ s: String, into out: inout [UInt8]) {
        let utf8 = Array(s.utf8)
        put(UInt64(utf8.count), 4, into: &out)
        out += utf8
    }
    static func put(_ b: [UInt8], into out: inout [UInt8]) {
        put(UInt64(b.count), 8, into: &out)
        out += b
    }

    static func encode(_ entry: RecordingEntry) -> [UInt8] {
        var out: [UInt8] = []
        switch entry {
        case .header(let target, let kind, let time, let interval):
            out.append(UInt8(ascii: "H"))
            put(time, into: &out)
            put(UInt64(interval), 4, into: &out)
            put(target, into: &out)
            put(kind, into: &out)
        case .keyframe(let time, let bytes):
            out.append(UInt8(ascii: "K"))
            put(time, into: &out)
            put(bytes, into: &out)
        case .change(let time, let offset, let new, let oldKnown):
            out.append(UInt8(ascii: "C"))
            put(time, into: &out)
            put(UInt64(offset), 8, into: &out)
            out.append(oldKnown ? 1 : 0)
            put(new, into: &out)
        case .event(let time, let event):
            out.append(UInt8(ascii: "E"))
            put(time, into: &out)
            switch event {
            case .removed: out.append(1)
            case .resized(let from, let to):
                out.append(2)
                put(UInt64(from), 8, into: &out)
                put(UInt64(to), 8, into: &out)
            case .reattached(let size):
                out.append(3)
                put(UInt64(size), 8, into: &out)
            case .detached(let reason):
                out.append(4)
                put(reason, into: &out)
            case .change: preconditionFailure("a change is recorded as a change entry")
            }
        case .gap(let time, let changes, let bytes, let limit):
            out.append(UInt8(ascii: "G"))
            put(time, into: &out)
            put(UInt64(changes), 8, into: &out)
            put(UInt64(bytes), 8, into: &out)
            put(UInt64(limit), 8, into: &out)
        case .who(let time, let who):
            out.append(UInt8(ascii: "W"))
            put(time, into: &out)
            put(UInt64(bitPattern: Int64(who.lastPID ?? -1)), 8, into: &out)
            put(who.lock ?? "", into: &out)
            out.append(who.lock == nil ? 0 : 1)
            put(UInt64(who.attached.count), 4, into: &out)
            for p in who.attached {
                put(UInt64(UInt32(bitPattern: p.pid)), 4, into: &out)
                put(p.command, into: &out)
                put(UInt64(p.uid), 4, into: &out)
                out.append(p.readWrite ? 1 : 0)
            }
        case .end(let time, let reason):
            out.append(UInt8(ascii: "Z"))
            put(time, into: &out)
            put(reason, into: &out)
        }
        return out
    }

    struct Reader {
        let data: [UInt8]
        var at = 0
        struct Short: Error {}

        mutating func int(_ width: Int) throws(Short) -> UInt64 {
            guard at + width <= data.count else { throw Short() }
            var v: UInt64 = 0
            for i in 0..<width { v |= UInt64(data[at + i]) << (8 * UInt64(i)) }
            at += width
            return v
        }
        mutating func byte() throws(Short) -> UInt8 { UInt8(try int(1)) }
        mutating func double() throws(Short) -> Double { Double(bitPattern: try int(8)) }
        mutating func size(_ width: Int) throws(Short) -> Int {
            let v = try int(width)
            guard v <= UInt64(data.count - at) || width == 8 && v <= UInt64(Int.max) else { throw Short() }
            return Int(v)
        }
        mutating func bytes(_ n: Int) throws(Short) -> [UInt8] {
            guard n >= 0, n <= data.count - at else { throw Short() }
            defer { at += n }
            return Array(data[at..<(at + n)])
        }
        mutating func string() throws(Short) -> String {
            let n = try size(4)
            return String(decoding: try bytes(n), as: UTF8.self)
        }
        mutating func blob() throws(Short) -> [UInt8] { try bytes(try size(8)) }
    }

    /// One entry at `reader.at`; nil at the end of the stream. Throws `Short` when it is cut off, a format error
    /// for an unknown tag.
    static func decodeEntry(_ r: inout Reader) throws -> RecordingEntry? {
        guard r.at < r.data.count else { return nil }
        let tag = try r.byte()
        let time = try r.double()
        switch tag {
        case UInt8(ascii: "H"):
            let interval = Int(try r.int(4))
            return .header(target: try r.string(), kind: try r.string(), time: time, intervalMS: interval)
        case UInt8(ascii: "K"):
            return .keyframe(time: time, bytes: try r.blob())
        case UInt8(ascii: "C"):
            let offset = try r.size(8)
            let known = try r.byte() != 0
            return .change(time: time, offset: offset, new: try r.blob(), oldKnown: known)
        case UInt8(ascii: "E"):
            switch try r.byte() {
            case 1: return .event(time: time, .removed)
            case 2: return .event(time: time, .resized(from: try r.size(8), to: try r.size(8)))
            case 3: return .event(time: time, .reattached(size: try r.size(8)))
            case 4: return .event(time: time, .detached(reason: try r.string()))
            case let k: throw RecordingFormatError("unknown event kind \(k) at byte \(r.at) of the stream")
            }
        case UInt8(ascii: "G"):
            return .gap(time: time, droppedChanges: try r.size(8), droppedBytes: try r.size(8), limit: try r.size(8))
        case UInt8(ascii: "W"):
            let pid = Int64(bitPattern: try r.int(8))
            let lock = try r.string()
            let hasLock = try r.byte() != 0
            let count = Int(try r.int(4))
            var attached: [RecordedWho.Process] = []
            for _ in 0..<min(count, 1 << 16) {
                let p = Int32(bitPattern: UInt32(try r.int(4)))
                let command = try r.string()
                let uid = UInt32(try r.int(4))
                attached.append(.init(pid: p, command: command, uid: uid, readWrite: try r.byte() != 0))
            }
            return .who(
                time: time,
                RecordedWho(attached: attached, lastPID: pid < 0 ? nil : Int32(pid), lock: hasLock ? lock : nil))
        case UInt8(ascii: "Z"):
            return .end(time: time, reason: try r.string())
        default:
            throw RecordingFormatError(
                "unknown entry `\(tag)` at byte \(r.at - 9) of the stream: not a recording shmscope can read")
        }
    }
}

/// Writes a recording: entries are buffered and compressed into a block at least once a second (and whenever
/// 256 KiB are pending), so the file on disk is always a valid recording up to its last block.
public final class RecordingWriter {
    public let path: String
    private var fd: Int32
    private var pending: [UInt8] = []
    private var lastFlush: Double
    /// Compressed bytes written (the file's size).
    public private(set) var fileBytes = 0
    public private(set) var rawBytes = 0

    /// Creates `path` (0600, never through a symlink). An existing file is refused unless `force`, and even then
    /// replaced only when it is a regular file that is a recording already (provably ours).
    public init(path: String, force: Bool) throws(ShmError) {
        self.path = path
        func fail(_ e: Errno, _ op: String) -> ShmError {
            .fromFileErrno(e.code, operation: op, path: path, context: "cannot write the recording")
        }
        if let st = try? Sys.lstat(path) {
            guard force else {
                throw ShmError(
                    .alreadyExists, operation: "open", target: path,
                    message: "exists: give another file, or --force to replace an earlier recording")
            }
            guard st.st_mode & S_IFMT == S_IFREG, Self.isRecording(path) else {
                throw ShmError(
                    .alreadyExists, operation: "open", target: path,
                    message: "exists and is not a shmscope recording: --force replaces only recordings")
            }
            do { fd = try Sys.open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC) } catch let e {
                throw fail(e, "open")
            }
            // An earlier recording keeps its mode; ours are 0600.
            fchmod(fd, 0o600)
        } else {
            do { fd = try Sys.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) } catch let e {
                throw fail(e, "open")
            }
        }
        lastFlush = monotonicSeconds()
        try writeAll(RecordingCodec.magic)
    }

    /// Whether the file at `path` starts as a recording does.
    static func isRecording(_ path: String) -> Bool {
        guard let head = try? readFile(path, limit: 1 << 40).prefix(RecordingCodec.magic.count) else {
            return false
        }
        return Array(head) == RecordingCodec.magic
    }

    /// The most raw bytes in one block: a keyframe of a big segment is split over several, so a reader never
    /// needs more than this at once for a block (and refuses a bigger one as damage).
    static let maxBlock = 4 << 20

    public func append(_ entry: RecordingEntry) throws(ShmError) {
        pending += RecordingCodec.encode(entry)
        if pending.count >= 256 << 10 || monotonicSeconds() - lastFlush >= 1 { try flush() }
    }

    /// Compresses what is pending into blocks of at most `maxBlock` raw bytes and writes them.
    public func flush() throws(ShmError) {
        lastFlush = monotonicSeconds()
        let all = pending
        var start = 0
        while start < all.count {
            pending = Array(all[start..<min(all.count, start + Self.maxBlock)])
            try writeBlock()
            start += Self.maxBlock
        }
        pending = []
    }

    private func writeBlock() throws(ShmError) {
        guard !pending.isEmpty else { return }
        var bound = compressBound(uLong(pending.count))
        var block = [UInt8](repeating: 0, count: Int(bound) + 8)
        let status = block.withUnsafeMutableBufferPointer { out in
            pending.withUnsafeBufferPointer { input in
                compress2(out.baseAddress! + 8, &bound, input.baseAddress, uLong(input.count), 6)
            }
        }
        guard status == Z_OK else {
            throw ShmError(.unknown, operation: "compress", target: path, message: "zlib failed (\(status))")
        }
        var header: [UInt8] = []
        RecordingCodec.put(UInt64(bound), 4, into: &header)
        RecordingCodec.put(UInt64(pending.count), 4, into: &header)
        block.replaceSubrange(0..<8, with: header)
        rawBytes += pending.count
        pending = []
        try writeAll(Array(block[0..<(Int(bound) + 8)]))
    }

    /// Writes the end entry and the last block, and closes the file.
    public func finish(time: Double, reason: String) throws(ShmError) {
        guard fd >= 0 else { return }
        try append(.end(time: time, reason: reason))
        try flush()
        _ = try? Sys.fsync(fd)
        Sys.close(fd)
        fd = -1
    }

    private func writeAll(_ data: [UInt8]) throws(ShmError) {
        do throws(Errno) { try Sys.writeAll(fd, data) } catch {
            throw .fromFileErrno(error.code, operation: "write", path: path, context: "cannot write the recording")
        }
        fileBytes += data.count
    }

    deinit { if fd >= 0 { Sys.close(fd) } }
}

/// A recording read back: its entries, and whether it was cut short (no end entry, or a block or entry cut off).
public struct Recording: Sendable {
    public var entries: [RecordingEntry]
    /// Why the file ends early, when it does ("cut off after 12.3 s: the recorder did not finish").
    public var truncation: String?

    public init(entries: [RecordingEntry], truncation: String? = nil) {
        self.entries = entries
        self.truncation = truncation
    }

    public static func read(fromFile path: String) throws(ShmError) -> Recording {
        let data = try readFile(path)
        do { return try decode(data) } catch {
            throw ShmError(.unknown, operation: "read", target: path, message: error.message)
        }
    }

    public static func decode(_ data: [UInt8]) throws(RecordingFormatError) -> Recording {
        guard data.count >= RecordingCodec.magic.count,
            Array(data.prefix(RecordingCodec.magic.count)) == RecordingCodec.magic
        else { throw RecordingFormatError("not a shmscope recording (it does not start with SHMSCOPE-RECORDING 1)") }
        var stream: [UInt8] = []
        var at = RecordingCodec.magic.count
        var cut = false
        while at < data.count {
            guard at + 8 <= data.count else {
                cut = true
                break
            }
            var header = RecordingCodec.Reader(data: Array(data[at..<(at + 8)]))
            let compressed = Int((try? header.int(4)) ?? 0)
            let raw = Int((try? header.int(4)) ?? 0)
            guard at + 8 + compressed <= data.count else {
                cut = true
                break
            }
            guard raw <= RecordingWriter.maxBlock else {
                throw RecordingFormatError(
                    "block at byte \(at) claims \(raw) bytes, more than a recorder writes: the file is damaged")
            }
            var out = [UInt8](repeating: 0, count: raw)
            var outLength = uLong(raw)
            let status = out.withUnsafeMutableBufferPointer { o in
                data.withUnsafeBufferPointer { d in
                    uncompress(o.baseAddress, &outLength, d.baseAddress! + at + 8, uLong(compressed))
                }
            }
            guard status == Z_OK, Int(outLength) == raw else {
                throw RecordingFormatError(
                    "block at byte \(at) does not decompress (zlib \(status)): the file is damaged")
            }
            stream += out
            at += 8 + compressed
        }
        var reader = RecordingCodec.Reader(data: stream)
        var entries: [RecordingEntry] = []
        while true {
            let start = reader.at
            do {
                guard let entry = try RecordingCodec.decodeEntry(&reader) else { break }
                entries.append(entry)
            } catch let error as RecordingFormatError {
                throw error
            } catch {
                _ = start
                cut = true
                break
            }
        }
        guard case .header = entries.first else {
            throw RecordingFormatError("the recording has no header entry: the file is damaged")
        }
        var truncation: String?
        if cut || !entries.contains(where: { if case .end = $0 { true } else { false } }) {
            let span = (entries.last?.time ?? 0) - entries[0].time
            truncation = "cut off after \(formatSeconds(span)): the recorder did not finish it"
        }
        return Recording(entries: entries, truncation: truncation)
    }
}

/// `12.5 s`, `0.042 s`.
func formatSeconds(_ s: Double) -> String {
    let ms = Int((s * 1000).rounded())
    let frac = ms % 1000
    return "\(ms / 1000).\(String(repeating: "0", count: 3 - String(frac).count))\(frac) s"
}
