/// A layout file: one field per line, applied to a segment to decode it as a struct.
///
/// ```
/// # comments start with #
/// counter  u64le  @0       # NAME TYPE [@OFFSET]
/// name     char[32]        # no @: packed right after the previous field
/// temps    f32[8]
/// flags    u16be
/// raw      bytes[16] @0x100
/// ```
/// Types: `i8 u8 i16 u16 i32 u32 i64 u64 f32 f64`, with `le` or `be` appended (default `le`), optionally an array
/// `TYPE[N]`; `char[N]` (text up to the first NUL) and `bytes[N]` (hex). Offsets and lengths are read by
/// `NumberParser`: decimal, `0x…`, and offsets also with units (`@4K`).
public struct StructLayout: Equatable, Sendable {
    public enum FieldType: Equatable, Sendable {
        case scalar(ScalarType, ByteOrder)
        case chars
        case bytes
    }

    public struct Field: Equatable, Sendable {
        public var name: String
        public var type: FieldType
        /// Array length for scalars (nil: one value); byte count for `char[N]` and `bytes[N]`.
        public var count: Int?
        public var offset: Int
        /// The 1-based line it came from.
        public var line: Int

        public var size: Int {
            switch type {
            case .scalar(let t, _): t.size * (count ?? 1)
            case .chars, .bytes: count ?? 0
            }
        }

        /// The type as written in a layout file, normalised: `u64le`, `f32be[8]`, `char[32]`.
        public var typeName: String {
            switch type {
            case .scalar(let t, let order):
                let base = t.size == 1 ? t.rawValue : t.rawValue + order.rawValue
                return count.map { "\(base)[\($0)]" } ?? base
            case .chars: return "char[\(count ?? 0)]"
            case .bytes: return "bytes[\(count ?? 0)]"
            }
        }
    }

    public var fields: [Field]

    public init(fields: [Field]) { self.fields = fields }

    /// A problem in a layout file, naming its line.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Bounds that keep `offset + size` of every field far from overflow (a typo like `u64[99999999999999999]`
    /// would otherwise trap): 1 TiB of offsets, 2^32 elements.
    static let maxOffset = 1 << 40
    static let maxCount = 1 << 32

