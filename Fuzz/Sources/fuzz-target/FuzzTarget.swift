import FuzzSupport
import ShmCore

/// `SegmentTarget.parse`, the TARGET of every command. Properties: never traps; what parses prints as a TARGET
/// that parses back to the same target; names that become paths have no hidden slashes or `..` (checked on bytes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let input = text(data, count)
    guard let target = try? SegmentTarget.parse(input) else { return 0 }
    // Names reach the file system as bytes: check them as bytes. A POSIX name is one leading slash and a file name;
    // a Qt native System V key is absolute, or a file name in the runtime dir; neither has `.`/`..` components.
    let slash = UInt8(ascii: "/")
    func components(_ s: String) -> [ArraySlice<UInt8>] { Array(s.utf8).split(separator: slash) }
    switch target {
    case .posix(let name):
        check(name.utf8.first == slash && name.utf8.dropFirst().allSatisfy { $0 != slash }, "POSIX name `\(name)`")
    case .qtNative(let key, .systemV):
        check(key.utf8.first == slash || !key.utf8.contains(slash), "relative native key with a slash `\(key)`")
        check(
            !components(key).contains { $0.elementsEqual("..".utf8) || $0.elementsEqual(".".utf8) },
            "native key with a . or .. component `\(key)`")
    default: break
    }
    let again = try? SegmentTarget.parse(target.description)
    check(again == target, "`\(input)` → \(target) → `\(target.description)` → \(String(describing: again))")
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_target_main` (see CLibFuzzer.h).
@_cdecl("fuzz_target_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
