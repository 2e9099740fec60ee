import FuzzSupport
import ShmCore

/// `SegmentTarget.parse`, the TARGET of every command. Properties: never traps; what parses prints as a TARGET
/// that parses back to the same target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let input = text(data, count)
    guard let target = try? SegmentTarget.parse(input) else { return 0 }
    let again = try? SegmentTarget.parse(target.description)
    check(again == target, "`\(input)` → \(target) → `\(target.description)` → \(String(describing: again))")
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_target_main` (see CLibFuzzer.h).
@_cdecl("fuzz_target_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
