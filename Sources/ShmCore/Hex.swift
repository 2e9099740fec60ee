/// Hex text for bytes and numbers, shared by every module (formatting, logs, the TUI). The byte table is made once,
/// so drawing a hex row or printing a change never builds digit arrays per byte.
private let byteHex: [String] = (0..<256).map { b in
    let digits = Array("0123456789abcdef")
    return String([digits[b >> 4], digits[b & 0xf]])
}

/// Two lower-case hex digits: `0a`.
package func hexByte(_ b: UInt8) -> String { byteHex[Int(b)] }

/// Lower-case hex of bytes, no separators: `68656c6c6f`.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xf)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Lower-case hex of `value`, zero-padded to `width` digits.
package func hexPadded(_ value: Int, width: Int) -> String {
    let s = String(value, radix: 16)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

extension String {
    /// Without leading and trailing spaces, tabs (and a trailing CR).
    package func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
