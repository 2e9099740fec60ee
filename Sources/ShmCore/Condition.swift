/// A data breakpoint's condition: a small language on fields and byte ranges, learnt in a minute.
///
/// ```
/// state == 3                      a layout field (by path: `hdr.state`, `temps[2]`)
/// counter >= 1000 && flags != 0
/// u32@0x40 != 0                   TYPE@OFFSET: u8 i8 u16 i16 u32 i32 u64 i64 f32 f64, + le/be (default le)
/// f64be@16 > 1.5
/// changed(state) || changed(u16@8)
/// !(state == RUNNING)             an enum name, when the layout gives the field's enum
/// ```
/// Comparisons `== != < <= > >=` between values and literals (decimal, `0x` hex, negative, decimal fractions);
/// `changed(X)` is true when X's bytes differ from the previous evaluation's; `&&` binds tighter than `||`; `!`
/// negates; parentheses group. Integers compare exactly (a u64 is never rounded through a Double).
public indirect enum Condition: Equatable, Sendable {
    case compare(ConditionOperand, ComparisonOperator, ConditionOperand)
    case changed(ConditionOperand)
    case not(Condition)
    case and(Condition, Condition)
    case or(Condition, Condition)

    /// Every operand that reads the segment, in the order written (duplicates removed).
    public var operands: [ConditionOperand] {
        var seen: [ConditionOperand] = []
        func walk(_ c: Condition) {
            switch c {
            case .compare(let a, _, let b):
                for o in [a, b] where o.reads != nil && !seen.contains(o) { seen.append(o) }
            case .changed(let o): if !seen.contains(o) { seen.append(o) }
            case .not(let x): walk(x)
            case .and(let x, let y), .or(let x, let y):
                walk(x)
                walk(y)
            }
        }
        walk(self)
        return seen
    }
}

public enum ComparisonOperator: String, Equatable, Sendable, CaseIterable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// What a condition reads or compares with.
public enum ConditionOperand: Equatable, Sendable {
    /// Bytes of the segment: a field (`name` as written) or `TYPE@OFFSET`. `type` nil: a text or byte field that
    /// only `changed()` may use. `bits`: a bitfield's place in those bytes (its value and its changes are its own
    /// bits only, never its neighbours').
    case bytes(
        name: String, offset: Int, size: Int, type: ScalarType?, order: ByteOrder, enumCases: [String: Int64],
        bits: StructLayout.BitField? = nil)
    case integer(Int128)
    case float(Double)

    /// The byte range read, nil for a literal.
    public var reads: Range<Int>? {
        if case .bytes(_, let offset, let size, _, _, _, _) = self { return offset..<(offset + size) }
        return nil
    }

    public var name: String {
        switch self {
        case .bytes(let name, _, _, _, _, _, _): name
        case .integer(let v): String(v)
        case .float(let v): "\(v)"
        }
    }
}

/// A field a condition may name, as a layout describes it: where it is, how big, how to decode it.
public struct ConditionField: Equatable, Sendable {
    public var offset: Int
    public var size: Int
    /// nil for text and byte fields (only `changed()` applies).
    public var type: ScalarType?
    public var order: ByteOrder
    /// Enum constants by name, when the layout knows the field's enum.
    public var enumCases: [String: Int64]
    /// Where a bitfield's bits are in its bytes (`type` then says only whether it is signed).
    public var bits: StructLayout.BitField?

    public init(
        offset: Int, size: Int, type: ScalarType?, order: ByteOrder = .little, enumCases: [String: Int64] = [:],
        bits: StructLayout.BitField? = nil
    ) {
        self.offset = offset
        self.size = size
        self.type = type
        self.order = order
        self.enumCases = enumCases
        self.bits = bits
    }
}

/// How a condition finds a field by path (`state`, `hdr.state`, `items[2].x`). A layout provides it.
public protocol ConditionFieldLookup {
    func conditionField(_ path: String) -> ConditionField?
    /// Names to suggest when a path is unknown.
    var conditionFieldNames: [String] { get }
}

