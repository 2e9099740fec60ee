import ArgumentParser
import Foundation
import ShmCore

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a segment (Qt-compatible for Qt keys) and leave it in place.",
        discussion: """
            The segment stays until removed with `shmscope rm`. A Qt peer that attaches and then detaches as the \
            last process removes it, as Qt does.

            Examples:
              shmscope create SharedMemory_Key --size 1000
              shmscope create /my_segment --size 4K --fill 0xff
              shmscope create sysv:0x1234abcd --from image.bin
            """)

    @OptionGroup var target: TargetOptions

    @Option(name: .long, help: "Size in bytes (4096, 0x1000, 4K, 1M). Defaults to the --from file's size.")
    var size: String?

    @Option(name: .long, help: "Fill every byte with this value (0-255 or 0xNN).")
    var fill: String?

    @Option(name: .long, help: "Initial contents from a file (copied from offset 0).")
    var from: String?

    @Option(name: .long, help: "Permissions of the segment, octal (Qt uses 600).")
    var mode: String = "600"

    func validate() throws {
        if !target.resolution.keys.isEmpty {
            throw ValidationError("--key names Qt keys to try for an existing segment; `create` makes a new one: name it as qt:KEY")
        }
        if fill != nil && from != nil { throw ValidationError("give --fill or --from, not both") }
        if size == nil && from == nil { throw ValidationError("--size is required (or --from FILE)") }
        if let size, parseSize(size) == nil { throw ValidationError("--size `\(size)` is not a size like 4096 or 4K") }
        if let fill, parseByte(fill) == nil { throw ValidationError("--fill `\(fill)` is not a byte (0-255 or 0xNN)") }
        guard let m = UInt32(mode, radix: 8), m <= 0o777 else { throw ValidationError("--mode `\(mode)` is not octal like 600") }
        if m & 0o002 != 0 { throw ValidationError("--mode \(mode) is world-writable; shmscope never creates those") }
    }

    func run() throws {
        var contents: [UInt8] = []
        if let from {
            guard let data = FileManager.default.contents(atPath: from) else {
                throw CommandError(message: "cannot read --from file \(from)")
            }
            contents = [UInt8](data)
        }
        let bytes = size.flatMap(parseSize) ?? contents.count
        if contents.count > bytes {
            throw CommandError(message: "--from file has \(contents.count) bytes, more than --size \(bytes)", code: 2)
        }
        let memory = try target.memory()
        try memory.create(size: bytes, mode: mode_t(UInt32(mode, radix: 8)!))
        try memory.withLock {
            if let fill { try memory.write([UInt8](repeating: parseByte(fill)!, count: bytes), at: 0) }
            if !contents.isEmpty { try memory.write(contents, at: 0) }
        }
        let id = memory.shmid.map { ", shmid \($0)" } ?? ""
        Output.standard.print("created \(memory.target) (\(bytes) bytes\(id), native key \(memory.nativeKey))")
        if case .qt = memory.target {
            Output.standard.print(
                "it stays until `shmscope rm \(target.target)`; a Qt peer that detaches last removes it, as Qt does")
        }
        try memory.detach()
    }
}

func parseByte(_ text: String) -> UInt8? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt8(text.dropFirst(2), radix: 16) }
    return UInt8(text)
}
