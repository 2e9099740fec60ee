import CLibFuzzer

/// The fuzz input as text, the way a user's typing reaches a parser: bytes decoded as UTF-8, invalid sequences
/// replaced (as `String(decoding:)` does for command-line arguments and files).
public func text(_ data: UnsafePointer<UInt8>?, _ count: Int) -> String {
    guard let data, count > 0 else { return "" }
    return String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
}

/// The fuzz input as bytes.
public func bytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
    guard let data, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: count))
}

/// A property every accepted input must have. A violation is a finding: it stops the run the way a crash does,
/// with the input saved by libFuzzer.
public func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property violated: \(message())") }
}

/// Runs libFuzzer on `callback` with the program's arguments; each target's `<module>_main` calls this.
public func runLibFuzzer(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
