/// Text that came from a user or from the system (keys, file names, segment names, file contents) can carry
/// control characters; echoed raw, an escape sequence would reach the terminal and could rewrite it. Every line
/// shmscope prints for people goes through here: C0 controls, DEL and C1 controls become `\xNN` (`\u{NN}` for
/// C1), so the line stays one line and shows what was typed.
extension String {
    /// This text with control characters escaped; `keepingNewlines` keeps `\n` and `\t` (multi-line help text).
    public func terminalSafe(keepingNewlines: Bool = false) -> String {
        // Fast path: most lines have nothing to escape.
        if !utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == 0xc2 }) { return self }
        var out = ""
        out.reserveCapacity(utf8.count + 8)
        for scalar in unicodeScalars {
            let v = scalar.value
            if keepingNewlines && (v == 0x0a || v == 0x09) {
                out.unicodeScalars.append(scalar)
            } else if v < 0x20 || v == 0x7f {
                let hex = String(v, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" : "") + hex
            } else if (0x80...0x9f).contains(v) {
                out += "\\u{" + String(v, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