    public static func parse(_ text: String) throws(ParseError) -> StructLayout {
        var fields: [Field] = []
        var next = 0
        var names = Set<String>()
        // `\r\n` is one Character in Swift, so splitting on "\n" alone would make a CRLF file one line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (i, rawLine) in lines.enumerated() {
            let lineNumber = i + 1
            func fail(_ message: String) -> ParseError { ParseError(line: lineNumber, message: message) }
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let tokens = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if tokens.isEmpty { continue }
            guard tokens.count >= 2 else {
                throw fail("`\(tokens[0])` has no type: write NAME TYPE [@OFFSET], e.g. `counter u64le @0`")
            }
            guard tokens.count <= 3 else {
                throw fail("unexpected `\(tokens[3])`: write NAME TYPE [@OFFSET]")
            }
            let name = tokens[0]
            guard name.first.map({ $0.isLetter || $0 == "_" }) == true,
                name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })
            else {
                throw fail("`\(name)` is not a field name: use letters, digits, _ and . (starting with a letter)")
            }
            guard !names.contains(name) else { throw fail("field `\(name)` is defined twice") }
            let (type, count) = try parseType(tokens[1], fail: fail)
            var offset = next
            if tokens.count == 3 {
                let token = tokens[2]
                guard token.hasPrefix("@") else { throw fail("`\(token)` is not an offset: write @123 or @0x7b") }
                do { offset = try NumberParser.offset(String(token.dropFirst()), label: "@OFFSET", in: 0...maxOffset) } catch {
                    throw fail(error.message)
                }
            }
            // A field placed after the previous one can start past the bound an `@OFFSET` has (found by fuzzing:
            // `bytes[61] @1T` then `e f32le`); the same bound for both keeps every layout writable as `@OFFSET` lines.
            guard offset <= maxOffset else {
                throw fail("`\(name)` would start at \(offset), past the 1 TiB limit of offsets")
            }
            let field = Field(name: name, type: type, count: count, offset: offset, line: lineNumber)
            names.insert(name)
            fields.append(field)
            next = offset + field.size
        }
        return StructLayout(fields: fields)
    }

    private static func parseType(_ token: String, fail: (String) -> ParseError) throws(ParseError)
        -> (FieldType, Int?)
    {
        var base = token
        var count: Int?
        if let open = token.firstIndex(of: "[") {
            guard token.hasSuffix("]") else {
                throw fail("`\(token)`: an array length is a positive number in brackets, like f32[8]")
            }
            do {
                count = try NumberParser.count(
                    String(token[token.index(after: open)..<token.index(before: token.endIndex)]),
                    label: "`\(token)` length", in: 1...maxCount)
            } catch { throw fail(error.message) }
            base = String(token[..<open])
        }
        switch base {
        case "char":
            guard let count else { throw fail("char needs a length: char[32]") }
            return (.chars, count)
        case "bytes":
            guard let count else { throw fail("bytes needs a length: bytes[16]") }
            return (.bytes, count)
        default:
            var order = ByteOrder.little
            var scalarName = base
            if base.hasSuffix("le") || base.hasSuffix("be") {
                order = base.hasSuffix("be") ? .big : .little
                scalarName = String(base.dropLast(2))
            }
            guard let scalar = ScalarType(rawValue: scalarName) else {
                throw fail(
                    "unknown type `\(token)`: use i8 u8 i16 u16 i32 u32 i64 u64 f32 f64 (+le/be), char[N] or bytes[N]")
            }
            return (.scalar(scalar, order), count)
        }
    }

    /// One field's value in a segment.
    public struct DecodedField: Equatable, Sendable {
        public enum Value: Equatable, Sendable {
            case scalar(ScalarValue)
            case array([ScalarValue])
            case text(String)
            case bytes([UInt8])
            /// The field reaches past the end of the segment.
            case outOfRange
        }

        public var field: Field
        public var value: Value
        /// The field's raw bytes (empty when out of range), to tell whether it changed.
        public var raw: [UInt8]

        /// `1234`, `[1.5, 2.0]`, `"name"`, `de ad be ef`, `(past the end)`.
        public var display: String {
            switch value {
            case .scalar(let v): v.description
            case .array(let vs): "[" + vs.map(\.description).joined(separator: ", ") + "]"
            case .text(let s): ValueInspector.cString(Array(s.utf8)[...], limit: Int.max)
            case .bytes(let b): b.map(hexByte).joined(separator: " ")
            case .outOfRange: "(past the end)"
            }
        }
    }

    /// Decodes every field from `bytes`, which hold the segment from offset `base` on.
    public func decode(_ bytes: [UInt8], base: Int = 0) -> [DecodedField] {
        fields.map { field in
            let start = field.offset - base
            guard start >= 0, start + field.size <= bytes.count else {
                return DecodedField(field: field, value: .outOfRange, raw: [])
            }
            let raw = Array(bytes[start..<(start + field.size)])
            switch field.type {
            case .chars:
                let text = String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                return DecodedField(field: field, value: .text(text), raw: raw)
            case .bytes:
                return DecodedField(field: field, value: .bytes(raw), raw: raw)
            case .scalar(let t, let order):
                let values = (0..<(field.count ?? 1)).map { i in
                    ValueInspector.decode(t, raw[(i * t.size)..<((i + 1) * t.size)], order: order)!
                }
                return DecodedField(
                    field: field, value: field.count == nil ? .scalar(values[0]) : .array(values), raw: raw)
            }
        }
    }

    /// The bytes the layout covers: from the first field's offset to the end of the last one.
    public var span: Range<Int> {
        guard let lo = fields.map(\.offset).min(), let hi = fields.map({ $0.offset + $0.size }).max() else {
            return 0..<0
        }
        return lo..<hi
    }
}
