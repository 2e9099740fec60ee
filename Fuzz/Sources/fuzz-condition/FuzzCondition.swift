import FuzzSupport
import ShmCore

/// `Condition.parse` (`watch --until`, the TUI's `B`). Properties: never traps; an error's column is within the
/// text (or just past it); a parsed condition evaluates on any bytes without trapping, twice (the second time
/// `changed()` compares), and its values can be printed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let text = FuzzSupport.text(data, count)
    let layout =
        (try? StructLayout.parse("state u32 @0\ncounter u64be @8\ntemps f32[4]\nname char[8]"))
        ?? StructLayout(fields: [])
    do {
        let evaluator = try ConditionEvaluator(parsing: text, fields: layout)
        let segment = bytes(data, count) + [UInt8](repeating: 0x5a, count: 64)
        _ = evaluator.evaluate(segment: segment)
        _ = evaluator.evaluate(segment: Array(segment.reversed()))
        _ = evaluator.values().map(\.display)
    } catch {
        check(
            error.column >= 1 && error.column <= text.unicodeScalars.count + 1,
            "column \(error.column) outside `\(text)`")
        _ = error.description
    }
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_condition_main` (see CLibFuzzer.h).
@_cdecl("fuzz_condition_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
