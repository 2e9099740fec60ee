import ArgumentParser
import ShmCore

struct Write: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Write bytes into a segment under its lock (Qt-compatible for Qt keys): all of them or none.",
        discussion: """
            Examples:
              shmscope write SharedMemory_Key --offset 0 --text hello
              shmscope write /psm_1234 --offset 0x10 --hex "de ad be ef"
              shmscope write shmid:30 --offset 0 --file patch.bin --no-lock
            """)

    @OptionGroup var target: TargetOptions

    @Option(name: .long, help: "Where to write (4096, 0x1000, 4K).")
    var offset: String

    @Option(name: .long, help: "Bytes as hex: \"de ad be ef\", deadbeef, \"0xde 0xad\" (spaces, commas or colons between).")
    var hex: String?

    @Option(name: .long, help: "Bytes as UTF-8 text.")
    var text: String?

    @Option(name: .long, help: "Bytes from a file.", completion: .file())
    var file: String?

    @Option(name: .long, help: "How long to wait for the lock before giving up: 500ms, 2s, 1m (a bare number is seconds).")
    var timeout = "5s"

    func validate() throws {
        if [hex, text, file].compactMap({ $0 }).count != 1 { throw ValidationError("give exactly one of --hex, --text, --file") }
        _ = try startOffset()
        _ = try hexBytes()
        _ = try lockTimeout()
    }

    private func startOffset() throws -> Int {
        try usage { () throws(NumberSyntaxError) in try NumberParser.offset(offset, label: "--offset") }
    }

    private func hexBytes() throws -> [UInt8]? {
        guard let hex else { return nil }
        return try usage { () throws(NumberSyntaxError) in try NumberParser.hexBytes(hex, label: "--hex") }
    }

    private func lockTimeout() throws -> Duration {
        try usage { () throws(NumberSyntaxError) in
            try NumberParser.duration(timeout, label: "--timeout", defaultUnit: .seconds, in: .zero ... longestWait)
        }
    }

    func run() throws {
        let bytes: [UInt8]
        let timeout = try lockTimeout()
        if let hex = try hexBytes() {
            bytes = hex
        } else if let text {
            bytes = Array(text.utf8)
        } else {
            do { bytes = try readFile(file!) } catch { throw CommandError(message: "--file: \(error.message)") }
        }
        let noLock = try target.context().noLock
        // One budget for every wait: Qt's lock around attach and then the lock for the write share `--timeout`.
        let start = ContinuousClock.now
        let memory = try target.memory(lockTimeout: noLock ? .zero : timeout)
        // Writing without a lock happens only when the user chose it: refused before anything is attached.
        if !noLock && !memory.hasLock { throw noLockFound(memory) }
        try memory.attach(.readWrite)
        let at = try startOffset()
        guard at <= memory.size, bytes.count <= memory.size - at else {
            throw CommandError(
                message: "\(bytes.count) bytes at offset \(at) do not fit in the segment (\(memory.size) bytes); nothing written")
        }
        if noLock {
            try memory.write(bytes, at: at)
        } else {
            let left = max(.zero, timeout - (ContinuousClock.now - start))
            try acquire(memory, timeout: left, reported: timeout)
            defer { try? memory.unlock() }
            try memory.write(bytes, at: at)
        }
        Output.standard.print("wrote \(bytes.count) bytes at offset \(at) of \(memory.target)")
    }
}

/// The one line for a target with no lock to take: name one, or choose to write without.
func noLockFound(_ memory: SharedMemory) -> CommandError {
    CommandError(message: "\(memory.target) has no lock to write under: \(memory.target.noLockAdvice); nothing written")
}

/// Takes the lock within `timeout`, or fails naming the holder.
func acquire(_ memory: SharedMemory, timeout: Duration, reported: Duration? = nil) throws {
    guard memory.hasLock else { throw noLockFound(memory) }
    if try memory.tryLock(timeout: timeout) { return }
    var holder = ""
    if let state = memory.lockState(), let pid = state.lastPID {
        holder = " held by pid \(pid) (\(ProcessInfoReader.command(pid: pid)))"
    }
    throw CommandError(message: "\(memory.target): lock\(holder) not free after \(NumberParser.format(reported ?? timeout, .seconds)) s; nothing written")
}