/// No layout: only `TYPE@OFFSET` operands.
public struct NoFields: ConditionFieldLookup {
    public init() {}
    public func conditionField(_ path: String) -> ConditionField? { nil }
    public var conditionFieldNames: [String] { [] }
}

extension StructLayout: ConditionFieldLookup {
    /// A member by the path a user names it by (`state`, `hdr.state`, `items[1].value`, `counter[2]`): numbers,
    /// `bool` (as 0/1), enums (their constants by name) and bitfields of those (their own bits only) compare; text,
    /// bytes and a whole array take `changed()` only.
    public func conditionField(_ path: String) -> ConditionField? {
        guard let m = member(named: path) else { return nil }
        let field = m.field
        guard m.element != nil || !field.isArray else {
            return ConditionField(offset: m.offset, size: m.size, type: nil)
        }
        if let bits = field.bits {
            // The type only says how the extracted bits read: signed or not.
            var enumCases: [String: Int64] = [:]
            switch field.type {
            case .scalar, .boolean: break
            case .enumeration(let e): enumCases = e.valuesByName
            default: return ConditionField(offset: m.offset, size: m.size, type: nil)
            }
            return ConditionField(
                offset: m.offset, size: m.size, type: field.type.isSigned ? .i64 : .u64, enumCases: enumCases,
                bits: bits)
        }
        switch field.type {
        case .scalar(let t, let order):
            return ConditionField(offset: m.offset, size: t.size, type: t, order: order)
        case .boolean:
            return ConditionField(offset: m.offset, size: 1, type: .u8)
        case .enumeration(let e):
            return ConditionField(
                offset: m.offset, size: e.storage.size, type: e.storage, order: e.order,
                enumCases: e.valuesByName)
        default:
            return ConditionField(offset: m.offset, size: m.size, type: nil)
        }
    }

    public var conditionFieldNames: [String] { fields.map(\.name) }
}

/// A condition that does not parse: the message and the column (1-based) where the problem starts.
public struct ConditionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var column: Int
    public var text: String

    public init(message: String, column: Int, text: String) {
        self.message = message
        self.column = column
        self.text = text
    }

    /// `column 15: unknown field `foo` in `state == 3 && foo > 1``: one line.
    public var description: String { "column \(column): \(message) in `\(text)`" }

    /// The condition with a caret under the column, for a prompt that has two lines to show it.
    public var caretLines: [String] { [text, String(repeating: " ", count: max(0, column - 1)) + "^"] }
}

extension Condition {
    public static func parse(_ text: String, fields: any ConditionFieldLookup = NoFields()) throws(ConditionError)
        -> Condition
    {
        var parser = ConditionParser(text: text, fields: fields)
        return try parser.parseAll()
    }
}

private struct ConditionToken: Equatable {
    enum Kind: Equatable {
        case word(String)  // identifier, path or TYPE@OFFSET
        case number(String)
        case symbol(String)
        case end
    }
    var kind: Kind
    var column: Int
}

private struct ConditionParser {
    let text: String
    let fields: any ConditionFieldLookup
    var tokens: [ConditionToken] = []
    var position = 0
    /// How deep `(` and `!` nest here, and how many comparisons and `changed()` were read: both bounded, so a
    /// hostile condition cannot overflow the stack of the parser, the evaluator or the tree's release.
    var depth = 0
    var terms = 0
    static let maximumDepth = 64
    static let maximumTerms = 1_000

    init(text: String, fields: any ConditionFieldLookup) {
        self.text = text
        self.fields = fields
    }

    func fail(_ message: String, at column: Int) -> ConditionError {
        ConditionError(message: message, column: column, text: text)
    }

    /// Whether the last token ends a value, so a following `-` is not a sign.
    var lastIsValue: Bool {
        guard let last = tokens.last else { return false }
        switch last.kind {
        case .word, .number: return true
        case .symbol(let s): return s == ")"
        case .end: return false
        }
    }

