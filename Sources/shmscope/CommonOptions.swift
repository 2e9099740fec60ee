import ArgumentParser
import ShmCore

func parseSignedOrHex(_ text: String) -> Int32? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") {
        return UInt32(text.dropFirst(2), radix: 16).map { Int32(bitPattern: $0) }
    }
    return Int32(text)
}

/// Parses sizes and offsets: `4096`, `0x1000`, `4K`, `1M`, `2G` (powers of 1024).
func parseSize(_ text: String) -> Int? {
    var s = text.trimmingSpaces()
    var multiplier = 1
    if let last = s.last, "kKmMgG".contains(last) {
        multiplier = "kK".contains(last) ? 1 << 10 : "mM".contains(last) ? 1 << 20 : 1 << 30
        s.removeLast()
        if s.hasSuffix("i") || s.hasSuffix("I") { s.removeLast() }
    }
    let value: Int?
    if s.hasPrefix("0x") || s.hasPrefix("0X") { value = Int(s.dropFirst(2), radix: 16) } else { value = Int(s) }
    guard let v = value else { return nil }
    let (product, overflow) = v.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : product
}

extension String {
    func dropPrefixString(_ prefix: String) -> String? { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil }
}

/// `rw-r-----` for a mode.
func permissionString(_ mode: UInt32) -> String {
    let chars: [Character] = ["r", "w", "x"]
    var out = ""
    for shift in stride(from: 6, through: 0, by: -3) {
        for (i, c) in chars.enumerated() { out.append(mode >> UInt32(shift) & (4 >> UInt32(i)) != 0 ? c : "-") }
    }
    return out
}
