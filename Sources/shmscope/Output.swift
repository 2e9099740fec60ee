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

    /// Appends a line for people: control characters from input are escaped (see `terminalSafe`).
    func print(_ text: String) {
        buffer.append(contentsOf: text.terminalSafe(keepingNewlines: true).utf8)
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
                let code = errno
                if code == EINTR { continue }
                // A reader that went away (`| head`) is not a failure; anything else is (a full disk, EIO, a closed
                // descriptor): the output is incomplete, so the command must not report success.
                if code == EPIPE { exit(0) }
                outputFailed(code)
            }
            if n == 0 { outputFailed(EIO) }
            done += n
        }
    }

    /// Ends the program with one line on stderr after a write to our output failed (never returns, never flushes
    /// stdout again).
    private func outputFailed(_ code: Int32) -> Never {
        buffer.removeAll()
        let name = fd == 1 ? "standard output" : fd == 2 ? "standard error" : "output"
        let line = "shmscope: cannot write to \(name): \(String(cString: strerror(code)))\(advice(code))\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        exit(1)
    }

    private func advice(_ code: Int32) -> String {
        switch code {
        case ENOSPC, EDQUOT: "; free some space on the file system it goes to"
        case EBADF: "; standard output is closed"
        default: ""
        }
    }

    /// Prints one line to stderr and exits.
    static func fail(_ line: String, code: Int32) -> Never {
        standard.flush()
        let err = Output(fd: 2)
        err.print(line.terminalSafe())
        err.flush()
        exit(code)
    }

    /// A note on stderr that does not end the program.
    static func note(_ line: String) {
        let err = Output(fd: 2)
        err.print(line.terminalSafe())
        err.flush()
    }
}

/// The width output is fitted to: `COLUMNS` when set (as ls and lsipc honour it), else the terminal's, else 80
/// columns (a pipe or a file). The same order swift-argument-parser uses for --help.
func terminalColumns() -> Int {
    if let text = getenv("COLUMNS").map({ String(cString: $0) }), let n = Int(text), n > 0 { return n }
    var size = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    return 80
}
