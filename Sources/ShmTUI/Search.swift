import ShmCore

/// What `/` looks for: text as typed, or bytes given in hex after `x` (`/x de ad`, `/x dead`).
package struct SearchQuery: Equatable, Sendable {
    package var bytes: [UInt8]
    package var display: String

    package init(bytes: [UInt8], display: String) {
        self.bytes = bytes
        self.display = display
    }

    /// nil when there is nothing to search for; hex after `x ` is read by `NumberParser.hexBytes`, so a typo
    /// there gets its message rather than a text search for the typo.
    package static func parse(_ text: String) throws(NumberSyntaxError) -> SearchQuery? {
        if text.hasPrefix("x "), text.count > 2 {
            let bytes = try NumberParser.hexBytes(String(text.dropFirst(2)))
            return SearchQuery(bytes: bytes, display: "x " + bytes.map(hexByte).joined(separator: " "))
        }
        guard !text.isEmpty else { return nil }
        return SearchQuery(bytes: Array(text.utf8), display: text)
    }
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

/// The go-to prompt's text: an offset (`123`, `0x7b`, `4K`), `$` (the last byte), a sum or difference of those
/// (`0x40+8`, `$-16`), or a move relative to the cursor (`+16`, `-16`). Every number goes through `NumberParser`.
package func parseGoto(_ text: String, cursor: Int, size: Int = 0) throws(NumberSyntaxError) -> Int {
    var s = Substring(text.trimmingSpaces())
    var base = 0
    if s.hasPrefix("+") || s.hasPrefix("-") {
        base = cursor
    } else {
        // The first term has no sign of its own.
        s = "+" + s
    }
    var total = base
    while !s.isEmpty {
        let sign = s.first == "-" ? -1 : 1
        s = s.dropFirst()
        let end = s.firstIndex(where: { $0 == "+" || $0 == "-" }) ?? s.endIndex
        let term = String(s[s.startIndex..<end]).trimmingSpaces()
        s = s[end...]
        let value = term == "$" ? max(0, size - 1) : try NumberParser.offset(term)
        let (sum, overflow) = total.addingReportingOverflow(sign * value)
        if overflow { return sign > 0 ? .max : .min }
        total = sum
    }
    return total
}
