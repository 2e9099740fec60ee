import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// `watch --log`, `snapshot`/`diff` and `dump --layout` end to end against real peers: exact lines, exit codes.
@Suite struct WatchCLITests {
    /// The log lines with the timestamp column replaced by `T` (after checking its format).
    static func normalised(_ line: String, json: Bool) throws -> String {
        let stamp = try Regex(#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"#)
        #expect(line.contains(stamp), "no timestamp in \(line)")
        return line.replacing(stamp, with: "T")
    }

    /// A Python peer with a fresh POSIX segment of `size` bytes.
    func pythonSegment(_ tag: String, size: Int = 64) throws -> (name: String, peer: Child) {
        let name = "/" + uniqueName(tag)
        let py = try PythonPeer.start()
        #expect(py.ask("create \(name.dropFirst()) \(size)") == "ok")
        return (name, py)
    }

    /// Starts `watch --log` and returns once it has the segment mapped and has had time for its first (baseline)
    /// scan, so no write of the test can land before the baseline.
    func startWatch(_ arguments: [String]) throws -> Child {
        let child = try ShmscopeBinary.start(["watch"] + arguments + ["--log", "--interval", "20"])
        try waitUntilMapped(pid: child.pid, arguments[0])
        return child
    }

    /// Polls /proc/PID/maps until the target shows up there: `/dev/shm/NAME`, or `/SYSV<key>` for System V.
    func waitUntilMapped(pid: pid_t, _ target: String) throws {
        let marker =
            target.hasPrefix("sysv:0x") ? "/SYSV" + target.dropFirst("sysv:0x".count) : "/dev/shm" + target
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let maps = try? readFile("/proc/\(pid)/maps"), String(decoding: maps, as: UTF8.self).contains(marker) {
                usleep(100_000)  // the baseline scan of a small segment takes microseconds; 5 intervals of slack
                return
            }
            usleep(10_000)
        }
        throw PeerError("watch never mapped \(target)")
    }

