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
        /// `char16_t[N]`: UTF-16 text up to the first NUL unit; `count` is N (units, two bytes each).
        case utf16(ByteOrder)
        /// C `bool` / `_Bool`: one byte, shown as `true` or `false`.
        case boolean
        /// A C enum: stored as its integer type, shown by the name of its constant.
        case enumeration(EnumType)

        /// Whether its integer reads as signed (a signed scalar, an enum stored in a signed type).
        public var isSigned: Bool {
            switch self {
            case .scalar(let t, _): t.isSigned
            case .enumeration(let e): e.storage.isSigned
            default: false
            }
        }
    }

    /// A C enum's integer type and constants.
    public struct EnumType: Equatable, Sendable {
        public struct Constant: Equatable, Sendable {
            public var name: String
            public var value: Int64

            public init(name: String, value: Int64) {
                self.name = name
                self.value = value
            }
        }

        /// As C spells it: `enum state`, `State`.
        public var name: String
        public var storage: ScalarType
        public var order: ByteOrder
        public var constants: [Constant]

        /// The constants by name (the first wins where a name repeats), for conditions written with them.
        public var valuesByName: [String: Int64] {
            Dictionary(constants.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        }

        public init(name: String, storage: ScalarType, order: ByteOrder = .little, constants: [Constant]) {
            self.name = name
            self.storage = storage
            self.order = order
            self.constants = constants
        }

        /// The first constant with `value` (C allows several names for one value).
        public func name(of value: Int64) -> String? { constants.first { $0.value == value }?.name }
    }

    /// A bitfield's place: `width` bits starting `shift` bits above the least significant bit of the field's first
    /// byte, the bytes read as one little-endian number (how GCC and Clang lay bitfields out on little-endian
    /// machines; the header route takes both numbers from the compiler).
    public struct BitField: Hashable, Sendable {
        public var shift: Int
        public var width: Int

        public init(shift: Int, width: Int) {
            self.shift = shift
            self.width = width
        }

        /// The field's value from its bytes (`raw` starts at the field's first byte and spans `shift + width`
        /// bits), as GCC and Clang place bitfields on little-endian Linux: from the lowest bit up. Signed fields
        /// are sign-extended from their top bit.
        public func value(in raw: some Collection<UInt8>, signed: Bool) -> ScalarValue {
            var word: UInt64 = 0
            for (i, b) in raw.prefix(8).enumerated() { word |= UInt64(b) << (8 * UInt64(i)) }
            // Up to 64 bits starting at shift 0...7: a 9th byte can hold the top bits.
            var value = word >> UInt64(shift)
            if raw.count > 8, shift > 0, let ninth = raw.dropFirst(8).first { value |= UInt64(ninth) << UInt64(64 - shift) }
            let mask: UInt64 = width >= 64 ? .max : (1 << UInt64(width)) - 1
            value &= mask
            guard signed else { return .unsigned(value) }
            if width < 64, width > 0, value & (1 << UInt64(width - 1)) != 0 {
                return .signed(Int64(bitPattern: value | ~mask))
            }
            return .signed(Int64(bitPattern: value))
        }
    }

    public struct Field: Equatable, Sendable {
        /// The path a user names it by: `counter`, `hdr.state`, `items[3].x`.
        public var name: String
        public var type: FieldType
        /// Array length for numbers, bools and enums (nil: one value); byte count for `char[N]` and `bytes[N]`;
        /// units for UTF-16 text.
        public var count: Int?
        public var offset: Int
        /// The 1-based line it came from (a layout file), or 0 (a header).
        public var line: Int
        /// Set for a bitfield (`count` is then nil).
        public var bits: BitField?

        public init(
            name: String, type: FieldType, count: Int? = nil, offset: Int, line: Int = 0, bits: BitField? = nil
        ) {
            self.name = name
            self.type = type
            self.count = count
            self.offset = offset
            self.line = line
            self.bits = bits
        }

        /// Bytes of one element (a number, a bool, an enum), or of the whole text/bytes field.
        public var elementSize: Int {
            switch type {
            case .scalar(let t, _): t.size
            case .boolean: 1
            case .enumeration(let e): e.storage.size
            case .chars, .bytes: count ?? 0
            case .utf16: 2 * (count ?? 0)
            }
        }

        /// Whether the field is an array of separately named elements (`counter[2]`); text and bytes are one value.
        public var isArray: Bool {
            switch type {
            case .chars, .bytes, .utf16: false
            default: count != nil && bits == nil
            }
        }

        public var size: Int {
            if let bits { return (bits.shift + bits.width + 7) / 8 }
            return isArray ? elementSize * (count ?? 1) : elementSize
        }

        /// The type as written in a layout file, normalised: `u64le`, `f32be[8]`, `char[32]`; for the types only a
        /// header gives, as C would say it: `bool`, `enum state`, `char16[8]`, `u32:3` (a bitfield).
        public var typeName: String {
            var base: String
            switch type {
            case .scalar(let t, let order): base = t.size == 1 ? t.rawValue : t.rawValue + order.rawValue
            case .chars: return "char[\(count ?? 0)]"
            case .bytes: return "bytes[\(count ?? 0)]"
            case .utf16: return "char16[\(count ?? 0)]"
            case .boolean: base = "bool"
            case .enumeration(let e): base = e.name
            }
            if let bits { return "\(base):\(bits.width)" }
            return count.map { "\(base)[\($0)]" } ?? base
        }
    }

    public let fields: [Field]
    /// Field indices sorted by offset, and for each the highest end among it and those before (to find the fields
    /// covering a byte when unions overlap).
    private let byOffset: [Int]
    private let reach: [Int]
    /// How many members come before each field (members: every element of an array counts).
    private let memberStarts: [Int]
    private let fieldIndex: [String: Int]

    public init(fields: [Field]) {
        self.fields = fields
        byOffset = fields.indices.sorted { (fields[$0].offset, $0) < (fields[$1].offset, $1) }
        var reach: [Int] = []
        var furthest = Int.min
        for i in byOffset {
            furthest = max(furthest, fields[i].offset + fields[i].size)
            reach.append(furthest)
        }
        self.reach = reach
        var starts: [Int] = []
        var n = 0
        for f in fields {
            starts.append(n)
            n += f.isArray ? (f.count ?? 1) : 1
        }
        memberStarts = starts + [n]
        fieldIndex = Dictionary(fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public static func == (a: StructLayout, b: StructLayout) -> Bool { a.fields == b.fields }

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
            guard let (scalar, order) = ScalarType.withByteOrder(base) else {
                throw fail(
                    "unknown type `\(token)`: use i8 u8 i16 u16 i32 u32 i64 u64 f32 f64 (+le/be), char[N] or bytes[N]")
            }
            return (.scalar(scalar, order), count)
        }
    }

    /// One decoded value: what a field (or one element of an array field) holds.
    public enum Value: Equatable, Sendable {
        /// An integer, a float, or a bitfield's value.
        case number(ScalarValue)
        case boolean(Bool)
        /// An enum's value and the name of its constant (nil when no constant has that value).
        case enumCase(name: String?, raw: Int64)
        case text(String)
        case bytes([UInt8])
        /// The elements of an array field.
        case array([Value])
        /// The field reaches past the end of the segment (or of the bytes given).
        case outOfRange

        /// `1234`, `true`, `RUNNING`, `"name"`, `de ad be ef`, `[1.5, 2.0]`, `(past the end)`; an enum value no
        /// constant has is its number.
        public var display: String {
            switch self {
            case .number(let v): v.description
            case .boolean(let b): b ? "true" : "false"
            case .enumCase(let name, let raw): name ?? String(raw)
            case .text(let s): ValueInspector.cString(Array(s.utf8)[...], limit: Int.max)
            case .bytes(let b): b.map(hexByte).joined(separator: " ")
            case .array(let vs): "[" + vs.map(\.display).joined(separator: ", ") + "]"
            case .outOfRange: "(past the end)"
            }
        }

        /// The value as a number to compare: numbers as they are, a bool as 0 or 1, an enum as its integer; nil
        /// for text, bytes, arrays and out of range.
        public var numeric: ScalarValue? {
            switch self {
            case .number(let v): v
            case .boolean(let b): .unsigned(b ? 1 : 0)
            case .enumCase(_, let raw): .signed(raw)
            default: nil
            }
        }
    }

    /// One field's value in a segment.
    public struct DecodedField: Equatable, Sendable {
        public var field: Field
        public var value: Value
        /// The field's raw bytes (empty when out of range), to tell whether it changed.
        public var raw: [UInt8]

        public var display: String { value.display }
    }

    /// Decodes every field from `bytes`, which hold the segment from offset `base` on.
    public func decode(_ bytes: [UInt8], base: Int = 0) -> [DecodedField] {
        fields.map { field in
            let start = field.offset - base
            guard start >= 0, start + field.size <= bytes.count else {
                return DecodedField(field: field, value: .outOfRange, raw: [])
            }
            return DecodedField(
                field: field, value: Self.value(of: field, element: nil, in: bytes, base: base),
                raw: Array(bytes[start..<(start + field.size)]))
        }
    }

    /// The value of `field` (or of its element `element`) in `bytes`, which hold the segment from `base` on.
    static func value(of field: Field, element: Int?, in bytes: [UInt8], base: Int) -> Value {
        if field.isArray && element == nil {
            // The whole array is checked first: a huge array past the end must not build a value per element.
            let start = field.offset - base
            guard start >= 0, start + field.size <= bytes.count else { return .outOfRange }
            return .array((0..<(field.count ?? 0)).map { value(of: field, element: $0, in: bytes, base: base) })
        }
        let size = field.isArray ? field.elementSize : field.size
        let start = field.offset + (element ?? 0) * field.elementSize - base
        guard start >= 0, start + size <= bytes.count else { return .outOfRange }
        let raw = bytes[start..<(start + size)]
        if let bits = field.bits {
            let extracted = bits.value(in: raw, signed: field.type.isSigned)
            let number: Int64 =
                switch extracted {
                case .signed(let v): v
                case .unsigned(let v): Int64(bitPattern: v)
                case .float: 0
                }
            switch field.type {
            case .boolean: return .boolean(number != 0)
            case .enumeration(let e): return .enumCase(name: e.name(of: number), raw: number)
            default: return .number(extracted)
            }
        }
        switch field.type {
        case .chars:
            return .text(String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self))
        case .bytes:
            return .bytes(Array(raw))
        case .utf16(let order):
            var units: [UInt16] = []
            var i = raw.startIndex
            while i + 1 < raw.endIndex {
                let unit =
                    order == .little
                    ? UInt16(raw[i]) | UInt16(raw[i + 1]) << 8 : UInt16(raw[i]) << 8 | UInt16(raw[i + 1])
                if unit == 0 { break }
                units.append(unit)
                i += 2
            }
            return .text(String(decoding: units, as: UTF16.self))
        case .boolean:
            return .boolean(raw.first.map { $0 != 0 } ?? false)
        case .enumeration(let e):
            let v: Int64
            switch ValueInspector.decode(e.storage, raw, order: e.order)! {
            case .signed(let x): v = x
            case .unsigned(let x): v = Int64(bitPattern: x)
            case .float(let x): v = Int64(x)
            }
            return .enumCase(name: e.name(of: v), raw: v)
        case .scalar(let t, let order):
            return .number(ValueInspector.decode(t, raw, order: order)!)
        }
    }

    /// The bytes the layout covers: from the first field's offset to the end of the last one.
    public var span: Range<Int> {
        guard let lo = fields.map(\.offset).min(), let hi = fields.map({ $0.offset + $0.size }).max() else {
            return 0..<0
        }
        return lo..<hi
    }

    // MARK: Members: what a user names (the stable API for conditions, logs and the view)

    /// One value a user can name: a field, or one element of an array field (`counter[2]`). Text and byte fields
    /// are one member each. Paths: `counter`, `hdr.state`, `items[3].x`, `counter[2]`.
    public struct Member: Equatable, Sendable {
        public var path: String
        public var field: Field
        /// The element of an array field; nil for a whole field.
        public var element: Int?
        /// Its position among all members (declaration order), for alternating tints.
        public var ordinal: Int

        /// The bytes it occupies (a bitfield: the bytes holding its bits).
        public var range: Range<Int> {
            guard let element, field.isArray else { return field.offset..<(field.offset + field.size) }
            let start = field.offset + element * field.elementSize
            return start..<(start + field.elementSize)
        }
        public var offset: Int { range.lowerBound }
        public var size: Int { range.count }

        /// The member's type: `u32le`, `enum state`, `u8:3`, `char[16]`.
        public var typeName: String {
            guard element != nil, let count = field.count else { return field.typeName }
            let whole = field.typeName
            return whole.hasSuffix("[\(count)]") ? String(whole.dropLast("[\(count)]".count)) : whole
        }

        /// Its value in `bytes`, which hold the segment from offset `base` on.
        public func decode(_ bytes: [UInt8], base: Int = 0) -> Value {
            StructLayout.value(of: field, element: element, in: bytes, base: base)
        }
    }

    /// How many members there are (every element of an array field counts).
    public var memberCount: Int { memberStarts.last ?? 0 }

    /// The member at position `ordinal` (0 ..< memberCount), in declaration order.
    public func member(ordinal: Int) -> Member? {
        guard ordinal >= 0, ordinal < memberCount else { return nil }
        var lo = 0
        var hi = fields.count
        while lo + 1 < hi {
            let mid = (lo + hi) / 2
            if memberStarts[mid] <= ordinal { lo = mid } else { hi = mid }
        }
        let field = fields[lo]
        let element = ordinal - memberStarts[lo]
        return field.isArray
            ? Member(path: "\(field.name)[\(element)]", field: field, element: element, ordinal: ordinal)
            : Member(path: field.name, field: field, element: nil, ordinal: ordinal)
    }

    /// The member a user names: a field's path (`hdr.state`, `items[3].x`, a whole array `counter`) or an element
    /// of an array field (`counter[2]`). Nil when there is none; `closeNames` suggests what was meant.
    public func member(named path: String) -> Member? {
        let path = path.filter { $0 != " " }
        if let i = fieldIndex[path] {
            let f = fields[i]
            return Member(path: f.name, field: f, element: nil, ordinal: memberStarts[i])
        }
        guard path.hasSuffix("]"), let open = path.lastIndex(of: "[") else { return nil }
        let digits = path[path.index(after: open)..<path.index(before: path.endIndex)]
        guard let i = fieldIndex[String(path[..<open])], let element = Int(digits), fields[i].isArray,
            element >= 0, element < fields[i].count ?? 0
        else { return nil }
        return member(ordinal: memberStarts[i] + element)
    }

    /// The member whose bytes include `offset` (the first declared where unions overlap); nil in padding.
    public func member(covering offset: Int) -> Member? {
        ordinal(covering: offset).flatMap { member(ordinal: $0) }
    }

    /// The ordinal of `member(covering:)` without building its path: cheap enough for every byte on screen.
    public func ordinal(covering offset: Int) -> Int? {
        // The last field (by offset) starting at or before `offset`, then back while one before could reach it.
        var lo = 0
        var hi = byOffset.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if fields[byOffset[mid]].offset <= offset { lo = mid + 1 } else { hi = mid }
        }
        var best: Int?
        var k = lo - 1
        while k >= 0, reach[k] > offset {
            let i = byOffset[k]
            let f = fields[i]
            if offset < f.offset + f.size, f.size > 0, best.map({ i < $0 }) ?? true { best = i }
            k -= 1
        }
        guard let i = best else { return nil }
        let f = fields[i]
        guard f.isArray else { return memberStarts[i] }
        return memberStarts[i] + (offset - f.offset) / max(1, f.elementSize)
    }

    /// Every member with a byte in `range`, in declaration order (several where unions overlap or bitfields
    /// share bytes). Arrays contribute only their elements in the range.
    public func members(overlapping range: Range<Int>) -> [Member] {
        guard !range.isEmpty else { return [] }
        var found: [Member] = []
        for (i, f) in fields.enumerated() where f.size > 0 {
            let lo = max(range.lowerBound, f.offset)
            let hi = min(range.upperBound, f.offset + f.size)
            guard lo < hi else { continue }
            if f.isArray {
                let first = (lo - f.offset) / max(1, f.elementSize)
                let last = (hi - 1 - f.offset) / max(1, f.elementSize)
                for e in first...last { found.append(member(ordinal: memberStarts[i] + e)!) }
            } else {
                found.append(Member(path: f.name, field: f, element: nil, ordinal: memberStarts[i]))
            }
        }
        return found
    }

    /// The smallest field offset above `offset`, if any (where the padding after `offset` ends).
    public func nextFieldStart(after offset: Int) -> Int? {
        var lo = 0
        var hi = byOffset.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if fields[byOffset[mid]].offset <= offset { lo = mid + 1 } else { hi = mid }
        }
        return lo < byOffset.count ? fields[byOffset[lo]].offset : nil
    }

    /// Up to `limit` member paths that look like `name`: the same name in another case or nesting (`state` for
    /// `hdr.state`), then the fewest edits, for "no field `stat`; did you mean …".
    public func closeNames(to name: String, limit: Int = 5) -> [String] {
        let wanted = name.lowercased()
        let scored = fields.map { f -> (Int, String) in
            let n = f.name.lowercased()
            let last = n.split(separator: ".").last.map(String.init) ?? n
            if n == wanted || last == wanted || n.hasSuffix("." + wanted) { return (0, f.name) }
            if n.contains(wanted) { return (1, f.name) }
            return (2 + min(editDistance(n, wanted), editDistance(last, wanted)), f.name)
        }
        let threshold = 2 + max(2, wanted.count / 2)
        return scored.filter { $0.0 < threshold }.sorted { $0 < $1 }.prefix(limit).map(\.1)
    }
}

/// Levenshtein distance, for suggesting names.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var previous = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let current = row[j]
            row[j] = a[i - 1] == b[j - 1] ? previous : min(previous, row[j], row[j - 1]) + 1
            previous = current
        }
    }
    return row[b.count]
}
