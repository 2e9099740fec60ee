import FuzzSupport
import ShmCore

/// `Recording.decode` and the player (`replay FILE`). Properties: never traps or allocates what the file only
/// claims; a decoded recording plays (every step, by change both ways, by time) and prints its log.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let recording = try? Recording.decode(bytes(data, count)),
        let player = try? RecordingPlayer(recording)
    else { return 0 }
    _ = player.logLines(json: count % 2 == 0, layout: nil)
    while let next = player.nextChange() { player.seek(step: next) }
    while let previous = player.previousChange() { player.seek(step: previous) }
    player.seek(step: player.step(atTime: player.startTime + Double(count % 7)))
    check(player.position < player.steps.count, "position \(player.position) past \(player.steps.count) steps")
    if let evaluator = try? ConditionEvaluator(parsing: "changed(u8@0)") { _ = player.nextStep(where: evaluator) }
    return 0
}

/// The program's entry point: SwiftPM links `main` as `fuzz_recording_main` (see CLibFuzzer.h).
@_cdecl("fuzz_recording_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv, fuzz)
}
