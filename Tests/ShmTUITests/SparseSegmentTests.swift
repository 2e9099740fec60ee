import Glibc
import ShmCore
import ShmTestSupport
import Testing

@testable import ShmTUI

/// Looking changes nothing, however big the segment: an 8 GiB sparse POSIX object and a 1 GiB System V segment,
/// each with a few KiB of data, are opened read-only (a window read, a watcher pass, a search), watched by
/// `watch --log` and dumped in part, and their allocation is the same afterwards (st_blocks for the POSIX object,
/// the kernel's rss for the System V segment). Every object is removed even when a check fails.
@Suite(.serialized) struct SparseSegmentTests {
    /// What is written where: a few KiB at a few offsets, the rest holes.
    static func data(size: Int) -> [(offset: Int, bytes: [UInt8])] {
        [
            (0, [UInt8](repeating: 0x68, count: 4096)),
            (size / 8 * 3 + 5, Array("needle in a sparse haystack".utf8)),
            (size / 2, Array("at the middle".utf8)),
            (size - 16, Array("the very end".utf8)),
        ]
    }

    /// Everything a read-only look does, in process and through the binary.
    static func look(at target: SegmentTarget, cli: String, size: Int, snapshotFile file: String) throws {
        let data = Self.data(size: size)
        let source = try SharedMemorySource(target: target, readOnly: true)
        defer { source.close() }
        #expect(source.size == size)
        // The hex view's window.
        let window = try source.read(offset: size / 2 - 64, count: 4096)
        #expect(Array(window[64..<77]) == Array("at the middle".utf8))
        #expect(window[0..<64].allSatisfy { $0 == 0 } && window[77...].allSatisfy { $0 == 0 })
        // The engine behind the activity map and `watch --log`: a whole pass.
        let watcher = SegmentWatcher(segment: source, blockSizing: .scaled)
        #expect(watcher.followPresence().isEmpty)
        watcher.scanPass(now: 0)
        #expect(watcher.tracker.scanCount == 1)
        // Search, as the view's `/` does it: in chunks, forward and (wrapping) backward.
        let needle = Array("needle in a sparse haystack".utf8)
        let hit = try findBytes(needle, size: source.size, from: 4096, forward: true) {
            try source.read(offset: $0, count: $1)
        }
        #expect(hit?.offset == data[1].offset && hit?.wrapped == false)
        let back = try findBytes(Array("the very".utf8), size: source.size, from: 10, forward: false) {
            try source.read(offset: $0, count: $1)
        }
        #expect(back?.offset == size - 16 && back?.wrapped == true)

        let watch = try ShmscopeBinary.run(["watch", cli, "--log", "--duration", "1s"])
        #expect(watch.status == 0 && watch.stdout.isEmpty, "\(watch.stderr)")
        let dump = try ShmscopeBinary.run(["dump", cli, "--offset", String(size / 2), "--length", "64K"])
        #expect(dump.status == 0, "\(dump.stderr)")
        let lines = dump.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix("|at the middle...|") == true, "\(lines.first ?? "")")
        #expect(lines.count == 4 && lines[2] == "*")

        // A layout reads only the bytes it covers.
        let layoutFile = file + ".layout"
        defer { unlink(layoutFile) }
        let layoutText = "middle char[13] @\(size / 2)\n"
        #expect(
            layoutText.withCString { text in
                let fd = open(layoutFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                defer { close(fd) }
                return write(fd, text, strlen(text)) == strlen(text)
            })
        let fields = try ShmscopeBinary.run(["dump", cli, "--layout", layoutFile])
        #expect(
            fields.status == 0 && fields.stdout.hasSuffix("\"at the middle\"\n"), "\(fields.stdout)\(fields.stderr)")

        // snapshot and diff stream: the file is as sparse as the segment, and a change shows as one run.
        let snap = try ShmscopeBinary.run(["snapshot", cli, file])
        #expect(snap.status == 0 && snap.stdout == "saved \(size) bytes of \(cli) to \(file)\n", "\(snap.stderr)")
        var st = stat()
        #expect(stat(file, &st) == 0 && Int(st.st_size) > size && Int(st.st_blocks) < 2048, "\(st.st_blocks) blocks")
        let same = try ShmscopeBinary.run(["diff", cli, file])
        #expect(same.status == 0 && same.stdout == "0 runs, 0 bytes differ\n", "\(same.stdout)\(same.stderr)")
    }

    /// After the allocation is measured: a write into a hole is the one run `diff` reports.
    static func diffAfterAChange(cli: String, size: Int, snapshotFile file: String) throws {
        let w = try ShmscopeBinary.run(["write", cli, "--offset", String(size / 4), "--text", "new", "--no-lock"])
        #expect(w.status == 0, "\(w.stderr)")
        let diff = try ShmscopeBinary.run(["diff", cli, file])
        #expect(
            diff.stdout == "0x\(String(size / 4, radix: 16).leftPadded(8)) 3 000000 6e6577\n1 run, 3 bytes differ\n",
            "\(diff.stdout)\(diff.stderr)")
    }

    @Test func eightGiBPosixObjectStaysSparse() throws {
        let name = "/" + uniqueName("sparse8g")
        defer { cleanUp(.posix(name: name)) }
        let size = 8 << 30
        let fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(ftruncate(fd, off_t(size)) == 0)
        for (offset, bytes) in Self.data(size: size) {
            #expect(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) } == bytes.count)
        }
        var st = stat()
        fstat(fd, &st)
        let before = Int(st.st_blocks)
        #expect(before > 0 && before <= 64)

        let file = "/tmp/" + uniqueName("sparsesnap") + ".snap"
        defer { unlink(file) }
        try Self.look(at: .posix(name: name), cli: name, size: size, snapshotFile: file)

        fstat(fd, &st)
        let after = Int(st.st_blocks)
        print("8 GiB POSIX object: st_blocks \(before) before, \(after) after")
        #expect(after == before)
        try Self.diffAfterAChange(cli: name, size: size, snapshotFile: file)
    }

    @Test func oneGiBSystemVSegmentStaysSparse() throws {
        let size = 1 << 30
        let key = key_t(bitPattern: 0x5c00_0000 | UInt32.random(in: 0...0xffffff))
        let creator = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try creator.create(size: size)
        defer { try? creator.remove() }
        for (offset, bytes) in Self.data(size: size) { try creator.write(bytes, at: offset) }
        let shmid = try #require(creator.shmid)
        try creator.detach()
        func resident() -> Int { ProcViews.systemVSegments().first { $0.shmid == shmid }?.rss ?? -1 }
        let before = resident()
        #expect(before > 0 && before <= 8 * 4096)

        let file = "/tmp/" + uniqueName("sparsesnap") + ".snap"
        defer { unlink(file) }
        try Self.look(at: .sysvID(shmid), cli: "shmid:\(shmid)", size: size, snapshotFile: file)

        let after = resident()
        print("1 GiB System V segment: rss \(before) bytes before, \(after) after")
        #expect(after == before)
        try Self.diffAfterAChange(cli: "shmid:\(shmid)", size: size, snapshotFile: file)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
