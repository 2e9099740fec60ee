import FuzzSupport
import ShmCore

/// `NumberParser.hexBytes` (`write --hex`, the TUI's `/x` search). Properties: never traps; accepted text is
/// ASCII; the bytes printed as hex parse back to the same bytes, in each separator style.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let input = text(data, count)
    guard let parsed = try? NumberParser.hexBytes(input) else { return 0 }
    check(input.utf8.allSatisfy { $0 < 0x80 }, "non-ASCII hex accepted: \(Array(input.utf8))")
    check(parsed.count <= input.utf8.count / 2, "\(parsed.count) bytes from \(input.utf8.count) characters")
    let hex = parsed.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
    for printed in [hex.joined(separator: " "), hex.joined(), hex.map { "0x" + $0 }.joined(separator: ","), hex.joined(separator: ":")] {
        check((try? NumberParser.hexBytes(printed)) == parsed, "`\(input)` → `\(printed)` does not parse back")
    }
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_hex_main` (see CLibFuzzer.h).
@_cdecl("fuzz_hex_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
