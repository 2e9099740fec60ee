import Glibc

/// The structure the demo writer keeps up to date, like a real Qt peer would (see `examples/demo.layout`):
///
///     @0    magic        char[8]    "SHMDEMO"
///     @8    counter      u64le      updates so far
///     @16   time_ns      u64le      wall clock of the last update (ns since the epoch)
///     @24   writer_pid   u32le
///     @28   interval_ms  u32le
///     @32   message      char[64]   "hello from the shmscope demo, update #N"
///     @96   temps        f32le[4]   slowly drifting temperatures
///     @112  wave         f64le      sin(counter / 10)
///     @120  histogram    bytes[64]  byte counter % 64 goes up by one each update
public struct DemoRecord: Sendable {
    public static let size = 512

    /// The record as a layout file, built into the binary so the demo's layout pane (`t`) works out of the box;
    /// `examples/demo.layout` is the same text (a test keeps them equal).
    public static let layoutText = """
        # The record `shmscope demo` keeps up to date (Sources/ShmCore/DemoRecord.swift).
        magic        char[8]   @0
        counter      u64le     @8
        time_ns      u64le     @16
        writer_pid   u32le     @24
        interval_ms  u32le     @28
        message      char[64]  @32
        temps        f32le[4]  @96
        wave         f64le     @112
        histogram    bytes[64] @120

        """

    /// `layoutText` parsed; it is ours and valid, so a failure is a bug.
    public static var layout: StructLayout {
        do { return try StructLayout.parse(layoutText) } catch { fatalError("the built-in demo layout does not parse: \(error)") }
    }
    public static let magic = Array("SHMDEMO\0".utf8)

    public var counter: UInt64
    public var timeNanoseconds: UInt64
    public var writerPID: UInt32
    public var intervalMS: UInt32

    public init(counter: UInt64, timeNanoseconds: UInt64, writerPID: UInt32, intervalMS: UInt32) {
        self.counter = counter
        self.timeNanoseconds = timeNanoseconds
        self.writerPID = writerPID
        self.intervalMS = intervalMS
    }

    public var message: String { "hello from the shmscope demo, update #\(counter)" }

    /// Bytes 0..<184, every field this update changes (`histogram` given the previous bytes), contiguous so the
    /// writer stores them in one copy and a reader without the lock rarely sees half an update.
    public static let encodedSize = 184
    public func encode(histogram: [UInt8]) -> [UInt8] {
        var fields: [(Int, [UInt8])] = []
        fields.append((0, Self.magic))
        fields.append((8, littleEndian(counter)))
        fields.append((16, littleEndian(timeNanoseconds)))
        fields.append((24, littleEndian(writerPID)))
        fields.append((28, littleEndian(intervalMS)))
        var text = Array(message.utf8.prefix(63))
        text += [UInt8](repeating: 0, count: 64 - text.count)
        fields.append((32, text))
        var temps: [UInt8] = []
        for i in 0..<4 {
            let t = Float(20 + i * 5) + Float(sin(Double(counter) / 25 + Double(i)))
            temps += littleEndian(t.bitPattern)
        }
        fields.append((96, temps))
        fields.append((112, littleEndian(sin(Double(counter) / 10).bitPattern)))
        var histogram = histogram.count == 64 ? histogram : [UInt8](repeating: 0, count: 64)
        histogram[Int(counter % 64)] &+= 1
        fields.append((120, histogram))
        var record: [UInt8] = []
        record.reserveCapacity(Self.encodedSize)
        for (offset, bytes) in fields {
            precondition(offset == record.count, "demo record fields are contiguous")
            record += bytes
        }
        return record
    }
}

func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}
