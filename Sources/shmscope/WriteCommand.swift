import ArgumentParser
import Foundation
import ShmCore

struct Write: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    @Option(name: .long, help: "Bytes as hex, spaces allowed: \"de ad be ef\".")
    var hex: String?

    @Option(name: .long, help: "Bytes as UTF-8 text.")
    var text: String?

    @Option(name: .long, help: "Bytes from a file.")
    var file: String?

    @Flag(name: .long, help: "Write without taking the segment's lock.")
    var noLock = false

    @Option(name: .long, help: "Seconds to wait for the lock before giving up.")
    var timeout: Double = 5

    func validate() throws {
        if [hex, text, file].compactMap({ $0 }).count != 1 { throw ValidationError("give exactly one of --hex, --text, --file") }
        if parseSize(offset) == nil { throw ValidationError("--offset `\(offset)` is not a number") }
        if let hex, parseHex(hex) == nil { throw ValidationError("--hex `\(hex)` is not pairs of hex digits") }
        if timeout < 0 { throw ValidationError("--timeout must not be negative") }
    }

    func run() throws {
        let bytes: [UInt8]
        if let hex {
            bytes = parseHex(hex)!
        } else if let text {
            bytes = Array(text.utf8)
        } else {
            guard let data = FileManager.default.contents(atPath: file!) else {
                throw CommandError(message: "cannot read --file \(file!)")
            }
            bytes = [UInt8](data)
        }
        let memory = try target.memory(lockTimeout: noLock ? 0 : timeout)
        try memory.attach(.readWrite)
        let at = parseSize(offset)!
        guard at <= memory.size, bytes.count <= memory.size - at else {
            throw CommandError(
                message: "\(bytes.count) bytes at offset \(at) do not fit in the segment (\(memory.size) bytes); nothing written")
        }
        if noLock {
            try memory.write(bytes, at: at)
        } else {
            try acquire(memory, timeout: timeout)
            defer { try? memory.unlock() }
            try memory.write(bytes, at: at)
        }
        Output.standard.print("wrote \(bytes.count) bytes at offset \(at) of \(memory.target)")
    }
}

/// Takes the lock within `timeout` seconds, or fails naming the holder.
func acquire(_ memory: SharedMemory, timeout: Double) throws {
    guard memory.hasLock else {
        throw CommandError(
            message: "\(memory.target) has no lock: a raw System V segment needs --sem, or pass --no-lock")
    }
    if try memory.tryLock(timeout: .milliseconds(Int64(timeout * 1000))) { return }
    var holder = ""
    if let state = memory.lockState(), let pid = state.lastPID {
        holder = " held by pid \(pid) (\(ProcessInfoReader.command(pid: pid)))"
    }
    throw CommandError(message: "\(memory.target): lock\(holder) not free after \(timeout) s; nothing written")
}

/// "de ad be ef", "deadbeef", "0xde 0xad" → bytes; nil when malformed.
func parseHex(_ text: String) -> [UInt8]? {
    var digits: [UInt8] = []
    for token in text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ":" }) {
        var t = Substring(token)
        if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
        guard t.count % 2 == 0 else { return nil }
        var i = t.startIndex
        while i < t.endIndex {
            let j = t.index(i, offsetBy: 2)
            guard let b = UInt8(t[i..<j], radix: 16) else { return nil }
            digits.append(b)
            i = j
        }
    }
    return digits.isEmpty ? nil : digits
}
