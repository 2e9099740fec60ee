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
    /// Reused output buffer of the hot path, so no chunk pays for a fresh allocation.
    private var scratch: [UInt8] = []
    /// How much of `scratch` the last `format` filled.
    private var formatted = 0

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let printable: [UInt8] = (0..<256).map { $0 >= 0x20 && $0 < 0x7f ? UInt8($0) : UInt8(ascii: ".") }

    /// `startOffset` is the address of the first byte fed, printed as is (like `hexdump -C -s N`).
    public init(style: Style, squeeze: Bool = true, startOffset: Int = 0) {
        self.style = style
        self.squeeze = squeeze && style == .canonical
        self.offset = startOffset
        line.reserveCapacity(16)
    }

    /// Starts over at `startOffset` as if the line before it was `previousLine` (and, when `previousSqueezed`, was
    /// itself squeezed into a `*`). Whether a line is squeezed depends only on the line before it, so a dump can be
    /// cut into pieces formatted side by side and joined. Keeps the formatter's buffers.
    public mutating func resume(at startOffset: Int, previousLine: UnsafeRawBufferPointer?, previousSqueezed: Bool) {
        offset = startOffset
        line.removeAll(keepingCapacity: true)
        squeezing = previousSqueezed
        havePrevious = previousLine != nil && squeeze
        if let previousLine, squeeze {
            previous = Array(previousLine)
        }
        started = true
    }

    /// Takes over where `other` stopped (its offset and squeeze state), after formatting the piece that follows ours.
    public mutating func takeOver(from other: HexDumpFormatter) {
        offset = other.offset
        squeezing = other.squeezing
        havePrevious = other.havePrevious
        previous = other.previous
        line = other.line
        started = started || other.started
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
        let whole = (bytes.count - i) / 16
        if whole > 0 {
            emitFullLines(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + whole * 16)]), count: whole, into: &out)
            i += whole * 16
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
        emitFullLines(bytes, count: 1, into: &out)
    }

    /// The hot path: `count` whole lines formatted straight into `out`'s spare capacity with raw stores.
    private mutating func emitFullLines(_ bytes: UnsafeRawBufferPointer, count: Int, into out: inout [UInt8]) {
        if style != .canonical {
            for k in 0..<count {
                emitLine(UnsafeRawBufferPointer(rebasing: bytes[(k * 16)..<(k * 16 + 16)]), into: &out)
                offset += 16
            }
            return
        }
        let written = formatCanonicalLines(bytes, count: count)
        out.append(contentsOf: scratch[0..<written])
    }

    /// Formats `bytes` into the formatter's own buffer, where `withFormattedText` lends it out without a copy. For a
    /// dump cut into pieces formatted side by side: the text stays there until the next call.
    public mutating func format(_ bytes: UnsafeRawBufferPointer) {
        if style == .canonical, line.isEmpty, bytes.count % 16 == 0 {
            started = started || !bytes.isEmpty
            formatted = formatCanonicalLines(bytes, count: bytes.count / 16)
        } else {
            var text: [UInt8] = []
            feed(bytes, into: &text)
            scratch = text
            formatted = text.count
        }
    }

    /// The text of the last `format` call.
    public func withFormattedText<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try scratch.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<formatted])) }
    }

    /// The hot path: `count` whole canonical lines into `scratch` with raw stores; returns the bytes written.
    private mutating func formatCanonicalLines(_ bytes: UnsafeRawBufferPointer, count: Int) -> Int {
        let maxLine = 96
        var written = 0
        var off = offset
        var squeezingNow = squeezing
        var prevValid = havePrevious
        var prevLo: UInt64 = 0
        var prevHi: UInt64 = 0
        if prevValid && previous.count == 16 {
            previous.withUnsafeBytes {
                prevLo = $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
                prevHi = $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            }
        }
        let doSqueeze = squeeze
        let src = bytes.baseAddress!
        let pairs = Self.hexPairs
        let printable = Self.printable
        let hex = Self.hexDigits
        if scratch.count < count * maxLine { scratch = [UInt8](repeating: 0, count: count * maxLine) }
        scratch.withUnsafeMutableBufferPointer { dstBuf in
            let dst = dstBuf.baseAddress!
            pairs.withUnsafeBufferPointer { pairs in
                printable.withUnsafeBufferPointer { printable in
                    for k in 0..<count {
                        let line = src + k * 16
                        let lo = line.loadUnaligned(as: UInt64.self)
                        let hi = line.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                        if doSqueeze && prevValid && lo == prevLo && hi == prevHi {
                            if !squeezingNow {
                                dst[written] = UInt8(ascii: "*")
                                dst[written + 1] = UInt8(ascii: "\n")
                                written += 2
                                squeezingNow = true
                            }
                            off += 16
                            continue
                        }
                        squeezingNow = false
                        prevLo = lo
                        prevHi = hi
                        prevValid = true
                        var digits = 8
                        while digits < 16 && off >> (digits * 4) != 0 { digits += 1 }
                        var shift = (digits - 1) * 4
                        while shift >= 0 {
                            dst[written] = hex[(off >> shift) & 0xf]
                            written += 1
                            shift -= 4
                        }
                        dst[written] = 0x20
                        dst[written + 1] = 0x20
                        written += 2
                        for j in 0..<16 {
                            let pair = pairs[Int(line.load(fromByteOffset: j, as: UInt8.self))]
                            dst[written] = UInt8(truncatingIfNeeded: pair >> 8)
                            dst[written + 1] = UInt8(truncatingIfNeeded: pair)
                            dst[written + 2] = 0x20
                            written += 3
                            if j == 7 {
                                dst[written] = 0x20
                                written += 1
                            }
                        }
                        dst[written] = 0x20
                        dst[written + 1] = UInt8(ascii: "|")
                        written += 2
                        for j in 0..<16 { dst[written + j] = printable[Int(line.load(fromByteOffset: j, as: UInt8.self))] }
                        written += 16
                        dst[written] = UInt8(ascii: "|")
                        dst[written + 1] = UInt8(ascii: "\n")
                        written += 2
                        off += 16
                    }
                }
            }
        }
        offset = off
        squeezing = squeezingNow
        if doSqueeze && prevValid {
            if previous.count != 16 { previous = [UInt8](repeating: 0, count: 16) }
            previous.withUnsafeMutableBytes {
                $0.storeBytes(of: prevLo, toByteOffset: 0, as: UInt64.self)
                $0.storeBytes(of: prevHi, toByteOffset: 8, as: UInt64.self)
            }
            havePrevious = true
        }
        return written
    }

    /// "00".."ff" as two ASCII bytes packed high-first in a UInt16.
    private static let hexPairs: [UInt16] = (0..<256).map { b in
        UInt16(hexDigits[b >> 4]) << 8 | UInt16(hexDigits[b & 0xf])
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
