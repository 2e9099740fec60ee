import Dispatch

/// `dump`'s pipeline: copies a range of a segment out in 1 MiB chunks (fault-safe) and formats each chunk's two
/// halves on two cores, the second resuming from the first's last line, so the text is exactly what one formatter
/// would print. Writes go straight from the formatters' own buffers to `write`, without a copy.
public enum HexDumpPipeline {
    public static let chunkSize = 1 << 20

    /// Dumps `count` bytes at `start` of `reader` as `style` text.
    public static func run(
        _ reader: any ByteReader, start: Int, count: Int, style: HexDumpFormatter.Style, squeeze: Bool,
        write: (UnsafeRawBufferPointer) -> Void
    ) throws {
        let halves = [
            Half(HexDumpFormatter(style: style, squeeze: squeeze, startOffset: start)),
            Half(HexDumpFormatter(style: style, squeeze: squeeze, startOffset: start)),
        ]
        var done = 0
        try forEachChunk(reader, start: start, count: count) { chunk in
            guard chunk.count % 16 == 0 else {
                // The last chunk's odd tail: a partial line stays pending in the formatter until `finish`.
                var text: [UInt8] = []
                halves[0].formatter.feed(chunk, into: &text)
                text.withUnsafeBytes(write)
                done += chunk.count
                return
            }
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
            halves[0].formatter.withFormattedText(write)
            if split < chunk.count {
                halves[1].formatter.withFormattedText(write)
                halves[0].formatter.takeOver(from: halves[1].formatter)
            }
            done += chunk.count
        }
        var tail: [UInt8] = []
        halves[0].formatter.finish(into: &tail)
        tail.withUnsafeBytes(write)
    }

    /// Copies the range out in 1 MiB chunks and hands each to `body` (raw dumps use this alone).
    public static func forEachChunk(
        _ reader: any ByteReader, start: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var done = 0
        while done < count {
            let n = min(chunkSize, count - done)
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            try reader.read(into: slice, offset: start + done)
            try body(UnsafeRawBufferPointer(slice))
            done += n
        }
    }

    /// One half of a chunk being formatted on its own core; reused for every chunk so buffers are reused.
    private final class Half: @unchecked Sendable {
        var formatter: HexDumpFormatter
        var input = UnsafeRawBufferPointer(start: nil, count: 0)

        init(_ formatter: HexDumpFormatter) { self.formatter = formatter }

        func run() { formatter.format(input) }
    }
}
