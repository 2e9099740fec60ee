import ArgumentParser
import Glibc
import ShmCore

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a segment (Qt-compatible for Qt keys) and leave it in place.",
        discussion: """
            The segment stays until removed with `shmscope rm`. A Qt peer that attaches and then detaches as the \
            last process removes it, as Qt does.

            Examples:
              shmscope create SharedMemory_Key --size 1000
              shmscope create /my_segment --size 4K --fill 0xff
              shmscope create sysv:0x1234abcd --from image.bin --sem key:0x1234abcd
            A raw System V segment has no lock of its own: its initial contents are written without one unless \
            --sem names a semaphore set. A create that fails leaves nothing behind.
            """)

    @OptionGroup var target: TargetOptions

    @Option(name: .long, help: "Size in bytes (4096, 0x1000, 4K, 1MiB, 2G). Defaults to the --from file's size.")
    var size: String?

    @Option(name: .long, help: "Fill every byte with this value (0-255 or 0xNN).")
    var fill: String?

    @Option(name: .long, help: "Initial contents from a file (copied from offset 0).", completion: .file())
    var from: String?

    @Option(name: .long, help: "Permissions of the segment, octal (Qt uses 600).")
    var mode: String = "600"

    func validate() throws {
        try target.refuseNoLock(in: "create")
        if !target.resolution.keys.isEmpty {
            throw ValidationError("--key names Qt keys to try for an existing segment; `create` makes a new one: name it as qt:KEY")
        }
        if fill != nil && from != nil { throw ValidationError("give --fill or --from, not both") }
        if size == nil && from == nil { throw ValidationError("--size is required (or --from FILE)") }
        _ = try requestedSize()
        _ = try fillByte()
        let m = try permissions()
        if m & 0o002 != 0 { throw ValidationError("--mode \(mode) is world-writable; shmscope never creates those") }
    }

    private func requestedSize() throws -> Int? {
        guard let size else { return nil }
        return try usage { () throws(NumberSyntaxError) in try NumberParser.size(size, label: "--size", in: 1...Int.max) }
    }

    private func fillByte() throws -> UInt8? {
        guard let fill else { return nil }
        return try usage { () throws(NumberSyntaxError) in try NumberParser.byte(fill, label: "--fill") }
    }

    private func permissions() throws -> UInt32 {
        try usage { () throws(NumberSyntaxError) in try NumberParser.permissions(mode, label: "--mode") }
    }

    func run() throws {
        var contents: [UInt8] = []
        if let from {
            // Read before anything is made, with advice about the path (not the segment).
            do { contents = try readFile(from) } catch { throw CommandError(message: "--from: \(error.message)") }
        }
        let bytes = try requestedSize() ?? contents.count
        if contents.count > bytes {
            throw CommandError(message: "--from file has \(contents.count) bytes, more than --size \(bytes)", code: 2)
        }
        let fill = try fillByte()
        let memory = try target.memory()
        try memory.create(size: bytes, mode: mode_t(try permissions()))
        do {
            // A raw System V segment has a lock only when --sem names one; the segment is brand new (IPC_EXCL), so
            // its first bytes go in without one rather than failing after it was made.
            let lock = memory.hasLock
            if lock { try memory.lock() }
            defer { if lock { try? memory.unlock() } }
            if let fill { try memory.write([UInt8](repeating: fill, count: bytes), at: 0) }
            if !contents.isEmpty { try memory.write(contents, at: 0) }
        } catch {
            // A create that fails leaves nothing it made.
            try? memory.detach()
            try? memory.remove()
            throw error
        }
        if case .qt(let key, _) = memory.target { KnownKeys.remember(key) }
        let id = memory.shmid.map { ", shmid \($0)" } ?? ""
        Output.standard.print("created \(memory.target) (\(bytes) bytes\(id), native key \(memory.nativeKey))")
        if case .qt = memory.target {
            Output.standard.print(
                "it stays until `shmscope rm \(target.target)`; a Qt peer that detaches last removes it, as Qt does")
        }
        try memory.detach()
    }
}
