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
    public func write(toFile path: String) throws(ShmError) {
        let fd: Int32
        do { fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "open", target: path, context: "cannot write the snapshot")
        }
        defer { Sys.close(fd) }
        let data = encoded()
        var done = 0
        while done < data.count {
            let written = data.withUnsafeBytes { all in
                Result { () throws(Errno) in try Sys.write(fd, UnsafeRawBufferPointer(rebasing: all[done...])) }
            }
            switch written {
            case .success(let n): done += n
            case .failure(let e):
                throw ShmError.fromErrno(e.code, operation: "write", target: path, context: "cannot write the snapshot")
            }
        }
    }

    public static func read(fromFile path: String) throws(ShmError) -> Snapshot {
        let data: [UInt8]
        do { data = try readWholeFile(path) } catch let e {
            throw ShmError.fromErrno(e.code, operation: "open", target: path, context: "cannot read the snapshot")
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
public func readFile(_ path: String) throws(ShmError) -> [UInt8] {
    do { return try readWholeFile(path) } catch let e {
        throw ShmError.fromErrno(e.code, operation: "open", target: path, context: "cannot read \(path)")
    }
}

/// Reads a whole file with plain syscalls.
func readWholeFile(_ path: String) throws(Errno) -> [UInt8] {
    let fd = try Sys.open(path, O_RDONLY | O_CLOEXEC)
    defer { Sys.close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = try chunk.withUnsafeMutableBytes { buffer in
            Result { () throws(Errno) in try Sys.read(fd, into: buffer) }
        }.get()
        if n == 0 { return out }
        out += chunk[0..<n]
    }
}

/// `2026-11-27T01:30:00.123Z` (UTC, milliseconds). Times outside years 1...9999 (or not finite) are shown as the
/// nearest end of that range: a snapshot file's header is user input, and `time_t(Double)` traps on infinity.
public func iso8601(_ seconds: Double) -> String {
    let clamped = seconds.isNaN ? 0 : min(max(seconds, earliestISO8601), latestISO8601)
    var t = time_t(clamped.rounded(.down))
    var tm = Glibc.tm()
    gmtime_r(&t, &tm)
    let millis = Int(((clamped - clamped.rounded(.down)) * 1000).rounded(.down))
    func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
        + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
}

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the years `iso8601` prints with four digits.
private let earliestISO8601: Double = -62_135_596_800
private let latestISO8601: Double = 253_402_300_799.9995  // .999 itself is .99899… as a Double

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
