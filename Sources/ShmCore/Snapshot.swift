import Glibc

/// A copy of a whole segment at one moment, to diff against later, and its file format.
///
/// The file is a short text header, a blank line, then the raw bytes:
/// ```
/// SHMSCOPE-SNAPSHOT 1
/// target qt:demo
/// size 4096
/// time 2026-11-27T01:30:00.123Z
///
/// <size raw bytes>
/// ```
/// Readers ignore header lines they do not know, so fields can be added without a new version.
public struct Snapshot: Equatable, Sendable {
    public static let magic = "SHMSCOPE-SNAPSHOT 1"

    public var target: String
    /// Seconds since the epoch (UTC) when it was taken.
    public var time: Double
    public var bytes: [UInt8]

    public init(target: String, time: Double, bytes: [UInt8]) {
        self.target = target
        self.time = time
        self.bytes = bytes
    }

    public struct FormatError: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public func encoded() -> [UInt8] {
        Self.header(target: target, size: bytes.count, time: time) + bytes
    }

    /// The header text, blank line included.
    static func header(target: String, size: Int, time: Double) -> [UInt8] {
        Array("\(magic)\ntarget \(target)\nsize \(size)\ntime \(iso8601(time))\n\n".utf8)
    }

    public static func decode(_ data: [UInt8]) throws(FormatError) -> Snapshot {
        let header = try parseHeader(data)
        guard data.count - header.end == header.size else {
            throw FormatError(
                message:
                    "snapshot is cut short or padded: header says \(header.size) bytes, file holds \(data.count - header.end)")
        }
        return Snapshot(target: header.target, time: header.time, bytes: Array(data[header.end...]))
    }

    /// A snapshot file's header: what it names, and where its bytes start (`end`).
    public struct Header: Equatable, Sendable {
        public var target: String
        public var time: Double
        public var size: Int
        public var end: Int
    }

    /// Reads the header from the start of a file (at least its first 4 KiB, or all of a shorter file).
    static func parseHeader(_ data: [UInt8]) throws(FormatError) -> Header {
        // The header ends at the first empty line; it is small, so look at most 4 KiB in.
        var lines: [String] = []
        var position = 0
        var lineStart = 0
        var headerEnd: Int?
        while position < min(data.count, 4096) {
            if data[position] == 10 {
                let line = String(decoding: data[lineStart..<position], as: UTF8.self)
                if line.isEmpty {
                    headerEnd = position + 1
                    break
                }
                lines.append(line)
                lineStart = position + 1
            }
            position += 1
        }
        guard lines.first == magic, let headerEnd else {
            throw FormatError(message: "not a shmscope snapshot (it must start with `\(magic)`)")
        }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let sizeText = fields["size"], let size = Int(sizeText), size >= 0 else {
            throw FormatError(message: "snapshot header has no valid `size` line")
        }
        return Header(
            target: fields["target"] ?? "", time: fields["time"].flatMap(parseISO8601) ?? 0, size: size, end: headerEnd)
    }

    /// Writes the snapshot to `path` (created 0600, or truncated).
    /// Writes the snapshot to `path` (see `writeNewFile`): 0600, complete or not at all, never through a symlink,
    /// never over an existing file unless `replace`.
    public func write(toFile path: String, replace: Bool = false) throws(ShmError) {
        let data = encoded()
        try Self.writeNewFile(path, replace: replace) { fd throws(ShmError) in
            do throws(Errno) { try Sys.writeAll(fd, data) } catch {
                throw .fromFileErrno(error.code, operation: "write", path: path, context: "cannot write the snapshot")
            }
        }
    }

