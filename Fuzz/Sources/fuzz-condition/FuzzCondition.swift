import FuzzSupport
import ShmCore

/// `Condition.parse` (`watch --until`, the TUI's `B`). Properties: never traps; an error's column is within the
/// text (or just past it); a parsed condition evaluates on any bytes without trapping, twice (the second time
/// `changed()` compares), and its values can be printed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let text = FuzzSupport.text(data, count)
    let parsed =
        (try? StructLayout.parse("state u32 @0\ncounter u64be @8\ntemps f32[4]\nname char[8]"))?.fields ?? []
    // Bitfields as a header gives them: unsigned, signed, a bool, an enum, and one of 64 bits starting at bit 3
    // (it spans nine bytes).
    let mode = StructLayout.EnumType(
        name: "enum mode", storage: .i32, constants: [.init(name: "OFF", value: 0), .init(name: "ON", value: -1)])
    let layout = StructLayout(
        fields: parsed + [
            .init(name: "flags.ready", type: .scalar(.u32, .little), offset: 40, bits: .init(shift: 0, width: 1)),
            .init(name: "flags.level", type: .scalar(.i32, .little), offset: 40, bits: .init(shift: 1, width: 4)),
            .init(name: "flags.on", type: .boolean, offset: 40, bits: .init(shift: 5, width: 1)),
            .init(name: "flags.mode", type: .enumeration(mode), offset: 40, bits: .init(shift: 6, width: 2)),
            .init(name: "wide", type: .scalar(.u64, .little), offset: 44, bits: .init(shift: 3, width: 64)),
        ])
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
