/// A number the user typed that is malformed or out of range. `message` is the whole one-line text, already
/// naming what was typed and what is allowed, so every caller shows it as it is.
public struct NumberSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// The one parser for numbers a user types: every command-line option, every TUI prompt and layout files.
///
/// Every function takes the text as typed, an optional `label` (the option or field it is for, e.g.
/// `--interval`) and the range the caller allows, and returns an exact value or throws `NumberSyntaxError` in one
/// of these forms, so the wording is the same wherever a number is typed:
///
///     --interval: `abc` is not a duration (e.g. 250ms, 2s)
///     --interval: 5 ms is outside 10...10000 ms
///     --count: 0 is less than 1                      (the range has no upper bound)
///     --size: `9999999999G` is too large             (it does not fit 64 bits)
///
/// Integers are decimal or `0x` hex with an optional sign; nothing is rounded, so a fraction (`1.5K`), a space
/// inside the number, `nan` or `inf` is refused. Only durations take a decimal fraction (`0.3`, `1.5s`), because
/// `--timeout 0.3` was always accepted. Spaces around the text are ignored.
public enum NumberParser {
    /// The unit of a bare number in a duration option: each option keeps the unit it always had.
    public enum DurationUnit: Sendable {
        case milliseconds, seconds

        var nanoseconds: UInt64 { self == .milliseconds ? 1_000_000 : 1_000_000_000 }
        var symbol: String { self == .milliseconds ? "ms" : "s" }
    }

    // MARK: Byte offsets and sizes

    /// A byte offset: `4096`, `0x1000`, `4K`, `1MiB`, `2GB`, `1T` (powers of 1024).
    public static func offset(_ text: String, label: String? = nil, in range: ClosedRange<Int> = 0...Int.max)
        throws(NumberSyntaxError) -> Int
    {
        try byteQuantity(text, noun: "an offset", label: label, in: range)
    }

    /// An offset people type to go somewhere (the TUI's `:` and go-to prompt): an offset as `offset` takes it
    /// (`123`, `0x7b`, `4K`), `$` (`end`, the last byte), a sum or difference of those (`0x40+8`, `$-16`, `4K - 1K`),
    /// or a move from `cursor` (`+16`, `-16`). The result may lie outside the segment (the caller clamps and says
    /// so); a sum past `Int`'s range saturates.
    public static func offsetExpression(_ text: String, cursor: Int, end: Int) throws(NumberSyntaxError) -> Int {
        var s = Substring(text.trimmingSpaces())
        var total = 0
        if s.hasPrefix("+") || s.hasPrefix("-") {
            total = cursor
        } else {
            // The first term has no sign of its own.
            s = "+" + s
        }
        while !s.isEmpty {
            let sign = s.first == "-" ? -1 : 1
            s = s.dropFirst()
            let stop = s.firstIndex(where: { $0 == "+" || $0 == "-" }) ?? s.endIndex
            let term = String(s[s.startIndex..<stop]).trimmingSpaces()
            s = s[stop...]
            let value = term == "$" ? end : try offset(term)
            let (sum, overflow) = total.addingReportingOverflow(sign * value)
            if overflow { return sign > 0 ? .max : .min }
            total = sum
        }
        return total
    }

    /// A size in bytes, same syntax as `offset`.
    public static func size(_ text: String, label: String? = nil, in range: ClosedRange<Int> = 0...Int.max)
        throws(NumberSyntaxError) -> Int
    {
        try byteQuantity(text, noun: "a size", label: label, in: range)
    }

