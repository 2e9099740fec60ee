import FuzzSupport
import ShmCore

/// `Snapshot.decode` (`diff FILE`, the TUI's `O`). Properties: never traps; a decoded snapshot can be shown
/// (`diff` prints its time) and encoded again, and the encoding decodes to the same target, bytes and time
/// (to the millisecond).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let snapshot = try? Snapshot.decode(bytes(data, count)) else { return 0 }
    let printed = iso8601(snapshot.time)
    let again = try? Snapshot.decode(snapshot.encoded())
    check(
        again?.bytes == snapshot.bytes && again?.target == snapshot.target,
        "snapshot does not survive encode/decode: \(snapshot.target)")
    // The time is kept to the millisecond: it reads back within one (half of one but at the clamp to year 9999,
    // plus the Double's own spacing at that size), and printing it again gives the same text, however often a
    // snapshot is re-encoded.
    check(
        again.map { abs($0.time - snapshot.time) < 0.001 + 4 * snapshot.time.ulp } == true,
        "time \(snapshot.time) printed as \(printed) reads back as \(String(describing: again?.time))")
    check(
        again.map { iso8601($0.time) } == printed,
        "time \(snapshot.time) printed as \(printed) prints as \(again.map { iso8601($0.time) } ?? "nil") when read back")
    _ = Snapshot.differences(snapshot.bytes, Array(snapshot.bytes.reversed()))
    _ = Snapshot.nextDifference(snapshot.bytes, Array(snapshot.bytes.reversed()), from: count, forward: count % 2 == 0)
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_snapshot_main` (see CLibFuzzer.h).
@_cdecl("fuzz_snapshot_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
