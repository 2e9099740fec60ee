import ArgumentParser
import Dispatch
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
              shmscope dump SharedMemory_Key --layout peer.layout --json

            With --layout FILE the segment is decoded as the fields of a layout file (README "Layouts"): one line per field, `NAME TYPE @OFFSET VALUE`, or with --json one object with a `fields` array. A problem in the layout file is a usage error (status 2) naming the line.
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

    @Option(name: .long, help: "Decode the fields of this layout file instead of dumping bytes.")
    var layout: String?

    @Flag(name: .long, help: "Same as --format json.")
    var json = false

    func validate() throws {
        try target.refuseLock(in: "dump")
        if parseSize(offset) == nil { throw ValidationError("--offset `\(offset)` is not a number") }
        if let length, parseSize(length) == nil { throw ValidationError("--length `\(length)` is not a number") }
    }

    func run() throws {
        if let layout {
            try dumpLayout(try loadLayout(layout))
            return
        }
        let format: Format = json ? .json : self.format
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
                        hex: hexString(bytes))))
        case .raw:
            try forEachChunk(memory, start: start, count: count) { chunk in out.write(chunk) }
        case .canonical, .xxd:
            let style: HexDumpFormatter.Style = format == .xxd ? .xxd : .canonical
            let halves = [
                DumpHalf(HexDumpFormatter(style: style, squeeze: !noSqueeze, startOffset: start)),
                DumpHalf(HexDumpFormatter(style: style, squeeze: !noSqueeze, startOffset: start)),
            ]
            var done = 0
            try forEachChunk(memory, start: start, count: count) { chunk in
                guard chunk.count % 16 == 0 else {
                    // The last chunk's odd tail: a partial line stays pending in the formatter until `finish`.
                    var text: [UInt8] = []
                    halves[0].formatter.feed(chunk, into: &text)
                    out.write(text)
                    done += chunk.count
                    return
                }
                // Two cores format the two halves of each chunk; the second resumes from the first's last line.
                let lines = chunk.count / 16
                let split = lines >= 64 ? lines / 2 * 16 : chunk.count
                halves[0].input = UnsafeRawBufferPointer(rebasing: chunk[0..<split])
                halves[1].input = UnsafeRawBufferPointer(rebasing: chunk[split...])
                if split < chunk.count {
                    let base = chunk.baseAddress!
                    let last = UnsafeRawBufferPointer(start: base + split - 16, count: 16)
                    let beforeLast = UnsafeRawBufferPointer(start: base + split - 32, count: 16)
                    halves[1].formatter.resume(
                        at: start + done + split, previousLine: last, previousSqueezed: last.elementsEqual(beforeLast))
                }
                DispatchQueue.concurrentPerform(iterations: split < chunk.count ? 2 : 1) { halves[$0].run() }
                halves[0].formatter.withFormattedText { out.write($0) }
                if split < chunk.count {
                    halves[1].formatter.withFormattedText { out.write($0) }
                    halves[0].formatter.takeOver(from: halves[1].formatter)
                }
                done += chunk.count
            }
            var tail: [UInt8] = []
            halves[0].formatter.finish(into: &tail)
            out.write(tail)
        }
        out.flush()
    }

    /// One half of a chunk being formatted on its own core; reused for every chunk so buffers are reused.
    private final class DumpHalf: @unchecked Sendable {
        var formatter: HexDumpFormatter
        var input = UnsafeRawBufferPointer(start: nil, count: 0)

        init(_ formatter: HexDumpFormatter) { self.formatter = formatter }

        func run() { formatter.format(input) }
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

    private func dumpLayout(_ layout: StructLayout) throws {
        let memory = try target.memory()
        try memory.attach(.readOnly)
        let decoded = layout.decode(try memory.read())
        let out = Output.standard
        if json || format == .json {
            out.print(
                try encodeJSON(
                    LayoutDumpJSON(
                        target: memory.target.description, size: memory.size,
                        fields: decoded.map(LayoutFieldJSON.init))))
            return
        }
        let nameWidth = decoded.map(\.field.name.count).max() ?? 0
        let typeWidth = decoded.map(\.field.typeName.count).max() ?? 0
        for d in decoded {
            let name = d.field.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            let type = d.field.typeName.padding(toLength: typeWidth, withPad: " ", startingAt: 0)
            out.print("\(name)  \(type)  @0x\(String(format: "%04x", d.field.offset))  \(d.display)")
        }
    }
}

/// `dump --layout --json`: schema documented in README "Layouts".
struct LayoutDumpJSON: Encodable {
    var target: String
    var size: Int
    var fields: [LayoutFieldJSON]
}

struct LayoutFieldJSON: Encodable {
    var name: String
    var type: String
    var offset: Int
    var size: Int
    var value: LayoutValueJSON

    init(_ d: StructLayout.DecodedField) {
        name = d.field.name
        type = d.field.typeName
        offset = d.field.offset
        size = d.field.size
        value = LayoutValueJSON(d.value)
    }
}

/// A field value as JSON: a number, an array of numbers, a string (char[N]), a hex string (bytes[N]), or null
/// past the end of the segment. Non-finite floats are the strings "nan", "inf", "-inf".
enum LayoutValueJSON: Encodable {
    case value(StructLayout.DecodedField.Value)

    init(_ v: StructLayout.DecodedField.Value) { self = .value(v) }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        guard case .value(let v) = self else { return }
        switch v {
        case .scalar(let s): try Self.encode(s, &c)
        case .array(let values):
            var u = encoder.unkeyedContainer()
            for s in values {
                switch s {
                case .signed(let x): try u.encode(x)
                case .unsigned(let x): try u.encode(x)
                case .float(let x): if x.isFinite { try u.encode(x) } else { try u.encode(s.description) }
                }
            }
        case .text(let t):
            try c.encode(t)
        case .bytes(let b): try c.encode(hexString(b))
        case .outOfRange: try c.encodeNil()
        }
    }

    private static func encode(_ s: ScalarValue, _ c: inout any SingleValueEncodingContainer) throws {
        switch s {
        case .signed(let x): try c.encode(x)
        case .unsigned(let x): try c.encode(x)
        case .float(let x): if x.isFinite { try c.encode(x) } else { try c.encode(s.description) }
        }
    }
}
