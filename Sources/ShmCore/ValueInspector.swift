/// The fixed-size numeric types the inspector and layouts know.
public enum ScalarType: String, Sendable, CaseIterable {
    case u8, i8, u16, i16, u32, i32, u64, i64, f32, f64

    public var size: Int {
        switch self {
        case .u8, .i8: 1
        case .u16, .i16: 2
        case .u32, .i32, .f32: 4
        case .u64, .i64, .f64: 8
        }
    }

    public var isSigned: Bool { [.i8, .i16, .i32, .i64].contains(self) }
    public var isFloat: Bool { self == .f32 || self == .f64 }

    /// `u32`, `u32le`, `f64be` → the type and its byte order (little-endian unless `be`); nil for anything else.
    /// One spelling for layouts, conditions and the inspector's `=`.
    public static func withByteOrder(_ name: String) -> (ScalarType, ByteOrder)? {
        var base = name
        var order = ByteOrder.little
        if name.hasSuffix("le") || name.hasSuffix("be") {
            order = name.hasSuffix("be") ? .big : .little
            base = String(name.dropLast(2))
        }
        return ScalarType(rawValue: base).map { ($0, order) }
    }
}

public enum ByteOrder: String, Sendable {
    case little = "le"
    case big = "be"
}

/// A decoded number, kept exact (a u64 does not fit a Double).
public enum ScalarValue: Equatable, Sendable, CustomStringConvertible {
    case signed(Int64)
    case unsigned(UInt64)
    case float(Double)

    /// Integers in decimal; floats in Swift's shortest round-trip form (`1.5`, `nan`, `inf`).
    public var description: String {
        switch self {
        case .signed(let v): String(v)
        case .unsigned(let v): String(v)
        case .float(let v): v.isNaN ? "nan" : v.isInfinite ? (v < 0 ? "-inf" : "inf") : "\(v)"
        }
    }
}

/// Why a typed value could not be encoded.
public struct ValueEncodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Decodes the bytes at a cursor as every numeric type in both byte orders, and encodes typed values back into
/// bytes. Pure functions, shared by the TUI inspector pane, layouts and their tests.
public enum ValueInspector {
    /// The `type.size` bytes at the start of `bytes` as `type`, or nil when there are fewer.
    public static func decode(_ type: ScalarType, _ bytes: ArraySlice<UInt8>, order: ByteOrder) -> ScalarValue? {
        guard bytes.count >= type.size else { return nil }
        var raw: UInt64 = 0
        let slice = bytes.prefix(type.size)
        if order == .little {
            for (i, b) in slice.enumerated() { raw |= UInt64(b) << (8 * UInt64(i)) }
        } else {
            for b in slice { raw = raw << 8 | UInt64(b) }
        }
        switch type {
        case .u8, .u16, .u32, .u64: return .unsigned(raw)
        case .i8: return .signed(Int64(Int8(truncatingIfNeeded: raw)))
        case .i16: return .signed(Int64(Int16(truncatingIfNeeded: raw)))
        case .i32: return .signed(Int64(Int32(truncatingIfNeeded: raw)))
        case .i64: return .signed(Int64(bitPattern: raw))
        case .f32: return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw))))
        case .f64: return .float(Double(bitPattern: raw))
        }
    }

    public static func decode(_ type: ScalarType, _ bytes: [UInt8], order: ByteOrder) -> ScalarValue? {
        decode(type, bytes[...], order: order)
    }

    /// `text` as `type` in `order`: integers as `NumberParser` reads them (decimal or `0x…`, a leading `-` for
    /// signed types), range-checked; floats as Swift parses them (`1.5`, `-2e3`, `nan`, `inf`).
    public static func encode(_ type: ScalarType, _ text: String, order: ByteOrder) throws(ValueEncodingError)
        -> [UInt8]
    {
        let t = text.trimmingSpaces()
        var raw: UInt64
        if type.isFloat {
            // NaN and infinities are values a float field can hold, so they are accepted here (and only here).
            guard let d = Double(t) else {
                throw ValueEncodingError("\(type.rawValue): `\(t)` is not a number (e.g. 1.5, -2e3, nan, inf)")
            }
            raw = type == .f32 ? UInt64(Float(d).bitPattern) : d.bitPattern
        } else {
            let bits = type.size * 8
            let isHex = t.hasPrefix("0x") || t.hasPrefix("0X")
            do {
                if type.isSigned && !isHex {
                    let minimum = bits == 64 ? Int64.min : -(Int64(1) << (bits - 1))
                    let maximum = bits == 64 ? Int64.max : (Int64(1) << (bits - 1)) - 1
                    raw = UInt64(bitPattern: try NumberParser.integer(t, label: type.rawValue, in: minimum...maximum))
                } else {
                    // Hex is a bit pattern, so 0xff is accepted for i8 (-1).
                    let maximum: UInt64 = bits == 64 ? UInt64.max : (UInt64(1) << bits) - 1
                    raw = try NumberParser.unsigned(t, label: type.rawValue, in: 0...maximum)
                }
            } catch { throw ValueEncodingError(error.message) }
        }
        var out = [UInt8](repeating: 0, count: type.size)
        for i in 0..<type.size {
            let byte = UInt8(truncatingIfNeeded: raw >> (8 * UInt64(i)))
            out[order == .little ? i : type.size - 1 - i] = byte
        }
        return out
    }

    /// Up to four bytes as bits, most significant first, grouped by byte: `01101000 01100101`.
    public static func binary(_ bytes: ArraySlice<UInt8>, limit: Int = 4) -> String {
        bytes.prefix(limit).map { b in
            let s = String(b, radix: 2)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined(separator: " ")
    }

    /// The bytes up to the first NUL (at most `limit`) as UTF-8, with control characters and invalid UTF-8
    /// escaped, in quotes: `"hello\n"`. A string cut at `limit` ends with `…`.
    public static func cString(_ bytes: ArraySlice<UInt8>, limit: Int = 64) -> String {
        let body = bytes.prefix(limit).prefix(while: { $0 != 0 })
        var out = "\""
        for scalar in String(decoding: body, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{FFFD}": out += "\\ufffd"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\x" + hexByte(UInt8(scalar.value))
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        if body.count == limit && bytes.count > limit && bytes[bytes.startIndex + limit] != 0 { out += "…" }
        return out
    }

    /// One inspector row per type: name, little-endian and big-endian values ("-" when too few bytes).
    public struct Row: Equatable, Sendable {
        public var type: ScalarType
        public var little: String
        public var big: String

        public init(type: ScalarType, little: String, big: String) {
            self.type = type
            self.little = little
            self.big = big
        }
    }

    public static func rows(_ bytes: ArraySlice<UInt8>) -> [Row] {
        ScalarType.allCases.map { type in
            Row(
                type: type, little: decode(type, bytes, order: .little)?.description ?? "-",
                big: decode(type, bytes, order: .big)?.description ?? "-")
        }
    }
}
