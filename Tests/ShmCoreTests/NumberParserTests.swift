import ShmCore
import Testing

/// The one number parser: tables of what is accepted (and as what) and of the exact message for what is not.
@Suite struct NumberParserTests {
    /// The message a failing parse gives, or the value as text when it succeeds.
    private func outcome<T>(_ parse: () throws(NumberSyntaxError) -> T) -> String {
        do { return "\(try parse())" } catch { return error.message }
    }

    @Test func offsetsAndSizes() {
        let accepted: [(String, Int)] = [
            ("0", 0), ("4096", 4096), ("0x1000", 4096), ("0X1f", 31), ("4K", 4096), ("4k", 4096), ("4KiB", 4096),
            ("4kib", 4096), ("4KB", 4096), ("4Ki", 4096), ("1M", 1 << 20), ("1MiB", 1 << 20), ("2G", 2 << 30),
            ("1T", 1 << 40), ("1TiB", 1 << 40), ("0x10K", 16 << 10), ("512B", 512), ("512b", 512),
            ("0x1b", 27), ("0xab", 171), (" 4K ", 4096), ("+8", 8), ("8M", 8 << 20),
            ("9223372036854775807", Int.max), ("8388607T", 8_388_607 << 40),
        ]
        for (text, value) in accepted {
            #expect(outcome { () throws(NumberSyntaxError) in try NumberParser.offset(text) } == "\(value)", "\(text)")
            #expect(outcome { () throws(NumberSyntaxError) in try NumberParser.size(text) } == "\(value)", "\(text)")
        }
        let refused: [(String, String)] = [
            ("abc", "--offset: `abc` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("", "--offset: nothing is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("   ", "--offset: nothing is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("4 K", "--offset: `4 K` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("1 000", "--offset: `1 000` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("1.5K", "--offset: `1.5K` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("nan", "--offset: `nan` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("inf", "--offset: `inf` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("1e3", "--offset: `1e3` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("0x", "--offset: `0x` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("0xg", "--offset: `0xg` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("K", "--offset: `K` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("4Q", "--offset: `4Q` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("4KK", "--offset: `4KK` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("4P", "--offset: `4P` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("--4", "--offset: `--4` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("٤", "--offset: `٤` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("０x10", "--offset: `０x10` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("-1", "--offset: -1 is less than 0"),
            ("-4K", "--offset: -4096 is less than 0"),
            ("0xffffffffffffffffff", "--offset: `0xffffffffffffffffff` is too large"),
            ("9999999999G", "--offset: `9999999999G` is too large"),
            ("9223372036854775808", "--offset: `9223372036854775808` is too large"),
            ("8388608T", "--offset: `8388608T` is too large"),
            ("-0xffffffffffffffffff", "--offset: `-0xffffffffffffffffff` is less than 0"),
        ]
        for (text, message) in refused {
            #expect(
                outcome { () throws(NumberSyntaxError) in try NumberParser.offset(text, label: "--offset") } == message)
        }
        // A bounded range names both ends; overflow is out of range too, shown as typed.
        let bounded: [(String, String)] = [
            ("0", "--size: 0 is outside 1...65536"),
            ("65537", "--size: 65537 is outside 1...65536"),
            ("64K", "65536"),
            ("9999999999G", "--size: `9999999999G` is outside 1...65536"),
            ("-1", "--size: -1 is outside 1...65536"),
            ("x", "--size: `x` is not a size (e.g. 4096, 0x1000, 4K)"),
        ]
        for (text, message) in bounded {
            #expect(
                outcome { () throws(NumberSyntaxError) in try NumberParser.size(text, label: "--size", in: 1...65536) }
                    == message)
        }
        // Without a label the message is the bare sentence (TUI prompts, layout files add their own context).
        #expect(
            outcome { () throws(NumberSyntaxError) in try NumberParser.offset("zz") }
                == "`zz` is not an offset (e.g. 4096, 0x1000, 4K)")
    }

    /// The go-to prompt's expressions: units, sums, `$` for the end and moves from the cursor.
    @Test func offsetExpressions() {
        let table: [(String, String)] = [
            ("4K", "4096"), ("0x40+8", "72"), ("$", "99"), ("$-16", "83"), ("4K - 1K", "3072"), ("+16", "21"),
            ("-10", "-5"), (" 1M ", "1048576"), ("0x10+0x10+1", "33"), ("+0x7fffffffffffffff", "\(Int.max)"),
            ("", "nothing is not an offset (e.g. 4096, 0x1000, 4K)"), ("0x40+", "nothing is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("4Q", "`4Q` is not an offset (e.g. 4096, 0x1000, 4K)"),
        ]
        for (text, expected) in table {
            #expect(outcome { () throws(NumberSyntaxError) in try NumberParser.offsetExpression(text, cursor: 5, end: 99) } == expected, "\(text)")
        }
    }

    @Test func ranges() {
        let table: [(String, String)] = [
            ("8:4", "(offset: 8, length: 4)"),
            ("0x100:64", "(offset: 256, length: 64)"),
            ("4K:1K", "(offset: 4096, length: 1024)"),
            ("8", "--range: `8` is not a range OFF:LEN (e.g. 0x100:64, 4K:1K)"),
            ("1:2:3", "--range: `1:2:3` is not a range OFF:LEN (e.g. 0x100:64, 4K:1K)"),
            ("x:4", "--range offset: `x` is not an offset (e.g. 4096, 0x1000, 4K)"),
            ("8:", "--range length: nothing is not a length (e.g. 4096, 0x1000, 4K)"),
            ("8:0", "--range length: 0 is less than 1"),
            ("-1:4", "--range offset: -1 is less than 0"),
            ("0:9999999999G", "--range length: `9999999999G` is too large"),
        ]
        for (text, expected) in table {
            #expect(
                outcome { () throws(NumberSyntaxError) in try NumberParser.range(text, label: "--range") } == expected)
        }
    }

    @Test func countsIntegersBytesKeysAndModes() {
        let counts: [(String, String)] = [
            ("1", "1"), ("10", "10"), ("0x10", "16"), ("+3", "3"),
            ("0", "--count: 0 is less than 1"),
            ("-2", "--count: -2 is less than 1"),
            ("1K", "--count: `1K` is not a whole number (e.g. 1, 10, 0x10)"),
            ("2.0", "--count: `2.0` is not a whole number (e.g. 1, 10, 0x10)"),
            ("99999999999999999999", "--count: `99999999999999999999` is too large"),
        ]
        for (text, expected) in counts {
            #expect(
                outcome { () throws(NumberSyntaxError) in
                    try NumberParser.count(text, label: "--count", in: 1...Int.max)
                } == expected)
        }
        let integers: [(String, String)] = [
            ("-128", "-128"), ("127", "127"), ("0x7f", "127"), ("-0x80", "-128"),
            ("128", "i8: 128 is outside -128...127"),
            ("-129", "i8: -129 is outside -128...127"),
            ("0xffffffffffffffffff", "i8: `0xffffffffffffffffff` is outside -128...127"),
            ("x", "i8: `x` is not an integer (e.g. -2, 1234, 0x7b)"),
        ]
        for (text, expected) in integers {
            #expect(
                outcome { () throws(NumberSyntaxError) in try NumberParser.integer(text, label: "i8", in: -128...127) }
                    == expected)
        }
        #expect(
            outcome { () throws(NumberSyntaxError) in
                try NumberParser.integer("-9223372036854775808", in: .min ... .max)
            }
                == "-9223372036854775808")
        #expect(
            outcome { () throws(NumberSyntaxError) in
                try NumberParser.integer("-9223372036854775809", in: .min ... .max)
            }
                == "`-9223372036854775809` is less than -9223372036854775808")
        let unsigned: [(String, String)] = [
            ("18446744073709551615", "18446744073709551615"), ("0xffffffffffffffff", "18446744073709551615"),
            ("+1", "1"), ("-0", "0"),
            ("256", "u8: 256 is outside 0...255"),
            ("-1", "u8: -1 is outside 0...255"),
            ("0x1ffffffffffffffff", "u8: `0x1ffffffffffffffff` is outside 0...255"),
            ("1.5", "u8: `1.5` is not an integer (e.g. 1234, 0x7b)"),
        ]
        for (text, expected) in unsigned {
            let range: ClosedRange<UInt64> =
                expected.hasPrefix("u8") || text == "+1" || text == "-0" ? 0...255 : 0...UInt64.max
            #expect(
                outcome { () throws(NumberSyntaxError) in try NumberParser.unsigned(text, label: "u8", in: range) }
                    == expected, "\(text)")
        }
        #expect(
            outcome { () throws(NumberSyntaxError) in
                try NumberParser.unsigned("0x1ffffffffffffffff", in: 0...UInt64.max)
            }
                == "`0x1ffffffffffffffff` is too large")
        let bytes: [(String, String)] = [
            ("0", "0"), ("255", "255"), ("0xff", "255"), ("0xAB", "171"),
            ("256", "--fill: 256 is outside 0...255"),
            ("0x100", "--fill: 256 is outside 0...255"),
            ("-1", "--fill: -1 is outside 0...255"),
            ("ff", "--fill: `ff` is not a byte (e.g. 255, 0xff)"),
        ]
        for (text, expected) in bytes {
            #expect(
                outcome { () throws(NumberSyntaxError) in try NumberParser.byte(text, label: "--fill") } == expected)
        }
        let keys: [(String, String)] = [
            ("0x5100c078", "1359003768"), ("0xffffffff", "-1"), ("-1", "-1"), ("4294967295", "-1"),
            ("2147483647", "2147483647"), ("-2147483648", "-2147483648"), ("0x0", "0"),
            ("4294967296", "sysv: 4294967296 is outside -2147483648...4294967295"),
            ("0x100000000", "sysv: 4294967296 is outside -2147483648...4294967295"),
            ("-2147483649", "sysv: -2147483649 is outside -2147483648...4294967295"),
            ("zz", "sysv: `zz` is not a key (e.g. 0x5100c078, 1359003768)"),
        ]
        for (text, expected) in keys {
            #expect(outcome { () throws(NumberSyntaxError) in try NumberParser.key32(text, label: "sysv") } == expected)
        }
        let modes: [(String, String)] = [
            ("600", "384"), ("0640", "416"), ("0", "0"), ("777", "511"), ("0000600", "384"),
            ("1777", "--mode: 1777 is outside 0...777"),
            ("8", "--mode: `8` is not an octal mode (e.g. 600, 0640)"),
            ("0o600", "--mode: `0o600` is not an octal mode (e.g. 600, 0640)"),
            ("", "--mode: nothing is not an octal mode (e.g. 600, 0640)"),
        ]
        for (text, expected) in modes {
            #expect(
                outcome { () throws(NumberSyntaxError) in try NumberParser.permissions(text, label: "--mode") }
                    == expected)
        }
    }

    @Test func durations() {
        func ms(_ text: String) -> String {
            outcome { () throws(NumberSyntaxError) in
                try NumberParser.interval(text, label: "--interval", in: 10...10_000)
            }
        }
        let intervals: [(String, String)] = [
            ("100", "100"), ("250ms", "250"), ("2s", "2000"), ("1.5s", "1500"), ("0.25s", "250"), ("10", "10"),
            ("10000", "10000"), ("10s", "10000"), (" 100 ", "100"), ("100MS", "100"), ("+100", "100"),
            ("10.9", "10"),
            ("abc", "--interval: `abc` is not a duration (e.g. 250ms, 2s)"),
            ("", "--interval: nothing is not a duration (e.g. 250ms, 2s)"),
            ("100 ms", "--interval: `100 ms` is not a duration (e.g. 250ms, 2s)"),
            ("nan", "--interval: `nan` is not a duration (e.g. 250ms, 2s)"),
            ("inf", "--interval: `inf` is not a duration (e.g. 250ms, 2s)"),
            ("1e3", "--interval: `1e3` is not a duration (e.g. 250ms, 2s)"),
            ("0x10", "--interval: `0x10` is not a duration (e.g. 250ms, 2s)"),
            ("s", "--interval: `s` is not a duration (e.g. 250ms, 2s)"),
            (".", "--interval: `.` is not a duration (e.g. 250ms, 2s)"),
            ("1.2.3", "--interval: `1.2.3` is not a duration (e.g. 250ms, 2s)"),
            ("5d", "--interval: `5d` is not a duration (e.g. 250ms, 2s)"),
            ("5", "--interval: 5 ms is outside 10...10000 ms"),
            ("5ms", "--interval: 5 ms is outside 10...10000 ms"),
            ("0.005s", "--interval: 5 ms is outside 10...10000 ms"),
            ("9.5", "--interval: 9.5 ms is outside 10...10000 ms"),
            ("1m", "--interval: 60000 ms is outside 10...10000 ms"),
            ("-100", "--interval: -100 ms is outside 10...10000 ms"),
            ("99999999999999999999", "--interval: `99999999999999999999` is outside 10...10000 ms"),
            ("9999999999h", "--interval: `9999999999h` is outside 10...10000 ms"),
        ]
        for (text, expected) in intervals { #expect(ms(text) == expected, "\(text)") }

        func seconds(_ text: String) -> String {
            outcome { () throws(NumberSyntaxError) in
                NumberParser.format(
                    try NumberParser.duration(
                        text, label: "--timeout", defaultUnit: .seconds, in: .zero ... .seconds(86_400)),
                    .seconds)
            }
        }
        let timeouts: [(String, String)] = [
            ("5", "5"), ("0.3", "0.3"), ("0", "0"), (".5", "0.5"), ("5.", "5"), ("300ms", "0.3"), ("2m", "120"),
            ("1h", "3600"), ("24h", "86400"), ("1.5m", "90"), ("0.000000001", "0.000000001"),
            ("0.0000000001", "0"),
            ("-1", "--timeout: -1 s is outside 0...86400 s"),
            ("25h", "--timeout: 90000 s is outside 0...86400 s"),
            ("-0.5s", "--timeout: -0.5 s is outside 0...86400 s"),
            ("nan", "--timeout: `nan` is not a duration (e.g. 250ms, 2s)"),
            ("-inf", "--timeout: `-inf` is not a duration (e.g. 250ms, 2s)"),
        ]
        for (text, expected) in timeouts { #expect(seconds(text) == expected, "\(text)") }
    }

    @Test func hexBytes() {
        let table: [(String, String)] = [
            ("de ad be ef", "[222, 173, 190, 239]"), ("deadbeef", "[222, 173, 190, 239]"),
            ("DEADBEEF", "[222, 173, 190, 239]"), ("0xde 0xad", "[222, 173]"), ("de:ad", "[222, 173]"),
            ("de,ad", "[222, 173]"), ("  de  ad  ", "[222, 173]"), ("dea d", "[222, 173]"), ("0xdead", "[222, 173]"),
            ("00", "[0]"),
            ("xyz", "--hex: `xyz` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
            ("d", "--hex: `d` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
            ("dea", "--hex: `dea` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
            ("0xd", "--hex: `0xd` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
            ("d 0xad", "--hex: `d 0xad` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
            ("0x", "--hex: `0x` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
            ("", "--hex: nothing is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
            (" , ", "--hex: `,` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
            ("ＡＡ", "--hex: `ＡＡ` is not hex bytes (e.g. de ad be ef, deadbeef, 0xde 0xad)"),
        ]
        for (text, expected) in table {
            #expect(
                outcome { () throws(NumberSyntaxError) in try NumberParser.hexBytes(text, label: "--hex") } == expected,
                "\(text)")
        }
    }

    /// Found by fuzzing: `lowercased()` made the Kelvin sign (U+212A) a `k`, so `6\u{212A}` was 6 KiB. Units are
    /// ASCII only.
    @Test func unitsAreASCIIOnly() throws {
        for text in ["6\u{212A}", "6\u{212A}iB", "1\u{212A}B"] {
            #expect(throws: NumberSyntaxError.self, "\(text)") { try NumberParser.size(text) }
        }
        #expect(throws: NumberSyntaxError.self) { try NumberParser.duration("2\u{212A}", defaultUnit: .seconds, in: .zero ... .seconds(10)) }
        #expect(try NumberParser.size("6K") == 6144 && NumberParser.size("6kib") == 6144)
    }
}