    /// Creates `path` as a new file, mode 0600: `body` writes a temporary file next to it (O_EXCL|O_NOFOLLOW),
    /// which is fsynced and renamed into place, so a reader never sees half a snapshot and a failure leaves no file.
    /// Never follows a symlink; anything at `path` (a file, a link) is replaced only when `replace` is true, and
    /// then atomically (`rename`); otherwise `renameat2(RENAME_NOREPLACE)` refuses it with EEXIST.
    static func writeNewFile(_ path: String, replace: Bool, _ body: (Int32) throws(ShmError) -> Void)
        throws(ShmError)
    {
        func fail(_ e: Errno, _ op: String) -> ShmError {
            .fromFileErrno(e.code, operation: op, path: path, context: "cannot write the snapshot")
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        if name.isEmpty || name == "." || name == ".." {
            throw ShmError(
                .keyError, operation: "open", target: path, message: "cannot write the snapshot: give a file name")
        }
        if !replace, (try? Sys.lstat(path)) != nil { throw fail(Errno(code: EEXIST), "open") }
        let temporary = directory + ".\(name).shmscope-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd: Int32
        do { fd = try Sys.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) } catch let e {
            throw fail(e, "open")
        }
        do throws(ShmError) {
            try body(fd)
            do { try Sys.fsync(fd) } catch let e { throw fail(e, "fsync") }
            Sys.close(fd)
        } catch let error {
            Sys.close(fd)
            Sys.unlink(temporary)
            throw error
        }
        do {
            if replace { try Sys.rename(temporary, path) } else { try Sys.renameNoReplace(temporary, path) }
        } catch let e {
            Sys.unlink(temporary)
            throw fail(e, "rename")
        }
    }

    public static func read(fromFile path: String) throws(ShmError) -> Snapshot {
        let data: [UInt8]
        // A snapshot is as big as its segment, so there is no size limit; a device or FIFO (`/dev/zero`) would
        // never end, so only regular files are read.
        if let st = try? Sys.stat(path), st.st_mode & S_IFMT != S_IFREG, st.st_mode & S_IFMT != S_IFDIR {
            throw ShmError(
                .keyError, operation: "open", target: path,
                message: "cannot read the snapshot: \(path) is not a regular file")
        }
        do { data = try readWholeFile(path) } catch let e {
            throw ShmError.fromFileErrno(e.code, operation: "open", path: path, context: "cannot read the snapshot")
        }
        do { return try decode(data) } catch {
            throw ShmError(.unknown, operation: "read", target: path, message: error.message)
        }
    }

    /// The runs where `new` differs from `old`, over the bytes both have.
    public static func differences(_ old: [UInt8], _ new: [UInt8]) -> [ByteChange] {
        var runs: [ByteChange] = []
        let n = min(old.count, new.count)
        var i = 0
        while i < n {
            if old[i] == new[i] {
                i += 1
                continue
            }
            var j = i + 1
            while j < n && old[j] != new[j] { j += 1 }
            runs.append(ByteChange(offset: i, old: Array(old[i..<j]), new: Array(new[i..<j])))
            i = j
        }
        return runs
    }

    /// The first differing offset after `from` (forward) or before it (backward), wrapping around once.
    public static func nextDifference(_ old: [UInt8], _ new: [UInt8], from: Int, forward: Bool) -> Int? {
        let n = min(old.count, new.count)
        guard n > 0 else { return nil }
        for step in 1...n {
            let i = ((from + (forward ? step : -step)) % n + n) % n
            if old[i] != new[i] { return i }
        }
        return nil
    }
}

/// Reads a whole file (a snapshot or a layout file).
/// Reads a whole file the user named; `limit` bounds what a mistake (`--layout /dev/zero`) can cost.
public func readFile(_ path: String, limit: Int = Int.max) throws(ShmError) -> [UInt8] {
    do { return try readWholeFile(path, limit: limit) } catch let e {
        if e.code == EFBIG {
            throw ShmError(
                .invalidSize, operation: "read", target: path,
                message: "cannot read \(path): it is larger than \(limit) bytes; is it the right file?")
        }
        throw ShmError.fromFileErrno(e.code, operation: "open", path: path, context: "cannot read \(path)")
    }
}

