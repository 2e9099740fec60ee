import FuzzSupport
import ShmCore

/// `StructLayout.parse` (layout files, `--layout`). Properties: never traps; a parsed layout decodes against a
/// segment of any size, and written back as `NAME TYPE @OFFSET` lines it parses to the same fields.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let input = text(data, count)
    guard let layout = try? StructLayout.parse(input) else { return 0 }
    let segment = [UInt8](repeating: 0xa5, count: 4096)
    for base in [0, 16, 4000] {
        let decoded = layout.decode(Array(segment[base...]), base: base)
        check(decoded.count == layout.fields.count, "decoded \(decoded.count) of \(layout.fields.count) fields")
        for field in decoded { _ = field.display }
    }
    _ = layout.span
    let written = layout.fields.map { "\($0.name) \($0.typeName) @\($0.offset)" }.joined(separator: "\n")
    let again = try? StructLayout.parse(written)
    check(
        again?.fields.map { [$0.name, $0.typeName, "\($0.offset)", "\($0.size)"] }
            == layout.fields.map { [$0.name, $0.typeName, "\($0.offset)", "\($0.size)"] },
        "`\(input)` written back as `\(written)` parses differently")
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_layout_main` (see CLibFuzzer.h).
@_cdecl("fuzz_layout_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
