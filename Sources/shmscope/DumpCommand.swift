import ArgumentParser
import Glibc
import FoundationEssentials
import ShmCore

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
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

    @Option(name: .long, help: "How many bytes (64, 0x40, 4K; default: to the end).")
    var length: String?

    @Option(name: .long, help: "canonical (= hexdump -C), xxd, raw or json.")
    var format: Format = .canonical

    @Flag(name: .long, help: "Print repeated lines instead of `*` (canonical format).")
    var noSqueeze = false

    /// `--layout FILE` (or a header with `--struct`): decode the fields instead of dumping bytes.
    @OptionGroup var layouts: LayoutOptions

    @Flag(name: .long, help: "Same as --format json.")
    var json = false

    func validate() throws {
        try target.refuseLock(in: "dump")
        _ = try startOffset()
        _ = try byteCount()
    }

    private func startOffset() throws -> Int {
        try usage { () throws(NumberSyntaxError) in try NumberParser.offset(offset, label: "--offset") }
    }

    private func byteCount() throws -> Int? {
        guard let length else { return nil }
        return try usage { () throws(NumberSyntaxError) in try NumberParser.size(length, label: "--length") }
    }

    func run() throws {
        if let layout = try layouts.load() {
            try dumpLayout(layout)
            return
        }
        let format: Format = json ? .json : self.format
        let memory = try target.memory()
        try memory.attach(.readOnly)
        let start = try startOffset()
        guard start <= memory.size else {
            throw CommandError(message: "--offset \(start) is past the end of the segment (\(memory.size) bytes)")
        }
        let count = min(try byteCount() ?? (memory.size - start), memory.size - start)
        widenPipe(count: count)
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
            try HexDumpPipeline.forEachChunk(memory, start: start, count: count) { out.write($0) }
        case .canonical, .xxd:
            try HexDumpPipeline.run(
                memory, start: start, count: count, style: format == .xxd ? .xxd : .canonical, squeeze: !noSqueeze
            ) { out.write($0) }
        }
        out.flush()
    }

    private func dumpLayout(_ layout: StructLayout) throws {
        let memory = try target.memory()
        try memory.attach(.readOnly)
        // Only the bytes the layout covers: a small layout over a huge segment reads a few bytes, not all of it.
        let span = layout.span.clamped(to: 0..<memory.size)
        let decoded = layout.decode(try memory.read(offset: span.lowerBound, count: span.count), base: span.lowerBound)
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
            let name = d.field.name.padded(to: nameWidth)
            let type = d.field.typeName.padded(to: typeWidth)
            out.print("\(name)  \(type)  @0x\(hexPadded(d.field.offset, width: 4))  \(d.display)")
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

/// A field value as JSON: a number, `true`/`false` (bool), an enum constant's name as a string (its number when no
/// constant has the value), an array of those, a string (`char[N]`, UTF-16 text), a hex string (`bytes[N]`), or
/// null past the end of the segment. Non-finite floats are the strings "nan", "inf", "-inf".
struct LayoutValueJSON: Encodable {
    var value: StructLayout.Value

    init(_ v: StructLayout.Value) { value = v }

    func encode(to encoder: any Encoder) throws {
        if case .array(let values) = value {
            var u = encoder.unkeyedContainer()
            for v in values { try u.encode(LayoutValueJSON(v)) }
            return
        }
        var c = encoder.singleValueContainer()
        switch value {
        case .number(.signed(let x)): try c.encode(x)
        case .number(.unsigned(let x)): try c.encode(x)
        case .number(.float(let x)): if x.isFinite { try c.encode(x) } else { try c.encode(value.display) }
        case .boolean(let b): try c.encode(b)
        case .enumCase(let name, let raw): if let name { try c.encode(name) } else { try c.encode(raw) }
        case .text(let t): try c.encode(t)
        case .bytes(let b): try c.encode(hexString(b))
        case .array: break
        case .outOfRange: try c.encodeNil()
        }
    }
}

/// A dump of more than a few pages into a pipe: grow the pipe's buffer (up to 1 MiB, the unprivileged limit) so each
/// write moves a formatted chunk with far fewer wake-ups of the reader. Nothing happens for a file or a terminal.
private func widenPipe(count: Int) {
    var st = stat()
    guard count > 64 << 10, fstat(1, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else { return }
    let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ (Linux); glibc defines it only under _GNU_SOURCE
    _ = fcntl(1, setPipeSize, Int32(1 << 20))
}
