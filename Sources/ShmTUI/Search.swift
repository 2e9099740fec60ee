import Glibc
import ShmCore

/// What `/` looks for: text as typed, or bytes given in hex after `x` (`/x de ad`, `/x dead`). Text with `\c` in
/// it (anywhere, as in vim) matches in any case (ASCII letters); `\C` forces exact case, which is the default.
package struct SearchQuery: Equatable, Sendable {
    package var bytes: [UInt8]
    package var display: String
    /// ASCII letters match in either case.
    package var ignoreCase: Bool

    package init(bytes: [UInt8], display: String, ignoreCase: Bool = false) {
        self.bytes = bytes
        self.display = display
        self.ignoreCase = ignoreCase
    }

    /// The bytes to look for, folded to lower case when the case is ignored (the haystack is folded the same way).
    package var needle: [UInt8] { ignoreCase ? asciiLowercased(bytes) : bytes }

    /// nil when there is nothing to search for; hex after `x ` is read by `NumberParser.hexBytes`, so a typo
    /// there gets its message rather than a text search for the typo.
    package static func parse(_ text: String) throws(NumberSyntaxError) -> SearchQuery? {
        if text.hasPrefix("x "), text.count > 2 {
            let bytes = try NumberParser.hexBytes(String(text.dropFirst(2)))
            return SearchQuery(bytes: bytes, display: "x " + bytes.map(hexByte).joined(separator: " "))
        }
        var text = text
        var ignoreCase = false
        if text.contains("\\c") || text.contains("\\C") {
            ignoreCase = text.contains("\\c") && !text.contains("\\C")
            text = text.replacing("\\c", with: "").replacing("\\C", with: "")
        }
        guard !text.isEmpty else { return nil }
        return SearchQuery(
            bytes: Array(text.utf8), display: ignoreCase ? "\(text) (any case)" : text, ignoreCase: ignoreCase)
    }
}

/// ASCII `A`-`Z` as `a`-`z`; every other byte unchanged (a case-insensitive search folds both sides with it).
package func asciiLowercased(_ bytes: [UInt8]) -> [UInt8] {
    bytes.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 }
}

/// Finds `needle` in `haystack` starting at `from`, going forward or backward, wrapping round once.
/// Returns the offset and whether it wrapped.
package func findBytes(_ needle: [UInt8], in haystack: [UInt8], from: Int, forward: Bool) -> (
    offset: Int, wrapped: Bool
)? {
    let n = needle.count
    let last = haystack.count - n
    guard n > 0, last >= 0 else { return nil }
    func matches(_ i: Int) -> Bool {
        var k = 0
        while k < n, haystack[i + k] == needle[k] { k += 1 }
        return k == n
    }
    let start = min(max(0, from), last + 1)
    if forward {
        for i in stride(from: start, through: last, by: 1) where matches(i) { return (i, false) }
        for i in stride(from: 0, to: min(start, last + 1), by: 1) where matches(i) { return (i, true) }
    } else {
        let s = min(from, last)
        if s >= 0 { for i in stride(from: s, through: 0, by: -1) where matches(i) { return (i, false) } }
        for i in stride(from: last, to: max(s, -1), by: -1) where matches(i) { return (i, true) }
    }
    return nil
}

/// The same search over a segment read in chunks (`read(offset, count)`), never copied whole: a big sparse
/// segment is searched with its holes read as zeros (never faulted in) and at most one chunk in memory.
/// Chunks overlap by `needle.count - 1` bytes, so a match across a chunk boundary is found.
package func findBytes(
    _ needle: [UInt8], size: Int, from: Int, forward: Bool, chunkSize: Int = 1 << 20,
    read: (_ offset: Int, _ count: Int) throws -> [UInt8]
) rethrows -> (offset: Int, wrapped: Bool)? {
    let n = needle.count
    let last = size - n
    guard n > 0, last >= 0, chunkSize > 0 else { return nil }
    // Match positions in one chunk (`positions` of them), first or last: memchr finds candidates for the first
    // byte (C speed even in debug builds), memcmp checks them.
    func scanChunk(_ hay: UnsafeRawBufferPointer, positions: Int, wantLast: Bool) -> Int? {
        needle.withUnsafeBytes { ndl in
            var found: Int?
            var i = 0
            while i < positions, let at = memchr(hay.baseAddress! + i, Int32(needle[0]), positions - i) {
                let k = UnsafeRawPointer(at) - hay.baseAddress!
                if memcmp(hay.baseAddress! + k, ndl.baseAddress!, n) == 0 {
                    found = k
                    if !wantLast { break }
                }
                i = k + 1
            }
            return found
        }
    }
    // The first match at a position in lo...hi.
    func first(_ lo: Int, _ hi: Int) throws -> Int? {
        var p = lo
        while p <= hi {
            let positions = min(chunkSize, hi - p + 1)
            let bytes = try read(p, positions + n - 1)
            if let k = bytes.withUnsafeBytes({ scanChunk($0, positions: positions, wantLast: false) }) { return p + k }
            p += positions
        }
        return nil
    }
    // The last match at a position in lo...hi.
    func lastMatch(_ lo: Int, _ hi: Int) throws -> Int? {
        var q = hi
        while q >= lo {
            let positions = min(chunkSize, q - lo + 1)
            let p = q - positions + 1
            let bytes = try read(p, positions + n - 1)
            if let k = bytes.withUnsafeBytes({ scanChunk($0, positions: positions, wantLast: true) }) { return p + k }
            q = p - 1
        }
        return nil
    }
    if forward {
        let start = min(max(0, from), last + 1)
        if let i = try first(start, last) { return (i, false) }
        if let i = try first(0, min(start, last + 1) - 1) { return (i, true) }
    } else {
        let s = min(from, last)
        if s >= 0, let i = try lastMatch(0, s) { return (i, false) }
        if let i = try lastMatch(max(s, -1) + 1, last) { return (i, true) }
    }
    return nil
}

/// The go-to prompt's text (`123`, `0x7b`, `4K`, `$`, `0x40+8`, `$-16`, `+16`, `-16`): `NumberParser.offsetExpression`
/// with the cursor and the segment's last byte.
package func parseGoto(_ text: String, cursor: Int, size: Int = 0) throws(NumberSyntaxError) -> Int {
    try NumberParser.offsetExpression(text, cursor: cursor, end: max(0, size - 1))
}