    /// `OFF:LEN`, each part as `offset` takes it (`0x100:64`, `4K:1K`); the length is at least 1.
    public static func range(_ text: String, label: String? = nil) throws(NumberSyntaxError) -> (
        offset: Int, length: Int
    ) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw notA("a range OFF:LEN", examples: "0x100:64, 4K:1K", text: text, label: label)
        }
        let offset = try byteQuantity(
            String(parts[0]), noun: "an offset", label: sublabel(label, "offset"), in: 0...Int.max)
        let length = try byteQuantity(
            String(parts[1]), noun: "a length", label: sublabel(label, "length"), in: 1...Int.max)
        return (offset, length)
    }

    // MARK: Plain integers

    /// A whole number without units (a count, an index, an id): `10`, `0x10`.
    public static func count(_ text: String, label: String? = nil, in range: ClosedRange<Int> = 0...Int.max)
        throws(NumberSyntaxError) -> Int
    {
        Int(
            try signed(
                text, noun: "a whole number", examples: "1, 10, 0x10", label: label,
                in: Int64(range.lowerBound)...Int64(range.upperBound)))
    }

    /// A signed integer: `-2`, `1234`, `0x7b`.
    public static func integer(_ text: String, label: String? = nil, in range: ClosedRange<Int64>)
        throws(NumberSyntaxError) -> Int64
    {
        try signed(text, noun: "an integer", examples: "-2, 1234, 0x7b", label: label, in: range)
    }

    /// An unsigned integer up to 64 bits: `1234`, `0xffffffffffffffff`.
    public static func unsigned(_ text: String, label: String? = nil, in range: ClosedRange<UInt64>)
        throws(NumberSyntaxError) -> UInt64
    {
        let unbounded = range.upperBound == .max
        func outOfRange(_ shown: String) -> NumberSyntaxError {
            outside(
                shown, label: label, range: "\(range.lowerBound)", "\(range.upperBound)", unit: "", unbounded: unbounded
            )
        }
        switch magnitude(Substring(text.trimmingSpaces())) {
        case .malformed: throw notA("an integer", examples: "1234, 0x7b", text: text, label: label)
        case .overflow(let negative):
            throw unbounded && !negative ? tooLarge(text, label: label) : outOfRange("`\(text.trimmingSpaces())`")
        case .value(let negative, let v):
            guard !negative || v == 0 else { throw outOfRange("-\(v)") }
            guard range.contains(v) else { throw outOfRange("\(v)") }
            return v
        }
    }

    /// A byte value: `255`, `0xff`.
    public static func byte(_ text: String, label: String? = nil) throws(NumberSyntaxError) -> UInt8 {
        UInt8(try signed(text, noun: "a byte", examples: "255, 0xff", label: label, in: 0...255))
    }

    /// A System V IPC key as `ipcs` prints it or as a C program would write it: `0x5100c078`, `1359003768`,
    /// `-1`. Anything from `Int32.min` to `UInt32.max` is taken as its 32-bit pattern.
    public static func key32(_ text: String, label: String? = nil) throws(NumberSyntaxError) -> Int32 {
        Int32(
            truncatingIfNeeded: try signed(
                text, noun: "a key", examples: "0x5100c078, 1359003768", label: label,
                in: Int64(Int32.min)...Int64(UInt32.max)))
    }

    /// Permissions in octal, as chmod takes them: `600`, `0640`.
    public static func permissions(_ text: String, label: String? = nil) throws(NumberSyntaxError) -> UInt32 {
        let t = text.trimmingSpaces()
        guard !t.isEmpty, t.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }) else {
            throw notA("an octal mode", examples: "600, 0640", text: text, label: label)
        }
        let digits = t.drop(while: { $0 == "0" })
        guard digits.count <= 3, let value = UInt32(digits.isEmpty ? "0" : String(digits), radix: 8) else {
            throw outside(t, label: label, range: "0", "777", unit: "", unbounded: false)
        }
        return value
    }

    // MARK: Durations

    /// A duration: `250ms`, `2s`, `1.5s`, `5m`, `1h`; a bare number is in `defaultUnit`. Range errors are given
    /// in `defaultUnit`: `--interval: 5 ms is outside 10...10000 ms`.
    public static func duration(
        _ text: String, label: String? = nil, defaultUnit: DurationUnit, in range: ClosedRange<Duration>
    ) throws(NumberSyntaxError) -> Duration {
        let lower = nanoseconds(range.lowerBound)
        let upper = nanoseconds(range.upperBound)
        func rangeError(_ shown: String) -> NumberSyntaxError {
            outside(
                shown, label: label, range: format(lower, defaultUnit), format(upper, defaultUnit),
                unit: " " + defaultUnit.symbol, unbounded: false)
        }
        let value: Int64
        switch parseDuration(text.trimmingSpaces(), defaultUnit: defaultUnit) {
        case .malformed: throw notA("a duration", examples: "250ms, 2s", text: text, label: label)
        case .overflow: throw rangeError("`\(text)`")
        case .value(let v): value = v
        }
        guard value >= lower && value <= upper else {
            throw rangeError(format(value, defaultUnit) + " " + defaultUnit.symbol)
        }
        return .nanoseconds(value)
    }

    /// A refresh interval in whole milliseconds (a bare number is milliseconds): `100`, `250ms`, `1s`.
    public static func interval(_ text: String, label: String? = nil, in range: ClosedRange<Int>)
        throws(NumberSyntaxError) -> Int
    {
        let d = try duration(
            text, label: label, defaultUnit: .milliseconds,
            in: .milliseconds(range.lowerBound) ... .milliseconds(range.upperBound))
        return Int(nanoseconds(d) / 1_000_000)
    }

    /// `d` in `unit` as a short decimal without trailing zeros: `0.3` s, `250` ms; for messages.
    public static func format(_ d: Duration, _ unit: DurationUnit) -> String { format(nanoseconds(d), unit) }

    // MARK: Hex bytes

    /// Bytes in hex: `de ad be ef`, `deadbeef`, `0xde 0xad`, `de:ad`, `de,ad`. Digits between separators run
    /// together (`dea d` is `de ad`), but a `0x` group stands for whole bytes of its own.
    public static func hexBytes(_ text: String, label: String? = nil) throws(NumberSyntaxError) -> [UInt8] {
        func bad() -> NumberSyntaxError {
            notA("hex bytes", examples: "de ad be ef, deadbeef, 0xde 0xad", text: text, label: label)
        }
        var bytes: [UInt8] = []
        var pending: UInt8?  // a high nibble waiting for its low nibble
        for token in text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ":" || $0 == "\t" }) {
            var digits = Substring(token)
            if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
                digits = digits.dropFirst(2)
                guard pending == nil, !digits.isEmpty, digits.utf8.count % 2 == 0 else { throw bad() }
            }
            for c in digits.utf8 {
                guard let d = digitValue(c), d < 16 else { throw bad() }
                if let high = pending {
                    bytes.append(high << 4 | UInt8(d))
                    pending = nil
                } else {
                    pending = UInt8(d)
                }
            }
        }
        guard pending == nil, !bytes.isEmpty else { throw bad() }
        return bytes
    }

    // MARK: Internals

    private static func byteQuantity(_ text: String, noun: String, label: String?, in range: ClosedRange<Int>)
        throws(NumberSyntaxError) -> Int
    {
        let t = text.trimmingSpaces()
        let (number, shift) = splitSizeUnit(Substring(t))
        return Int(
            try signed(
                magnitude(number), multiplier: 1 << shift, text: text, noun: noun, examples: "4096, 0x1000, 4K",
                label: label, in: Int64(range.lowerBound)...Int64(range.upperBound)))
    }

    /// Strips a K/M/G/T suffix (optionally with `i` and/or `B`, any case) or a lone `B`, returning the shift.
    /// A lone `B` after hex digits is a digit (`0x1b`), not a unit.
    private static func splitSizeUnit(_ s: Substring) -> (Substring, Int) {
        let lower = asciiLowercased(s)
        for (letter, shift) in [("k", 10), ("m", 20), ("g", 30), ("t", 40)] {
            for suffix in [letter + "ib", letter + "b", letter + "i", letter] where lower.hasSuffix(suffix) {
                return (s.dropLast(suffix.count), shift)
            }
        }
        if lower.hasSuffix("b") && !lower.contains("x") { return (s.dropLast(), 0) }
        return (s, 0)
    }

    private static func signed(
        _ text: String, noun: String, examples: String, label: String?, in range: ClosedRange<Int64>
    ) throws(NumberSyntaxError) -> Int64 {
        try signed(
            magnitude(Substring(text.trimmingSpaces())), multiplier: 1, text: text, noun: noun, examples: examples,
            label: label, in: range)
    }

    /// Sign and magnitude (times a unit) as an Int64 within `range`; past 64 bits is out of range too, shown
    /// as typed since there is no value to show.
    private static func signed(
        _ parsed: Magnitude, multiplier: UInt64, text: String, noun: String, examples: String, label: String?,
        in range: ClosedRange<Int64>
    ) throws(NumberSyntaxError) -> Int64 {
        let unbounded = range.upperBound == .max
        func outOfRange(_ shown: String) -> NumberSyntaxError {
            outside(
                shown, label: label, range: "\(range.lowerBound)", "\(range.upperBound)", unit: "", unbounded: unbounded
            )
        }
        func overflow(_ negative: Bool) -> NumberSyntaxError {
            unbounded && !negative ? tooLarge(text, label: label) : outOfRange("`\(text.trimmingSpaces())`")
        }
        switch parsed {
        case .malformed: throw notA(noun, examples: examples, text: text, label: label)
        case .overflow(let negative): throw overflow(negative)
        case .value(let negative, let v):
            let (product, o) = v.multipliedReportingOverflow(by: multiplier)
            // Int64.min's magnitude is one more than Int64.max's.
            guard !o, product <= (negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)) else {
                throw overflow(negative)
            }
            let value = negative ? Int64(truncatingIfNeeded: 0 &- product) : Int64(product)
            guard range.contains(value) else { throw outOfRange("\(value)") }
            return value
        }
    }

    private static func tooLarge(_ text: String, label: String?) -> NumberSyntaxError {
        NumberSyntaxError("\(prefix(label))`\(text.trimmingSpaces())` is too large")
    }

    private static func prefix(_ label: String?) -> String { label.map { "\($0): " } ?? "" }

    private static func sublabel(_ label: String?, _ part: String) -> String {
        label.map { "\($0) \(part)" } ?? part
    }

    private static func notA(_ noun: String, examples: String, text: String, label: String?) -> NumberSyntaxError {
        let shown = text.trimmingSpaces().isEmpty ? "nothing" : "`\(text.trimmingSpaces())`"
        return NumberSyntaxError("\(prefix(label))\(shown) is not \(noun) (e.g. \(examples))")
    }

    /// `VALUE is outside LO...HI UNIT`, or `VALUE is less than LO UNIT` when the range has no upper bound.
    private static func outside(
        _ shown: String, label: String?, range lower: String, _ upper: String, unit: String, unbounded: Bool
    ) -> NumberSyntaxError {
        NumberSyntaxError(
            "\(prefix(label))\(shown) is "
                + (unbounded ? "less than \(lower)\(unit)" : "outside \(lower)...\(upper)\(unit)"))
    }

    private enum Magnitude {
        case value(negative: Bool, UInt64)
        case overflow(negative: Bool)
        case malformed
    }

    /// Takes a leading `-` or `+` off `s`; true when it was `-`.
    private static func dropSign(_ s: inout Substring) -> Bool {
        if s.first == "-" {
            s = s.dropFirst()
            return true
        }
        if s.first == "+" { s = s.dropFirst() }
        return false
    }

    /// `[+-]digits` in decimal or `0x` hex, as sign and magnitude; ASCII digits only.
    private static func magnitude(_ text: Substring) -> Magnitude {
        var s = text
        let negative = dropSign(&s)
        var radix: UInt64 = 10
        if s.hasPrefix("0x") || s.hasPrefix("0X") {
            radix = 16
            s = s.dropFirst(2)
        }
        guard !s.isEmpty else { return .malformed }
        var value: UInt64 = 0
        var overflow = false
        for c in s.utf8 {
            guard let d = digitValue(c), d < radix else { return .malformed }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { overflow = true }
            value = a
        }
        return overflow ? .overflow(negative: negative) : .value(negative: negative, value)
    }

    private static func digitValue(_ c: UInt8) -> UInt64? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt64(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private enum DurationValue {
        case value(Int64)
        case overflow
        case malformed
    }

    /// `[+-]DIGITS[.DIGITS][ms|s|m|h]` in nanoseconds, exactly (fractions below a nanosecond are dropped).
    private static func parseDuration(_ text: String, defaultUnit: DurationUnit) -> DurationValue {
        var s = Substring(text)
        var unitNanos = defaultUnit.nanoseconds
        let lower = asciiLowercased(s)
        for (suffix, nanos) in [
            ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
        ]
        where lower.hasSuffix(suffix) {
            unitNanos = UInt64(nanos)
            s = s.dropLast(suffix.count)
            break
        }
        let negative = dropSign(&s)
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty),
            (whole + fraction).utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return .malformed }
        var total: UInt64 = 0
        for c in whole.utf8 {
            let (m, o1) = total.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - UInt8(ascii: "0")))
            if o1 || o2 { return .overflow }
            total = a
        }
        let (scaled, o) = total.multipliedReportingOverflow(by: unitNanos)
        if o { return .overflow }
        // The fraction: at most 18 digits matter (a nanosecond of an hour is 12), so it fits a UInt64.
        var digits: UInt64 = 0
        var scale: UInt64 = 1
        for c in fraction.utf8.prefix(18) {
            digits = digits * 10 + UInt64(c - UInt8(ascii: "0"))
            scale *= 10
        }
        let (fractionNanos, _) = scale.dividingFullWidth(unitNanos.multipliedFullWidth(by: digits))
        let (sum, o3) = scaled.addingReportingOverflow(fractionNanos)
        if o3 || sum > UInt64(Int64.max) { return .overflow }
        return .value(negative ? -Int64(sum) : Int64(sum))
    }

    /// Units are ASCII, so only ASCII letters are lowered: `lowercased()` turns the Kelvin sign (U+212A) into `k`,
    /// which made `6\u{212A}` 6 KiB (found by fuzzing).
    private static func asciiLowercased(_ s: Substring) -> String {
        String(decoding: s.utf8.map { (65...90).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    private static func nanoseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    private static func format(_ nanos: Int64, _ unit: DurationUnit) -> String {
        let u = Int64(unit.nanoseconds)
        let whole = "\(nanos.magnitude / UInt64(u))"
        var rest = "\(nanos.magnitude % UInt64(u))"
        let width = unit == .milliseconds ? 6 : 9
        rest = String(repeating: "0", count: width - rest.count) + rest
        while rest.hasSuffix("0") { rest.removeLast() }
        return (nanos < 0 ? "-" : "") + whole + (rest.isEmpty ? "" : "." + rest)
    }
}
