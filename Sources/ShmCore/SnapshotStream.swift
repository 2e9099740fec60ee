import Glibc

/// Snapshots of segments of any size: saved and compared a chunk at a time, so neither the segment nor the file is
/// ever whole in memory, and a sparse segment stays sparse (its holes are read as holes, never faulted in, and stay
/// holes in the file).
extension Snapshot {
    /// 64 KiB: a hole is skipped (and left a hole in the file) at this granularity.
    static let streamChunk = 64 << 10

    /// Saves `reader`'s bytes to `path` in the snapshot format, as a new file (see `writeNewFile`: 0600, via a
    /// temporary file and rename, never through a symlink, an existing file replaced only when `replace`). A chunk
    /// that is a hole of a sparse segment is skipped, so the file has a hole there too; the size is set at the end.
    /// Returns the number of bytes saved.
    public static func save(
        _ reader: any ByteReader, target: String, time: Double, toFile path: String, replace: Bool = false
    ) throws(ShmError) -> Int {
        let size = reader.byteCount
        let head = header(target: target, size: size, time: time)
        func failed(_ e: Errno, _ op: String) -> ShmError {
            ShmError.fromFileErrno(e.code, operation: op, path: path, context: "cannot write the snapshot")
        }
        try writeNewFile(path, replace: replace) { fd throws(ShmError) in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(streamChunk, head.count), alignment: 16)
            defer { buffer.deallocate() }
            buffer.copyBytes(from: head)
            do throws(Errno) { try writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<head.count])) } catch {
                throw failed(error, "write")
            }
            var offset = 0
            var skipped = false
            while offset < size {
                let n = min(streamChunk, size - offset)
                if reader.isHole(offset: offset, count: n) {
                    skipped = true
                    offset += n
                    continue
                }
                let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
                try readChunk(reader, into: chunk, offset: offset)
                do throws(Errno) {
                    if skipped { _ = try Sys.lseek(fd, head.count + offset, SEEK_SET) }
                    try writeAll(fd, UnsafeRawBufferPointer(chunk))
                } catch { throw failed(error, "write") }
                skipped = false
                offset += n
            }
            do throws(Errno) { try Sys.ftruncate(fd, head.count + size) } catch { throw failed(error, "ftruncate") }
        }
        return size
    }

    /// Compares the snapshot file at `path` with `reader`'s bytes now, a chunk at a time: the file's header, and
    /// the runs where they differ over the bytes both have (old = the snapshot), in order, joined across chunks.
    public static func differences(file path: String, against reader: any ByteReader) throws(ShmError)
        -> (header: Header, runs: [ByteChange])
    {
        let file = try SnapshotFile(path: path)
        // The descriptor is the file object's: keep it open until the end.
        defer { withExtendedLifetime(file) {} }
        let fd = file.fd
        let header = file.header
        func failed(_ e: Errno) -> ShmError {
            ShmError.fromFileErrno(e.code, operation: "read", path: path, context: "cannot read the snapshot")
        }
        let old = UnsafeMutableRawBufferPointer.allocate(byteCount: streamChunk, alignment: 16)
        let new = UnsafeMutableRawBufferPointer.allocate(byteCount: streamChunk, alignment: 16)
        defer {
            old.deallocate()
            new.deallocate()
        }
        let common = min(header.size, reader.byteCount)
        var runs: [ByteChange] = []
        var offset = 0
        // Where the file's next data starts (SEEK_DATA), so a hole in both the file and the segment is skipped
        // unread; -1: not asked yet.
        var nextFileData = -1
        func fileHole(_ from: Int, _ count: Int) -> Bool {
            if nextFileData < from {
                do { nextFileData = try Sys.lseek(fd, from, ExtentMap.seekData) } catch {
                    nextFileData = error.code == ENXIO ? Int.max : from
                }
            }
            return nextFileData >= from + count
        }
        while offset < common {
            let n = min(streamChunk, common - offset)
            if fileHole(header.end + offset, n) && reader.isHole(offset: offset, count: n) {
                offset += n
                continue
            }
            let r: Int
            do {
                _ = try Sys.lseek(fd, header.end + offset, SEEK_SET)
                r = try readFully(fd, UnsafeMutableRawBufferPointer(rebasing: old[0..<n]))
            } catch { throw failed(error) }
            if r != n { throw failed(Errno(code: EIO)) }
            let chunk = UnsafeMutableRawBufferPointer(rebasing: new[0..<n])
            if reader.isHole(offset: offset, count: n) {
                chunk.initializeMemory(as: UInt8.self, repeating: 0)
            } else {
                try readChunk(reader, into: chunk, offset: offset)
            }
            // memcmp first: equal chunks (most of them) cost no byte-by-byte loop.
            if memcmp(old.baseAddress!, new.baseAddress!, n) != 0 {
                for var run in differences(Array(old[0..<n]), Array(new[0..<n])) {
                    run.offset += offset
                    if var last = runs.last, last.offset + last.length == run.offset {
                        last.old! += run.old!
                        last.new += run.new
                        runs[runs.count - 1] = last
                    } else {
                        runs.append(run)
                    }
                }
            }
            offset += n
        }
        return (header, runs)
    }

    private static func readChunk(_ reader: any ByteReader, into chunk: UnsafeMutableRawBufferPointer, offset: Int)
        throws(ShmError)
    {
        do { try reader.read(into: chunk, offset: offset) } catch let e as ShmError { throw e } catch {
            throw ShmError(.unknown, operation: "read", target: "segment", message: "\(error)")
        }
    }
}

