import ArgumentParser
import Foundation
import ShmCore

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a segment's bytes: `hexdump -C` format (byte for byte), xxd, raw or JSON.",
        discussion: """
            The segment is attached read-only for the dump.

            Examples:
              shmscope dump SharedMemory_Key
              shmscope dump /psm_1234 --offset 0x100 --length 64 --format xxd
              shmscope dump shmid:30 --format raw > copy.bin
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case canonical, xxd, raw, json
    }

    @OptionGroup var target: TargetOptions

    @Option(name: .long, help: "First byte to print (4096, 0x1000, 4K).")
    var offset: String = "0"

    @Option(name: .long, help: "How many bytes (default: to the end).")
    var length: String?

    @Option(name: .long, help: "canonical (= hexdump -C), xxd, raw or json.")
    var format: Format = .canonical

    @Flag(name: .long, help: "Print repeated lines instead of `*` (canonical format).")
    var noSqueeze = false

    func validate() throws {
        if parseSize(offset) == nil { throw ValidationError("--offset `\(offset)` is not a number") }
        if let length, parseSize(length) == nil { throw ValidationError("--length `\(length)` is not a number") }
    }

    func run() throws {
        let memory = try target.memory()
        try memory.attach(.readOnly)
        let start = parseSize(offset)!
        guard start <= memory.size else {
            throw CommandError(message: "--offset \(start) is past the end of the segment (\(memory.size) bytes)")
        }
        let count = min(length.flatMap(parseSize) ?? (memory.size - start), memory.size - start)
        let out = Output.standard
        switch format {
        case .json:
            let bytes = try memory.read(offset: start, count: count)
            struct DumpJSON: Encodable {
                var target: String
                var size: Int
                var offset: Int
                var length: Int
                var hex: String
            }
            out.print(
                try encodeJSON(
                    DumpJSON(
                        target: memory.target.description, size: memory.size, offset: start, length: count,
                        hex: bytes.map { String(format: "%02x", $0) }.joined())))
        case .raw:
            try forEachChunk(memory, start: start, count: count) { chunk in out.write(Array(chunk)) }
        case .canonical, .xxd:
            var formatter = HexDumpFormatter(
                style: format == .xxd ? .xxd : .canonical, squeeze: !noSqueeze, startOffset: start)
            var text: [UInt8] = []
            text.reserveCapacity(1 << 20 * 5)
            try forEachChunk(memory, start: start, count: count) { chunk in
                formatter.feed(chunk, into: &text)
                out.write(text)
                text.removeAll(keepingCapacity: true)
            }
            formatter.finish(into: &text)
            out.write(text)
        }
        out.flush()
    }

    /// Copies the range out in 1 MiB chunks (fault-safe) and hands each to `body`.
    private func forEachChunk(
        _ memory: SharedMemory, start: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let chunkSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var done = 0
        while done < count {
            let n = min(chunkSize, count - done)
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            try memory.read(into: slice, offset: start + done)
            try body(UnsafeRawBufferPointer(slice))
            done += n
        }
    }
}