/// Reads a whole file with plain syscalls.
func readWholeFile(_ path: String, limit: Int = Int.max) throws(Errno) -> [UInt8] {
    let fd = try Sys.open(path, O_RDONLY | O_CLOEXEC)
    defer { Sys.close(fd) }
    return try readWholeFile(descriptor: fd, limit: limit)
}

/// Reads an open file to its end (EFBIG past `limit` bytes).
func readWholeFile(descriptor fd: Int32, limit: Int = Int.max) throws(Errno) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = try chunk.withUnsafeMutableBytes { buffer in
            Result { () throws(Errno) in try Sys.read(fd, into: buffer) }
        }.get()
        if n == 0 { return out }
        if n > limit - out.count { throw Errno(code: EFBIG) }
        out += chunk[0..<n]
    }
}

/// `2026-11-27T01:30:00.123Z` (UTC, milliseconds, rounded to the nearest so that reading it back is within half a
/// millisecond). Times outside years 1...9999 (or not finite) are shown as the nearest end of that range: a
/// snapshot file's header is user input, and `time_t(Double)` traps on infinity.
public func iso8601(_ seconds: Double) -> String {
    let total = seconds.isNaN ? 0 : min(max((seconds * 1000).rounded(), earliestISO8601Millis), latestISO8601Millis)
    let millisSinceEpoch = Int64(total)
    var t = time_t(millisSinceEpoch.floorDivided(by: 1000))
    let millis = millisSinceEpoch - Int64(t) * 1000
    var tm = Glibc.tm()
    gmtime_r(&t, &tm)
    func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(Int64(tm.tm_year) + 1900, 4))-\(pad(Int64(tm.tm_mon) + 1, 2))-\(pad(Int64(tm.tm_mday), 2))T"
        + "\(pad(Int64(tm.tm_hour), 2)):\(pad(Int64(tm.tm_min), 2)):\(pad(Int64(tm.tm_sec), 2)).\(pad(millis, 3))Z"
}

/// 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in milliseconds: the years `iso8601` prints with four
/// digits. Both are exact as Doubles (below 2^53).
private let earliestISO8601Millis: Double = -62_135_596_800_000
private let latestISO8601Millis: Double = 253_402_300_799_999

extension Int64 {
    /// Division rounding toward minus infinity (times before 1970 are negative).
    fileprivate func floorDivided(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

/// The inverse of `iso8601`: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of decimal digits, an optional `Z`.
/// Anything else (an exponent in the fraction, a month 13, a year past 9999) is nil, so what it returns can be
/// printed again.
func parseISO8601(_ text: String) -> Double? {
    var body = Substring(text)
    if body.hasSuffix("Z") { body = body.dropLast() }
    var fraction = 0.0
    if let dot = body.firstIndex(of: ".") {
        let digits = body[body.index(after: dot)...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = Double("0." + digits)
        else { return nil }
        fraction = value
        body = body[..<dot]
    }
    let parts = body.split(separator: "-", omittingEmptySubsequences: false).flatMap {
        $0.split(separator: "T", omittingEmptySubsequences: false)
    }.flatMap { $0.split(separator: ":", omittingEmptySubsequences: false) }
    guard parts.count == 6,
        parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 4 && $0.utf8.allSatisfy { (48...57).contains($0) } })
    else { return nil }
    let v = parts.map { Int32($0)! }
    guard (1...9999).contains(v[0]), (1...12).contains(v[1]), (1...31).contains(v[2]), (0...23).contains(v[3]),
        (0...59).contains(v[4]), (0...60).contains(v[5])
    else { return nil }
    var tm = Glibc.tm()
    tm.tm_year = v[0] - 1900
    tm.tm_mon = v[1] - 1
    tm.tm_mday = v[2]
    tm.tm_hour = v[3]
    tm.tm_min = v[4]
    tm.tm_sec = v[5]
    return Double(timegm(&tm)) + fraction
}

/// Wall-clock seconds since the epoch.
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