    @Test(.enabled(if: PythonPeer.available), arguments: [false, true])
    func logShowsAPeersWritesExactly(json: Bool) throws {
        let (name, py) = try pythonSegment("watchlog")
        defer { cleanUp(.posix(name: name)) }
        let watch = try startWatch([name] + (json ? ["--json"] : []))
        // One write per scan: the watcher scans every 20 ms, so 150 ms apart keeps them apart.
        for command in ["write 0 hello", "write 2 LL", "write 10 xyz"] {
            #expect(py.ask(command) == "ok")
            usleep(150_000)
        }
        var lines: [String] = []
        for _ in 0..<3 { lines.append(try Self.normalised(try #require(watch.readLine(timeout: 5)), json: json)) }
        watch.signal(SIGINT)
        let end = watch.finish()
        #expect(end.status == 0, "SIGINT ends the log with status 0: \(end.stderr)")
        #expect(end.stdout.isEmpty)
        if json {
            #expect(
                lines == [
                    #"{"time":"T","type":"change","offset":0,"length":5,"old":"0000000000","new":"68656c6c6f","field":null}"#,
                    #"{"time":"T","type":"change","offset":2,"length":2,"old":"6c6c","new":"4c4c","field":null}"#,
                    #"{"time":"T","type":"change","offset":10,"length":3,"old":"000000","new":"78797a","field":null}"#,
                ])
            for line in lines { _ = try JSONSerialization.jsonObject(with: Data(line.utf8)) }
        } else {
            #expect(
                lines == [
                    "T 0x00000000 5 0000000000 68656c6c6f -", "T 0x00000002 2 6c6c 4c4c -", "T 0x0000000a 3 000000 78797a -",
                ])
        }
        #expect(py.ask("quit") == "ok")
    }

    @Test(.enabled(if: PythonPeer.available)) func posixTruncationAndRemovalAreEvents() throws {
        let (name, py) = try pythonSegment("watchtrunc")
        defer { cleanUp(.posix(name: name)) }
        let watch = try startWatch([name])
        #expect(py.ask("write 4 ab") == "ok")
        let first = try #require(watch.readLine())
        #expect(try Self.normalised(first, json: false) == "T 0x00000004 2 0000 6162 -")
        #expect(truncate("/dev/shm" + name, 16) == 0)
        #expect(try Self.normalised(try #require(watch.readLine()), json: false) == "T event resized 64 16")
        #expect(py.ask("unlink") == "ok")
        #expect(try Self.normalised(try #require(watch.readLine()), json: false) == "T event removed")
        // Re-created under the same name: followed from a fresh baseline.
        try createPosixObjectAtOnce(name, size: 32)
        let other = try PythonPeer.start()
        #expect(other.ask("attach \(name.dropFirst())") == "ok")
        #expect(try Self.normalised(try #require(watch.readLine()), json: false) == "T event reattached 32")
        usleep(100_000)
        #expect(other.ask("write 20 Z") == "ok")
        #expect(try Self.normalised(try #require(watch.readLine()), json: false) == "T 0x00000014 1 00 5a -")
        watch.signal(SIGINT)
        #expect(watch.finish().status == 0)
        #expect(other.ask("unlink") == "ok")
        #expect(py.ask("quit") == "ok")
        #expect(other.ask("quit") == "ok")
    }

    @Test func systemVRemovalIsAnEventAndTheMappedSegmentStaysWatched() throws {
        let key = key_t(bitPattern: 0x5b00_0000 | UInt32.random(in: 1...0xff_ffff))
        defer { cleanUp(.sysvKey(key)) }
        let creator = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try creator.create(size: 128)
        defer { try? creator.detach() }
        let watch = try startWatch(["sysv:" + hex32(key), "--json"])
        try creator.write([1], at: 100)
        #expect(
            try Self.normalised(try #require(watch.readLine()), json: true)
                == #"{"time":"T","type":"change","offset":100,"length":1,"old":"00","new":"01","field":null}"#)
        try creator.remove()
        #expect(try Self.normalised(try #require(watch.readLine()), json: true) == #"{"time":"T","type":"removed"}"#)
        try creator.write([2], at: 101)
        #expect(
            try Self.normalised(try #require(watch.readLine()), json: true)
                == #"{"time":"T","type":"change","offset":101,"length":1,"old":"00","new":"02","field":null}"#)
        watch.signal(SIGTERM)
        #expect(watch.finish().status == 0)
    }

    @Test(.enabled(if: PythonPeer.available)) func countDurationAndRange() throws {
        let (name, py) = try pythonSegment("watchcount")
        defer { cleanUp(.posix(name: name)) }
        // --count 2 ends by itself after two changes.
        let counted = try startWatch([name, "--count", "2"])
        for (i, text) in ["a", "b", "c"].enumerated() {
            #expect(py.ask("write \(i * 8) \(text)") == "ok")
            usleep(100_000)
        }
        let c = counted.finish()
        #expect(c.status == 0)
        #expect(c.stdout.split(separator: "\n").count == 2)
        // --range 8:4 sees only bytes 8...11.
        let ranged = try startWatch([name, "--range", "8:4", "--count", "1"])
        #expect(py.ask("write 0 X") == "ok")
        usleep(100_000)
        #expect(py.ask("write 12 X") == "ok")
        usleep(100_000)
        #expect(py.ask("write 9 Y") == "ok")
        let r = ranged.finish()
        #expect(r.status == 0)
        #expect(try Self.normalised(String(r.stdout.dropLast()), json: false) == "T 0x00000009 1 00 59 -")
        // --duration ends after the time even when nothing changes.
        let started = Date()
        let timed = try ShmscopeBinary.run(["watch", name, "--log", "--duration", "0.5"])
        #expect(timed.status == 0 && timed.stdout.isEmpty)
        #expect(Date().timeIntervalSince(started) < 3)
        // Options that only make sense with --log (or --until, --record) are usage errors.
        let bad = try ShmscopeBinary.run(["watch", name, "--count", "1"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--range, --count and --duration go with --log, --until or --record"))
        let badRange = try ShmscopeBinary.run(["watch", name, "--log", "--range", "8"])
        #expect(badRange.status == 2)
        #expect(py.ask("quit") == "ok")
    }

    @Test(.enabled(if: PythonPeer.available)) func aClosedPipeEndsTheLogWithStatusZero() throws {
        let (name, py) = try pythonSegment("watchpipe")
        defer { cleanUp(.posix(name: name)) }
        let script =
            "set -o pipefail; '\(ShmscopeBinary.path)' watch \(name) --log --interval 20 | head -n 1; echo status=$?"
        let shell = try Child("/bin/bash", ["-c", script], environment: ShmscopeBinary.environment)
        // The watcher is the shell's child; wait until it has the segment mapped.
        var watcherPID: pid_t?
        let deadline = Date().addingTimeInterval(10)
        while watcherPID == nil && Date() < deadline {
            let children = (try? readFile("/proc/\(shell.pid)/task/\(shell.pid)/children")).map {
                String(decoding: $0, as: UTF8.self).split(separator: " ").compactMap { pid_t($0) }
            }
            watcherPID = children?.first { ProcessInfoReader.command(pid: $0) == "shmscope" }
            if watcherPID == nil { usleep(10_000) }
        }
        try waitUntilMapped(pid: try #require(watcherPID), name)
        #expect(py.ask("write 0 one") == "ok")
        let line = try #require(shell.readLine())
        #expect(try Self.normalised(line, json: false) == "T 0x00000000 3 000000 6f6e65 -")
        // No further change is needed: the watcher notices the reader is gone.
        let end = shell.finish()
        #expect(end.stdout == "status=0\n")
        #expect(py.ask("quit") == "ok")
    }

    @Test(.enabled(if: PythonPeer.available)) func infoShowsThePythonPeer() throws {
        let (name, py) = try pythonSegment("watchinfo")
        defer { cleanUp(.posix(name: name)) }
        let info = try ShmscopeBinary.run(["info", name])
        #expect(info.status == 0)
        #expect(info.stdout.contains("attached    pid \(py.pid) python3 uid 0 (root) rw"))
        #expect(py.ask("quit") == "ok")
    }

    @Test(.enabled(if: PythonPeer.available)) func snapshotThenDiffFindsTheChangedRuns() throws {
        let (name, py) = try pythonSegment("diff", size: 32)
        defer { cleanUp(.posix(name: name)) }
        #expect(py.ask("write 0 hello") == "ok")
        let file = "/tmp/\(uniqueName("diff")).snap"
        defer { unlink(file) }
        let saved = try ShmscopeBinary.run(["snapshot", name, file])
        #expect(saved.status == 0)
        #expect(saved.stdout == "saved 32 bytes of \(name) to \(file)\n")
        let same = try ShmscopeBinary.run(["diff", name, file])
        #expect(same.status == 0 && same.stdout == "0 runs, 0 bytes differ\n")
        #expect(py.ask("write 1 EL") == "ok")
        #expect(py.ask("write 20 zz") == "ok")
        let text = try ShmscopeBinary.run(["diff", name, file])
        #expect(text.status == 0)
        #expect(text.stdout == "0x00000001 2 656c 454c\n0x00000014 2 0000 7a7a\n2 runs, 4 bytes differ\n")
        let json = try ShmscopeBinary.run(["diff", name, file, "--json"])
        #expect(json.status == 0)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(doc["run_count"] as? Int == 2 && doc["bytes_differ"] as? Int == 4)
        #expect(doc["size"] as? Int == 32 && doc["snapshot_size"] as? Int == 32)
        #expect(doc["snapshot_target"] as? String == name)
        let runs = try #require(doc["runs"] as? [[String: Any]])
        #expect(runs.map { $0["offset"] as? Int } == [1, 20])
        #expect(runs.map { $0["length"] as? Int } == [2, 2])
        #expect(runs.map { $0["old"] as? String } == ["656c", "0000"])
        #expect(runs.map { $0["new"] as? String } == ["454c", "7a7a"])
        // Not a snapshot: one line, runtime failure.
        let bogus = "/tmp/\(uniqueName("bogus"))"
        defer { unlink(bogus) }
        _ = FileManager.default.createFile(atPath: bogus, contents: Data("nope".utf8))
        let bad = try ShmscopeBinary.run(["diff", name, bogus])
        #expect(bad.status == 1)
        #expect(
            bad.stderr == "shmscope: \(bogus): not a shmscope snapshot (it must start with `SHMSCOPE-SNAPSHOT 1`)\n")
        #expect(py.ask("quit") == "ok")
    }

    @Test(.enabled(if: QtPeer.available)) func dumpLayoutDecodesAQtPeersStruct() throws {
        let key = uniqueName("layout")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 64") == "ok")
        // counter u32le 1234, name "qtpeer", temps 1.5 and -2.5, flags u16be 0x0102, raw at 0x30.
        #expect(qt.ask("writehex 0 d2040000") == "ok")
        #expect(qt.ask("write 4 qtpeer") == "ok")
        #expect(qt.ask("writehex 12 0000c03f000020c0") == "ok")
        #expect(qt.ask("writehex 20 0102") == "ok")
        #expect(qt.ask("writehex 48 deadbeef") == "ok")
        let file = "/tmp/\(uniqueName("layout")).layout"
        defer { unlink(file) }
        let layout = """
            # the peer's struct
            counter u32le @0
            name    char[8]
            temps   f32[2]
            flags   u16be
            raw     bytes[4] @0x30
            tail    u64 @60
            """
        _ = FileManager.default.createFile(atPath: file, contents: Data(layout.utf8))
        let text = try ShmscopeBinary.run(["dump", "qt:" + key, "--layout", file])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(
            text.stdout.split(separator: "\n").map(String.init) == [
                "counter  u32le     @0x0000  1234",
                "name     char[8]   @0x0004  \"qtpeer\"",
                "temps    f32le[2]  @0x000c  [1.5, -2.5]",
                "flags    u16be     @0x0014  258",
                "raw      bytes[4]  @0x0030  de ad be ef",
                "tail     u64le     @0x003c  (past the end)",
            ])
        let json = try ShmscopeBinary.run(["dump", "qt:" + key, "--layout", file, "--json"])
        #expect(json.status == 0)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(doc["target"] as? String == "qt:" + key && doc["size"] as? Int == 64)
        let fields = try #require(doc["fields"] as? [[String: Any]])
        #expect(fields.map { $0["name"] as? String } == ["counter", "name", "temps", "flags", "raw", "tail"])
        #expect(fields[0]["value"] as? Int == 1234 && fields[0]["type"] as? String == "u32le")
        #expect(fields[1]["value"] as? String == "qtpeer")
        #expect(fields[2]["value"] as? [Double] == [1.5, -2.5])
        #expect(
            fields[3]["value"] as? Int == 258 && fields[3]["offset"] as? Int == 20 && fields[3]["size"] as? Int == 2)
        #expect(fields[4]["value"] as? String == "deadbeef")
        #expect(fields[5]["value"] is NSNull)

        // A layout error names the file and line; it is a usage error.
        let broken = "/tmp/\(uniqueName("broken")).layout"
        defer { unlink(broken) }
        _ = FileManager.default.createFile(atPath: broken, contents: Data("a u8\n\nb u128\n".utf8))
        let bad = try ShmscopeBinary.run(["dump", "qt:" + key, "--layout", broken])
        #expect(bad.status == 2)
        #expect(
            bad.stderr
                == "shmscope: \(broken): line 3: unknown type `u128`: use i8 u8 i16 u16 i32 u32 i64 u64 f32 f64 (+le/be), char[N] or bytes[N]\n"
        )
        #expect(qt.ask("quit") == "ok")
    }
}