    mutating func tokenize() throws(ConditionError) {
        let chars = Array(text.unicodeScalars)
        var i = 0
        func isWordStart(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || c == "_" }
        func isWord(_ c: Unicode.Scalar) -> Bool {
            c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) || c == "." || c == "[" || c == "]"
        }
        while i < chars.count {
            let c = chars[i]
            let column = i + 1
            if c == " " || c == "\t" {
                i += 1
                continue
            }
            if isWordStart(c) {
                var j = i
                while j < chars.count, isWord(chars[j]) { j += 1 }
                // TYPE@OFFSET: the offset is a number token of its own kind, kept with the word.
                if j < chars.count, chars[j] == "@" {
                    j += 1
                    while j < chars.count, chars[j].properties.isAlphabetic || ("0"..."9").contains(chars[j]) {
                        j += 1
                    }
                }
                tokens.append(
                    ConditionToken(kind: .word(String(String.UnicodeScalarView(chars[i..<j]))), column: column))
                i = j
                continue
            }
            let startsNumber =
                ("0"..."9").contains(c)
                || ((c == "-" || c == "+") && i + 1 < chars.count && ("0"..."9").contains(chars[i + 1])
                    && !lastIsValue)
            if startsNumber {
                var j = i + 1
                while j < chars.count {
                    let d = chars[j]
                    let exponentSign =
                        (d == "-" || d == "+") && (chars[j - 1] == "e" || chars[j - 1] == "E")
                        && !String(String.UnicodeScalarView(chars[i..<j])).lowercased().contains("x")
                    guard d.properties.isAlphabetic || ("0"..."9").contains(d) || d == "." || d == "_" || exponentSign
                    else { break }
                    j += 1
                }
                tokens.append(
                    ConditionToken(kind: .number(String(String.UnicodeScalarView(chars[i..<j]))), column: column))
                i = j
                continue
            }
            let two = i + 1 < chars.count ? String(c) + String(chars[i + 1]) : ""
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
                tokens.append(ConditionToken(kind: .symbol(two), column: column))
                i += 2
                continue
            }
            if ["<", ">", "!", "(", ")"].contains(String(c)) {
                tokens.append(ConditionToken(kind: .symbol(String(c)), column: column))
                i += 1
                continue
            }
            if c == "=" { throw fail("`=` is not a comparison: write `==`", at: column) }
            if c == "&" || c == "|" { throw fail("write `\(c)\(c)` for \(c == "&" ? "and" : "or")", at: column) }
            throw fail("unexpected `\(c)`", at: column)
        }
        tokens.append(ConditionToken(kind: .end, column: chars.count + 1))
    }

    var current: ConditionToken { tokens[position] }

    mutating func parseAll() throws(ConditionError) -> Condition {
        try tokenize()
        if current.kind == .end {
            throw fail("empty condition: write e.g. `state == 3` or `changed(u32@0x40)`", at: 1)
        }
        let condition = try parseOr()
        if current.kind != .end { throw fail("unexpected \(describe(current))", at: current.column) }
        return condition
    }

    func describe(_ token: ConditionToken) -> String {
        switch token.kind {
        case .word(let w), .number(let w), .symbol(let w): "`\(w)`"
        case .end: "end"
        }
    }

    mutating func accept(_ symbol: String) -> Bool {
        if current.kind == .symbol(symbol) {
            position += 1
            return true
        }
        return false
    }

    mutating func parseOr() throws(ConditionError) -> Condition {
        var left = try parseAnd()
        while accept("||") { left = .or(left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws(ConditionError) -> Condition {
        var left = try parseUnary()
        while accept("&&") { left = .and(left, try parseUnary()) }
        return left
    }

    mutating func parseUnary() throws(ConditionError) -> Condition {
        let nests = current.kind == .symbol("!") || current.kind == .symbol("(")
        if nests {
            guard depth < Self.maximumDepth else {
                throw fail("`(` and `!` nest more than \(Self.maximumDepth) deep here", at: current.column)
            }
            depth += 1
        }
        defer { if nests { depth -= 1 } }
        if accept("!") { return .not(try parseUnary()) }
        if current.kind == .symbol("(") {
            let open = current.column
            position += 1
            let inner = try parseOr()
            guard accept(")") else {
                throw fail(
                    "`(` at column \(open) is not closed: expected `)`, found \(describe(current))", at: current.column)
            }
            return inner
        }
        terms += 1
        guard terms <= Self.maximumTerms else {
            throw fail("more than \(Self.maximumTerms) comparisons and changed() in one condition", at: current.column)
        }
        if current.kind == .word("changed") {
            position += 1
            guard accept("(") else { throw fail("write changed(FIELD) or changed(u32@0x40)", at: current.column) }
            let token = current
            let operand = try parseOperand(peer: nil)
            guard operand.reads != nil else {
                throw fail("changed() takes a field or TYPE@OFFSET, not a number", at: token.column)
            }
            guard accept(")") else { throw fail("expected `)` after changed(…", at: current.column) }
            return .changed(operand)
        }
        let leftToken = current
        let left = try parseOperand(peer: nil)
        guard let op = comparison() else {
            throw fail(
                "expected a comparison (== != < <= > >=) after \(describe(leftToken)), found \(describe(current))",
                at: current.column)
        }
        let rightToken = current
        let right = try parseOperand(peer: left)
        let resolvedLeft = left
        for (operand, token) in [(resolvedLeft, leftToken), (right, rightToken)] {
            if case .bytes(let name, _, _, nil, _, _, _) = operand {
                throw fail("`\(name)` is not a single number (text, bytes or a whole array): only changed(\(name)) applies to it", at: token.column)
            }
        }
        if resolvedLeft.reads == nil && right.reads == nil {
            throw fail("compares two numbers: name a field or TYPE@OFFSET", at: leftToken.column)
        }
        return .compare(resolvedLeft, op, right)
    }

    mutating func comparison() -> ComparisonOperator? {
        guard case .symbol(let s) = current.kind, let op = ComparisonOperator(rawValue: s) else { return nil }
        position += 1
        return op
    }

    /// One operand, throwing when it is not one; consumes it.
    mutating func parseOperand(peer: ConditionOperand?) throws(ConditionError) -> ConditionOperand {
        try parseOperandToken(peer: peer)
    }

    mutating func parseOperandToken(peer: ConditionOperand?) throws(ConditionError) -> ConditionOperand {
        let token = current
        switch token.kind {
        case .number(let text):
            position += 1
            return try number(text, column: token.column)
        case .word(let word):
            if let at = word.firstIndex(of: "@") {
                position += 1
                return try typed(String(word[..<at]), String(word[word.index(after: at)...]), column: token.column)
            }
            if let field = fields.conditionField(word) {
                position += 1
                return .bytes(
                    name: word, offset: field.offset, size: field.size, type: field.type, order: field.order,
                    enumCases: field.enumCases, bits: field.bits)
            }
            if case .bytes(let name, _, _, _, _, let cases, _) = peer, let value = cases[word] {
                position += 1
                _ = name
                return .integer(Int128(value))
            }
            if ScalarType(rawValue: word) != nil || ScalarType(rawValue: String(word.dropLast(2))) != nil {
                throw fail("`\(word)` needs an offset: write \(word)@0x40", at: token.column)
            }
            let known = fields.conditionFieldNames
            let hint =
                known.isEmpty
                ? " (no layout given: use TYPE@OFFSET like u32@0x40, or --layout)"
                : " (fields: \(known.prefix(8).joined(separator: ", "))\(known.count > 8 ? ", …" : ""))"
            throw fail("unknown field `\(word)`\(hint)", at: token.column)
        case .symbol, .end:
            throw fail("expected a field, TYPE@OFFSET or a number, found \(describe(token))", at: token.column)
        }
    }

    func number(_ text: String, column: Int) throws(ConditionError) -> ConditionOperand {
        let lower = text.lowercased()
        let isHex = lower.hasPrefix("0x") || lower.hasPrefix("-0x") || lower.hasPrefix("+0x")
        if !isHex && (lower.contains(".") || lower.contains("e") || lower == "inf") {
            guard let value = Double(text), value.isFinite else {
                throw fail("`\(text)` is not a number (e.g. 3, -2, 0x40, 1.5)", at: column)
            }
            return .float(value)
        }
        if text.hasPrefix("-") {
            do { return .integer(Int128(try NumberParser.integer(text, in: Int64.min...Int64.max))) } catch {
                throw fail(error.message, at: column)
            }
        }
        let unsigned = text.hasPrefix("+") ? String(text.dropFirst()) : text
        do { return .integer(Int128(try NumberParser.unsigned(unsigned, in: 0...UInt64.max))) } catch {
            throw fail(error.message, at: column)
        }
    }

    func typed(_ typeName: String, _ offsetText: String, column: Int) throws(ConditionError) -> ConditionOperand {
        guard let (type, order) = ScalarType.withByteOrder(typeName) else {
            throw fail(
                "unknown type `\(typeName)`: use u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 (+le/be), e.g. u32@0x40",
                at: column)
        }
        guard !offsetText.isEmpty else { throw fail("`\(typeName)@` needs an offset: \(typeName)@0x40", at: column) }
        let offset: Int
        do { offset = try NumberParser.offset(offsetText, label: "offset", in: 0...(1 << 40)) } catch {
            throw fail(error.message, at: column + typeName.count + 1)
        }
        return .bytes(
            name: "\(typeName)@\(offsetText)", offset: offset, size: type.size, type: type, order: order, enumCases: [:]
        )
    }
}

/// One operand's value at a hit, as printed: `state=3 (RUNNING)`, `u32@0x40=17`, `name=6e616d65…`.
public struct ConditionValue: Equatable, Sendable {
    public var name: String
    public var offset: Int
    public var text: String

    public var display: String { "\(name)=\(text)" }
}

/// Evaluates a condition again and again on the bytes it reads (nothing else is read): keeps the previous bytes
/// for `changed()`. The first evaluation sets that baseline, so `changed()` is false there.
public final class ConditionEvaluator {
    public let condition: Condition
    public let text: String
    /// The merged byte ranges the condition reads.
    public let ranges: [Range<Int>]
    private let operands: [ConditionOperand]
    private var previous: [Range<Int>: [UInt8]]?
    private var current: [Range<Int>: [UInt8]] = [:]

    public init(_ condition: Condition, text: String) {
        self.condition = condition
        self.text = text
        operands = condition.operands
        let reads = operands.compactMap(\.reads).sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for r in reads {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        ranges = merged
    }

    public convenience init(parsing text: String, fields: any ConditionFieldLookup = NoFields()) throws(ConditionError)
    {
        self.init(try Condition.parse(text, fields: fields), text: text)
    }

    /// Reads the condition's bytes with `read(offset, count)` (a range that cannot be read makes what uses it
    /// false) and evaluates. `changed()` compares with the bytes of the previous call.
    public func evaluate(read: (Int, Int) throws -> [UInt8]) -> Bool {
        var bytes: [Range<Int>: [UInt8]] = [:]
        for range in ranges {
            if let b = try? read(range.lowerBound, range.count), b.count == range.count { bytes[range] = b }
        }
        return evaluate(bytes: bytes)
    }

    /// The same on a whole copy of the segment (a replay's state).
    public func evaluate(segment: [UInt8]) -> Bool {
        evaluate { offset, count in
            guard offset + count <= segment.count else { throw ConditionReadError() }
            return Array(segment[offset..<(offset + count)])
        }
    }

    /// Forgets the previous bytes: the next evaluation is a new baseline.
    public func resetBaseline() { previous = nil }

    private struct ConditionReadError: Error {}

    private func evaluate(bytes: [Range<Int>: [UInt8]]) -> Bool {
        current = bytes
        let baseline = previous
        if previous == nil { previous = bytes }
        defer { previous = bytes }
        return eval(condition, baseline: baseline ?? bytes)
    }

    private func slice(_ r: Range<Int>, in bytes: [Range<Int>: [UInt8]]) -> [UInt8]? {
        guard
            let (range, data) = bytes.first(where: {
                $0.key.lowerBound <= r.lowerBound && r.upperBound <= $0.key.upperBound
            })
        else { return nil }
        return Array(data[(r.lowerBound - range.lowerBound)..<(r.upperBound - range.lowerBound)])
    }

    private func eval(_ c: Condition, baseline: [Range<Int>: [UInt8]]) -> Bool {
        switch c {
        case .not(let x): return !eval(x, baseline: baseline)
        case .and(let x, let y): return eval(x, baseline: baseline) && eval(y, baseline: baseline)
        case .or(let x, let y): return eval(x, baseline: baseline) || eval(y, baseline: baseline)
        case .changed(let o):
            guard let r = o.reads, let now = slice(r, in: current), let before = slice(r, in: baseline) else {
                return false
            }
            if case .bytes(_, _, _, _, _, _, let bits?) = o {
                // Only the field's own bits: a neighbour sharing its bytes changing is not this field changing.
                return bits.value(in: now, signed: false) != bits.value(in: before, signed: false)
            }
            return now != before
        case .compare(let a, let op, let b):
            guard let x = value(a), let y = value(b) else { return false }
            return Self.compare(x, op, y)
        }
    }

    private func value(_ o: ConditionOperand) -> ScalarValue? {
        switch o {
        case .integer(let v): return v < 0 ? .signed(Int64(v)) : .unsigned(UInt64(v))
        case .float(let v): return .float(v)
        case .bytes(_, let offset, let size, let type, let order, _, let bits):
            guard let type, let raw = slice(offset..<(offset + size), in: current) else { return nil }
            if let bits { return bits.value(in: raw, signed: type.isSigned) }
            return ValueInspector.decode(type, raw, order: order)
        }
    }

    static func compare(_ x: ScalarValue, _ op: ComparisonOperator, _ y: ScalarValue) -> Bool {
        func ordered<T: Comparable>(_ a: T, _ b: T) -> Bool {
            switch op {
            case .equal: a == b
            case .notEqual: a != b
            case .less: a < b
            case .lessOrEqual: a <= b
            case .greater: a > b
            case .greaterOrEqual: a >= b
            }
        }
        func integer(_ v: ScalarValue) -> Int128? {
            switch v {
            case .signed(let s): Int128(s)
            case .unsigned(let u): Int128(u)
            case .float: nil
            }
        }
        func double(_ v: ScalarValue) -> Double {
            switch v {
            case .signed(let s): Double(s)
            case .unsigned(let u): Double(u)
            case .float(let f): f
            }
        }
        if let a = integer(x), let b = integer(y) { return ordered(a, b) }
        let a = double(x)
        let b = double(y)
        // NaN is unequal to everything, as in C.
        if a.isNaN || b.isNaN { return op == .notEqual }
        return ordered(a, b)
    }

    /// The values of every operand as last read, for printing a hit.
    public func values() -> [ConditionValue] {
        operands.compactMap { o in
            guard case .bytes(let name, let offset, let size, let type, let order, let cases, let bits) = o else {
                return nil
            }
            guard let raw = slice(offset..<(offset + size), in: current) else {
                return ConditionValue(name: name, offset: offset, text: "(past the end)")
            }
            guard let type,
                let v = bits.map({ $0.value(in: raw, signed: type.isSigned) })
                    ?? ValueInspector.decode(type, raw, order: order)
            else {
                return ConditionValue(name: name, offset: offset, text: hexString(raw))
            }
            var text = v.description
            if let enumName = cases.first(where: { Int128($0.value) == Self.integerValue(v) })?.key {
                text += " (\(enumName))"
            }
            return ConditionValue(name: name, offset: offset, text: text)
        }
    }

    private static func integerValue(_ v: ScalarValue) -> Int128? {
        switch v {
        case .signed(let s): Int128(s)
        case .unsigned(let u): Int128(u)
        case .float: nil
        }
    }
}