/// A snapshot file opened for reading, its bytes readable a chunk at a time like a segment's: so two snapshot files
/// compare the way a snapshot and a segment do (`shmscope diff OLD.snap NEW.snap`), neither ever whole in memory.
public final class SnapshotFile: ByteReader {
    public let path: String
    public let header: Snapshot.Header
    let fd: Int32

    /// Opens `path` and checks its header, and that the file holds exactly the bytes the header says.
    public init(path: String) throws(ShmError) {
        self.path = path
        do { fd = try Sys.open(path, O_RDONLY | O_CLOEXEC) } catch let e {
            throw ShmError.fromFileErrno(e.code, operation: "open", path: path, context: "cannot read the snapshot")
        }
        func failed(_ e: Errno) -> ShmError {
            ShmError.fromFileErrno(e.code, operation: "read", path: path, context: "cannot read the snapshot")
        }
        let start = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { start.deallocate() }
        let got: Int
        let fileSize: Int
        do throws(Errno) {
            got = try readFully(fd, start)
            fileSize = Int(try Sys.fstat(fd).st_size)
        } catch {
            Sys.close(fd)
            throw failed(error)
        }
        do { header = try Snapshot.parseHeader(Array(start[0..<got])) } catch {
            Sys.close(fd)
            throw ShmError(.unknown, operation: "read", target: path, message: error.message)
        }
        guard fileSize - header.end == header.size else {
            Sys.close(fd)
            throw ShmError(
                .unknown, operation: "read", target: path,
                message:
                    "snapshot is cut short or padded: header says \(header.size) bytes, file holds \(fileSize - header.end)"
            )
        }
    }

    deinit { Sys.close(fd) }

    /// Whether the file at `path` starts like a snapshot (its magic line); false for anything unreadable.
    public static func looksLikeSnapshot(_ path: String) -> Bool {
        guard let fd = try? Sys.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) else { return false }
        defer { Sys.close(fd) }
        guard let st = try? Sys.fstat(fd), st.st_mode & S_IFMT == S_IFREG else { return false }
        let magic = Array((Snapshot.magic + "\n").utf8)
        let start = UnsafeMutableRawBufferPointer.allocate(byteCount: magic.count, alignment: 1)
        defer { start.deallocate() }
        let got = (try? readFully(fd, start)) ?? 0
        return got == magic.count && Array(start) == magic
    }

    public var byteCount: Int { header.size }

    public func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws {
        do throws(Errno) {
            _ = try Sys.lseek(fd, header.end + offset, SEEK_SET)
            if try readFully(fd, buffer) != buffer.count { throw Errno(code: EIO) }
        } catch {
            throw ShmError.fromFileErrno(error.code, operation: "read", path: path, context: "cannot read the snapshot")
        }
    }

    /// A hole of the file (a sparse segment's hole saved as one) reads as zeros without being read.
    public func isHole(offset: Int, count: Int) -> Bool {
        guard let data = try? Sys.lseek(fd, header.end + offset, ExtentMap.seekData) else { return false }
        return data >= header.end + offset + count
    }
}

/// Writes all of `buffer` (retrying short writes).
private func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(Errno) {
    var done = 0
    while done < buffer.count {
        done += try Sys.write(fd, UnsafeRawBufferPointer(rebasing: buffer[done...]))
    }
}

/// Reads until `buffer` is full or the file ends; returns how many bytes were read.
private func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
    var done = 0
    while done < buffer.count {
        let n = try Sys.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
        if n == 0 { break }
        done += n
    }
    return done
}
