import FuzzSupport
import ShmCore

/// Every entry point of `NumberParser`; the first input byte picks one, the rest is the text. Properties: never
/// traps; only ASCII text is accepted; a value is within the range asked for; printed back (decimal, hex, octal,
/// `format`) it parses to the same value; an error is one line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let data, count > 0 else { return 0 }
    let input = text(data + 1, count - 1)
    func accepted() {
        check(input.utf8.allSatisfy { $0 < 0x80 }, "non-ASCII number accepted: \(Array(input.utf8))")
    }
    func oneLine(_ e: NumberSyntaxError) {
        check(!e.message.isEmpty && !e.message.contains("\n") || input.contains("\n"), "message: \(e.message)")
    }
    do throws(NumberSyntaxError) {
        switch data[0] % 12 {
        case 0:
            let v = try NumberParser.offset(input, label: "--offset")
            accepted()
            check(v >= 0 && (try? NumberParser.offset(String(v))) == v, "offset \(v) from `\(input)`")
        case 1:
            let v = try NumberParser.size(input, label: "--size", in: 1...(1 << 40))
            accepted()
            check((1...(1 << 40)).contains(v) && (try? NumberParser.size("0x" + String(v, radix: 16))) == v,
                "size \(v) from `\(input)`")
        case 2:
            let r = try NumberParser.range(input, label: "--range")
            accepted()
            check(r.offset >= 0 && r.length >= 1, "range \(r) from `\(input)`")
        case 3:
            let v = try NumberParser.count(input, label: "--count", in: 1...Int.max)
            accepted()
            check(v >= 1 && (try? NumberParser.count(String(v))) == v, "count \(v) from `\(input)`")
        case 4:
            let v = try NumberParser.integer(input, label: "value", in: Int64.min...Int64.max)
            accepted()
            check((try? NumberParser.integer(String(v), in: Int64.min...Int64.max)) == v, "integer \(v) from `\(input)`")
        case 5:
            let v = try NumberParser.unsigned(input, label: "value", in: 0...UInt64.max)
            accepted()
            check((try? NumberParser.unsigned(String(v), in: 0...UInt64.max)) == v, "unsigned \(v) from `\(input)`")
        case 6:
            let v = try NumberParser.byte(input)
            accepted()
            check((try? NumberParser.byte("0x" + String(v, radix: 16))) == v, "byte \(v) from `\(input)`")
        case 7:
            let v = try NumberParser.key32(input, label: "sysv:KEY")
            accepted()
            check((try? NumberParser.key32(hex32(v))) == v, "key \(v) from `\(input)`")
        case 8:
            let v = try NumberParser.permissions(input, label: "--mode")
            accepted()
            check(v <= 0o777 && (try? NumberParser.permissions(String(v, radix: 8))) == v, "mode \(v) from `\(input)`")
        case 9, 10:
            let unit: NumberParser.DurationUnit = data[0] % 12 == 9 ? .seconds : .milliseconds
            let range: ClosedRange<Duration> = .zero ... .seconds(86_400)
            let d = try NumberParser.duration(input, label: "--timeout", defaultUnit: unit, in: range)
            accepted()
            let printed = NumberParser.format(d, unit)
            check(range.contains(d), "duration \(d) from `\(input)`")
            check(
                (try? NumberParser.duration(printed, defaultUnit: unit, in: range)) == d,
                "duration \(d) from `\(input)` prints as `\(printed)`, which does not parse back")
        default:
            let v = try NumberParser.interval(input, label: "--interval", in: 10...60_000)
            accepted()
            check((10...60_000).contains(v), "interval \(v) from `\(input)`")
        }
    } catch {
        oneLine(error)
    }
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_numbers_main` (see CLibFuzzer.h).
@_cdecl("fuzz_numbers_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
