/// Streams bytes as text in the formats people already parse: `hexdump -C` (byte for byte, squeezing repeated
/// lines into `*` and ending with the final offset) and `xxd`. Feed chunks of any size, then `finish`.
///
/// Built for speed, as hexyl is: lookup tables, whole lines assembled in one buffer, no per-byte formatting calls.
public struct HexDumpFormatter {
    public enum Style: String, Sendable, CaseIterable {
        case canonical
        case xxd
    }

    public let style: Style
    public let squeeze: Bool
    private var offset: Int
    private var line: [UInt8] = []
    private var previous: [UInt8] = []
    private var havePrevious = false
    private var squeezing = false
    private var started = false

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let printable: [UInt8] = (0..<256).map { $0 >= 0x20 && $0 < 0x7f ? UInt8($0) : UInt8(ascii: ".") }

    /// `startOffset` is the address of the first byte fed, printed as is (like `hexdump -C -s N`).
    public init(style: Style, squeeze: Bool = true, startOffset: Int = 0) {
        self.style = style
        self.squeeze = squeeze && style == .canonical
        self.offset = startOffset
        line.reserveCapacity(16)
    }

    /// Formats `bytes`, appending the text to `out`.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        started = true
        var i = 0
        // Complete a line left over from the previous chunk.
        if !line.isEmpty {
            let take = min(16 - line.count, bytes.count)
            line.append(contentsOf: bytes[0..<take])
            i = take
            if line.count == 16 {
                let full = line
                full.withUnsafeBytes { emitFull($0, into: &out) }
                line.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - i >= 16 {
            emitFull(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + 16)]), into: &out)
            i += 16
        }
        if i < bytes.count { line.append(contentsOf: bytes[i...]) }
    }

    public mutating func feed(_ bytes: [UInt8], into out: inout [UInt8]) {
        bytes.withUnsafeBytes { feed($0, into: &out) }
    }

    /// Writes the last partial line and, for `hexdump -C`, the final offset line.
    public mutating func finish(into out: inout [UInt8]) {
        if !line.isEmpty {
            let partial = line
            partial.withUnsafeBytes { emitLine($0, into: &out) }
            offset += partial.count
            line.removeAll()
        }
        if style == .canonical && started {
            appendOffset(offset, into: &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    private mutating func emitFull(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        if squeeze && havePrevious && previous.elementsEqual(bytes) {
            if !squeezing {
                out.append(UInt8(ascii: "*"))
                out.append(UInt8(ascii: "\n"))
                squeezing = true
            }
            offset += 16
            return
        }
        squeezing = false
        if squeeze {
            if previous.count != 16 { previous = [UInt8](repeating: 0, count: 16) }
            previous.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
            havePrevious = true
        }
        emitLine(bytes, into: &out)
        offset += 16
    }

    private func appendOffset(_ value: Int, into out: inout [UInt8]) {
        var digits = 8
        while digits < 16 && value >> (digits * 4) != 0 { digits += 1 }
        var shift = (digits - 1) * 4
        while shift >= 0 {
            out.append(Self.hexDigits[(value >> shift) & 0xf])
            shift -= 4
        }
    }

    private func emitLine(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let hex = Self.hexDigits
        let space = UInt8(ascii: " ")
        appendOffset(offset, into: &out)
        switch style {
        case .canonical:
            out.append(space)
            out.append(space)
            for k in 0..<16 {
                if k < bytes.count {
                    let b = Int(bytes[k])
                    out.append(hex[b >> 4])
                    out.append(hex[b & 0xf])
                    out.append(space)
                } else {
                    out.append(space)
                    out.append(space)
                    out.append(space)
                }
                if k == 7 { out.append(space) }
            }
            out.append(space)
            out.append(UInt8(ascii: "|"))
            for b in bytes { out.append(Self.printable[Int(b)]) }
            out.append(UInt8(ascii: "|"))
        case .xxd:
            out.append(UInt8(ascii: ":"))
            out.append(space)
            var width = 0
            for k in 0..<bytes.count {
                let b = Int(bytes[k])
                out.append(hex[b >> 4])
                out.append(hex[b & 0xf])
                width += 2
                if k & 1 == 1 && k != 15 {
                    out.append(space)
                    width += 1
                }
            }
            while width < 39 {
                out.append(space)
                width += 1
            }
            out.append(space)
            out.append(space)
            for b in bytes { out.append(Self.printable[Int(b)]) }
        }
        out.append(UInt8(ascii: "\n"))
    }
}
