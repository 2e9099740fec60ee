import FuzzSupport
import ShmCore

/// The `/proc/sysvipc/shm` and `/sem` parsers (the catalog reads them on every `list`). Properties: never traps;
/// no more records than lines after the header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let input = text(data, count)
    let lines = input.utf8.split(separator: UInt8(ascii: "\n")).count  // lines end at a \n byte, as the parser splits them
    let segments = ProcViews.parseSystemVSegments(input)
    let semaphores = ProcViews.parseSystemVSemaphores(input)
    check(segments.count < max(lines, 1) && semaphores.count < max(lines, 1), "more records than lines")
    for s in segments { _ = s.isMarkedForRemoval }
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_procviews_main` (see CLibFuzzer.h).
@_cdecl("fuzz_procviews_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
