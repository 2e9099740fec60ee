import ArgumentParser
import ShmCore

/// One `NumberParser` call for an option: a bad value is a usage error (status 2, one line) in the parser's
/// wording. Commands call it in `validate()` and again in `run()`, where it cannot fail any more.
func usage<T>(_ parse: () throws(NumberSyntaxError) -> T) throws(ValidationError) -> T {
    do { return try parse() } catch { throw ValidationError(error.message) }
}

/// The longest a lock wait or hold may be asked for: a day is surely a typo already, and it keeps every
/// duration far from overflowing a clock.
let longestWait = Duration.seconds(86_400)

extension String {
    func dropPrefixString(_ prefix: String) -> String? { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil }
}

extension String {
    /// The string followed by spaces up to `width` characters (never cut), for aligned columns.
    func padded(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

// `octalMode` and `permissionString` live in ShmCore (SegmentInfo.swift): `info` and the browser share them.
