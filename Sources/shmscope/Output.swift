import Glibc

/// Buffered output to a file descriptor. A closed pipe (`| head`) ends the program quietly with status 0.
final class Output {
    nonisolated(unsafe) static let standard = Output(fd: 1)
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    func print(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ bytes: [UInt8]) {
        if buffer.isEmpty && bytes.count >= 1 << 16 {
            writeAll(bytes)
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Writes bytes someone else owns; large ones go straight out without a copy.
    func write(_ bytes: UnsafeRawBufferPointer) {
        if buffer.isEmpty && bytes.count >= 1 << 16 {
            writeAll(bytes)
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeAll($0) }
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) {
        var done = 0
        while done < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                return
            }
            done += n
        }
    }

    /// Prints one line to stderr and exits.
    static func fail(_ line: String, code: Int32) -> Never {
        standard.flush()
        let err = Output(fd: 2)
        err.print(line)
        err.flush()
        exit(code)
    }

    /// A note on stderr that does not end the program.
    static func note(_ line: String) {
        let err = Output(fd: 2)
        err.print(line)
        err.flush()
    }
}
