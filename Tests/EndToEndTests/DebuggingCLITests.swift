import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// `watch --until/--freeze/--exec`, `watch --record` and `replay` end to end against a real Qt 5 peer.
@Suite(.enabled(if: QtPeer.available)) struct DebuggingCLITests {
    func qtSegment(_ tag: String, size: Int = 64) throws -> (key: String, peer: Child) {
        let key = uniqueName(tag)
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create \(size)") == "ok")
        return (key, qt)
    }

    /// Waits until `pid` has a System V segment mapped (the watch attached) and has had time for its baseline.
    func waitUntilAttached(_ pid: pid_t) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let maps = try? readFile("/proc/\(pid)/maps"), String(decoding: maps, as: UTF8.self).contains("/SYSV") {
                usleep(150_000)  // several 20 ms intervals: the first (baseline) poll is done
                return
            }
            usleep(10_000)
        }
        throw PeerError("watch never attached")
    }

    func temporaryPath(_ tag: String) -> String { "/tmp/" + uniqueName(tag) }

    @Test func untilPrintsTheHitRunsExecAndExitsZero() throws {
        let (key, qt) = try qtSegment("until")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let envFile = temporaryPath("hitenv")
        defer { unlink(envFile) }
        let watch = try ShmscopeBinary.start([
            "watch", key, "--until", "u32@8 == 3 && changed(u32@8)", "--interval", "20ms", "--duration", "30",
            "--exec", "env | grep ^SHMSCOPE_HIT_ | sort > \(envFile)",
        ])
        try waitUntilAttached(watch.pid)
        for value in ["01000000", "02000000", "03000000"] {
            #expect(qt.ask("writehex 8 \(value)") == "ok")
            usleep(120_000)
        }
        let end = watch.finish()
        #expect(end.status == 0, "\(end.stderr)")
        let lines = end.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(end.stdout)")
        let hit = try #require(
            lines[0].firstMatch(of: try Regex(#"^hit (\S+) u32@8 == 3 && changed\(u32@8\): u32@8=3$"#)))
        let time = String(try #require(hit.output[1].substring))
        #expect(lines[1].hasPrefix("attached: ") && lines[1].contains("\(qt.pid) (qtpeer-test)"))
        #expect(lines[2].contains(try Regex(#"^last pid: \d+ \(\S+\)$"#)))
        let env = String(decoding: try readFile(envFile), as: UTF8.self)
        #expect(env.contains("SHMSCOPE_HIT_FIELDS=u32@8=3\n"))
        #expect(env.contains("SHMSCOPE_HIT_OFFSET=0x8\n"))
        #expect(env.contains("SHMSCOPE_HIT_TIME=\(time)\n"))
        let pids = try #require(env.split(separator: "\n").first { $0.hasPrefix("SHMSCOPE_HIT_PIDS=") })
        #expect(pids.dropFirst("SHMSCOPE_HIT_PIDS=".count).split(separator: " ").contains("\(qt.pid)"))
        #expect(qt.ask("quit") == "ok")
    }

    @Test func untilWithJSONLogPrintsTheHitAsOneMoreObject() throws {
        let (key, qt) = try qtSegment("untiljson")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let watch = try ShmscopeBinary.start([
            "watch", key, "--until", "u16@2 == 0x4242", "--log", "--json", "--interval", "20ms", "--duration", "30",
        ])
        try waitUntilAttached(watch.pid)
        #expect(qt.ask("writehex 2 4242") == "ok")
        let end = watch.finish()
        #expect(end.status == 0, "\(end.stderr)")
        let lines = end.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(end.stdout)")
        #expect(lines[0].contains(#""type":"change","offset":2,"length":2,"old":"0000","new":"4242""#))
        let hit = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(hit["type"] as? String == "hit")
        #expect(hit["condition"] as? String == "u16@2 == 0x4242")
        #expect(hit["values"] as? [String: String] == ["u16@2": "16962"])
        #expect((hit["attached"] as? [[String: Any]])?.contains { $0["pid"] as? Int == Int(qt.pid) } == true)
        #expect(hit["last_pid"] is Int)
        #expect(qt.ask("quit") == "ok")
    }

    @Test func untilExitsOneWhenDurationOrCountEndsFirst() throws {
        let (key, qt) = try qtSegment("untilno")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let timedOut = try ShmscopeBinary.run(["watch", key, "--until", "u32@8 == 3", "--duration", "300ms"])
        #expect(timedOut.status == 1)
        #expect(timedOut.stdout.isEmpty)
        #expect(timedOut.stderr == "shmscope: --until: `u32@8 == 3` did not hold within --duration\n")
        let counted = try ShmscopeBinary.start([
            "watch", key, "--until", "u32@8 == 3", "--count", "1", "--interval", "20",
        ])
        try waitUntilAttached(counted.pid)
        #expect(qt.ask("writehex 8 07000000") == "ok")
        let end = counted.finish()
        #expect(end.status == 1)
        #expect(end.stderr == "shmscope: --until: `u32@8 == 3` did not hold within --count\n")
        // A condition that does not parse: exit 2, one line with the column.
        let bad = try ShmscopeBinary.run(["watch", key, "--until", "u32@8 => 3"])
        #expect(bad.status == 2)
        #expect(bad.stderr == "shmscope: --until: column 7: `=` is not a comparison: write `==` in `u32@8 => 3`\n")
        #expect(qt.ask("quit") == "ok")
    }

    @Test func freezeHoldsTheQtLockSoThePeersLockWaits() throws {
        let (key, qt) = try qtSegment("freeze")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let watch = try ShmscopeBinary.start([
            "watch", key, "--until", "u8@0 == 7", "--freeze", "--hold", "3s", "--interval", "20ms",
        ])
        try waitUntilAttached(watch.pid)
        #expect(qt.ask("writehex 0 07") == "ok")
        var frozen = false
        while let line = watch.readLine(timeout: 10) {
            if line.hasPrefix("frozen: holding the lock of qt:\(key)") {
                frozen = true
                break
            }
        }
        try #require(frozen)
        // Qt's lock() now blocks until --hold ends (3 s after the freeze began).
        let reply = qt.ask("lock", timeout: 20)
        let waited = try #require(Int(reply.split(separator: "=").last ?? ""), "\(reply)")
        #expect(waited >= 1000, "Qt's lock() returned after \(waited) ms, while the freeze should hold it ~3 s")
        #expect(qt.ask("unlock") == "ok")
        let end = watch.finish()
        #expect(end.status == 0, "\(end.stderr)")
        #expect(end.stdout.hasSuffix("released\n"))
        #expect(qt.ask("quit") == "ok")
    }

    @Test(.enabled(if: PythonPeer.available)) func freezeRefusesASegmentWithoutALockObject() throws {
        let name = "/" + uniqueName("freezenone")
        defer { cleanUp(.posix(name: name)) }
        let py = try PythonPeer.start()
        #expect(py.ask("create \(name.dropFirst()) 16") == "ok")
        let noTerminal = try ShmscopeBinary.run(["watch", name, "--until", "u8@0 == 1", "--freeze"])
        #expect(noTerminal.status == 2)
        #expect(noTerminal.stderr.contains("--freeze without a terminal needs --hold"))
        let raw = SegmentTarget.sysvKey(0x7fff_0000 | key_t(getpid() & 0xffff))
        defer { cleanUp(raw) }
        #expect(try ShmscopeBinary.run(["create", "\(raw)", "--size", "16"]).status == 0)
        let refused = try ShmscopeBinary.run(["watch", "\(raw)", "--until", "u8@0 == 1", "--freeze", "--hold", "1"])
        #expect(refused.status == 1)
        #expect(
            refused.stderr == "shmscope: --freeze: \(raw) has no lock of its own: name its semaphore set with --sem\n")
        #expect(py.ask("quit") == "ok")
    }

    /// A Qt peer writes a known sequence while `--record` runs; a live snapshot is taken in every state (after the
    /// log shows the state's change, before the next write). Replaying reproduces each snapshot byte for byte, and
    /// `replay --log` prints what the live `--log` printed.
    @Test func recordingReplaysEveryLiveSnapshotAndTheLog() throws {
        let (key, qt) = try qtSegment("record", size: 96)
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let file = temporaryPath("rec") + ".shmrec"
        defer { unlink(file) }
        #expect(qt.ask("write 32 start") == "ok")
        let watch = try ShmscopeBinary.start(["watch", key, "--record", file, "--log", "--interval", "20ms"])
        try waitUntilAttached(watch.pid)
        // Each state: the writes that make it, and how many log lines they print (one run each).
        let states: [[String]] = [
            ["writehex 8 01000000"],
            ["writehex 8 02000000", "write 40 beta"],
            ["writehex 64 ffeeddccbbaa9988"],
            ["write 32 STOP!", "writehex 8 04000000"],
        ]
        var liveLog: [String] = []
        var snapshots: [(path: String, bytes: [UInt8], time: Double)] = []
        defer { for s in snapshots { unlink(s.path) } }
        for (i, writes) in states.enumerated() {
            for w in writes {
                #expect(qt.ask(w) == "ok")
                // At least three intervals apart, so each write is its own poll.
                usleep(80_000)
                liveLog.append(try #require(watch.readLine(timeout: 10), "no log line for \(w)"))
            }
            let path = temporaryPath("snap\(i)")
            let taken = try ShmscopeBinary.run(["snapshot", key, path])
            try #require(taken.status == 0, "\(taken.stderr)")
            let snap = try Snapshot.read(fromFile: path)
            snapshots.append((path, snap.bytes, snap.time))
        }
        watch.signal(SIGINT)
        let end = watch.finish()
        #expect(end.status == 0, "\(end.stderr)")
        liveLog += end.stdout.split(separator: "\n").map(String.init)
        // The size it reports is the file's.
        var recorded = stat()
        #expect(stat(file, &recorded) == 0 && recorded.st_size > 0)
        #expect(end.stderr == "recorded 6 changes into \(file) (\(recorded.st_size) bytes)\n", "\(end.stderr)")
        #expect(liveLog.count == 6)
        // Distinct states, as written.
        #expect(Set(snapshots.map(\.bytes)).count == 4)
        #expect(Array(snapshots[3].bytes[32..<37]) == Array("STOP!".utf8))

        let replayed = try ShmscopeBinary.run(["replay", file, "--log"])
        #expect(replayed.status == 0)
        #expect(replayed.stdout == liveLog.map { $0 + "\n" }.joined())
        for (i, snap) in snapshots.enumerated() {
            let out = temporaryPath("replayed\(i)")
            defer { unlink(out) }
            let r = try ShmscopeBinary.run(["replay", file, "--at", iso8601(snap.time), "--snapshot", out])
            try #require(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("wrote \(out): 96 bytes at +"))
            #expect(try Snapshot.read(fromFile: out).bytes == snap.bytes, "state \(i) at \(iso8601(snap.time))")
        }
        // Relative times and the start.
        let first = temporaryPath("first")
        defer { unlink(first) }
        #expect(try ShmscopeBinary.run(["replay", file, "--at", "+0s", "--snapshot", first]).status == 0)
        var start = [UInt8](repeating: 0, count: 96)
        start.replaceSubrange(32..<37, with: Array("start".utf8))
        #expect(try Snapshot.read(fromFile: first).bytes == start)
        // Never over an existing file without --force; a bad time is a usage error.
        let again = try ShmscopeBinary.run(["replay", file, "--at", "+0s", "--snapshot", first])
        #expect(again.status == 1)
        let badTime = try ShmscopeBinary.run(["replay", file, "--at", "soon", "--snapshot", first + "x"])
        #expect(badTime.status == 2)
        #expect(badTime.stderr.hasPrefix("shmscope: --at: `soon` is not a time: write +12.5s"))
        // The recording is ours only: 0600, and never replaced without --force.
        var st = stat()
        #expect(stat(file, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let refused = try ShmscopeBinary.run(["watch", key, "--record", file, "--duration", "100ms"])
        #expect(refused.status == 1)
        #expect(
            refused.stderr
                == "shmscope: \(file): exists: give another file, or --force to replace an earlier recording\n")
        #expect(qt.ask("quit") == "ok")
    }

    @Test func recordingStopsAtABreakpointAndBoundsItsRate() throws {
        let (key, qt) = try qtSegment("recbound", size: 8192)
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let file = temporaryPath("bound") + ".shmrec"
        defer { unlink(file) }
        let watch = try ShmscopeBinary.start([
            "watch", key, "--record", file, "--record-limit", "1K", "--until", "u8@0 == 9", "--interval", "20ms",
        ])
        try waitUntilAttached(watch.pid)
        // 4 KiB of changes in one poll: past the 1 KiB/s bound.
        #expect(qt.ask("writehex 4096 " + String(repeating: "ab", count: 4096)) == "ok")
        usleep(1_300_000)  // into the next second: gap marker and keyframe
        #expect(qt.ask("writehex 0 09") == "ok")
        let end = watch.finish()
        #expect(end.status == 0, "\(end.stderr)")
        #expect(end.stderr.contains("recording: the segment changes faster than 1 KiB/s"))
        let log = try ShmscopeBinary.run(["replay", file, "--log"])
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains(" event gap ") && $0.hasSuffix(" 1024") }, "\(log.stdout)")
        #expect(lines.last?.contains(" 0x00000000 1 00 09 -") == true, "\(log.stdout)")
        // The state after the gap is whole again (the keyframe).
        let snap = temporaryPath("boundsnap")
        defer { unlink(snap) }
        #expect(try ShmscopeBinary.run(["replay", file, "--at", "+1h", "--snapshot", snap]).status == 0)
        let bytes = try Snapshot.read(fromFile: snap).bytes
        #expect(bytes[0] == 9 && bytes[4096..<8192].allSatisfy { $0 == 0xab })
        #expect(qt.ask("quit") == "ok")
    }

    /// Resize, removal and re-creation of a POSIX object are recorded (each followed by the whole segment), and
    /// replay shows each state and prints the same events as the live log.
    @Test(.enabled(if: PythonPeer.available)) func recordingFollowsResizeRemovalAndRecreation() throws {
        let name = "/" + uniqueName("recevents")
        defer { cleanUp(.posix(name: name)) }
        let py = try PythonPeer.start()
        #expect(py.ask("create \(name.dropFirst()) 64") == "ok")
        let file = temporaryPath("events") + ".shmrec"
        defer { unlink(file) }
        let watch = try ShmscopeBinary.start(["watch", name, "--record", file, "--log", "--interval", "20ms"])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let maps = try? readFile("/proc/\(watch.pid)/maps"),
                String(decoding: maps, as: UTF8.self).contains("/dev/shm" + name)
            {
                break
            }
            usleep(10_000)
        }
        usleep(150_000)
        var live: [String] = []
        #expect(py.ask("write 4 ab") == "ok")
        live.append(try #require(watch.readLine()))
        #expect(truncate("/dev/shm" + name, 16) == 0)
        live.append(try #require(watch.readLine()))
        #expect(live.last?.hasSuffix(" event resized 64 16") == true)
        let afterResize = temporaryPath("afterresize")
        defer { unlink(afterResize) }
        #expect(py.ask("unlink") == "ok")
        live.append(try #require(watch.readLine()))
        #expect(live.last?.hasSuffix(" event removed") == true)
        try createPosixObjectAtOnce(name, size: 32)
        let other = try PythonPeer.start()
        #expect(other.ask("attach \(name.dropFirst())") == "ok")
        live.append(try #require(watch.readLine()))
        #expect(live.last?.hasSuffix(" event reattached 32") == true)
        usleep(100_000)
        #expect(other.ask("write 20 Z") == "ok")
        live.append(try #require(watch.readLine()))
        watch.signal(SIGINT)
        let end = watch.finish()
        #expect(end.status == 0)
        live += end.stdout.split(separator: "\n").map(String.init)

        let replayed = try ShmscopeBinary.run(["replay", file, "--log"])
        #expect(replayed.stdout == live.map { $0 + "\n" }.joined())
        // The states: 16 bytes with "ab" after the resize, then the new 32-byte object with its Z.
        let times = live.map { String($0.prefix(24)) }
        let resized = temporaryPath("resized")
        defer { unlink(resized) }
        #expect(try ShmscopeBinary.run(["replay", file, "--at", times[1], "--snapshot", resized]).status == 0)
        #expect(
            try Snapshot.read(fromFile: resized).bytes == [0, 0, 0, 0, 0x61, 0x62] + [UInt8](repeating: 0, count: 10))
        let last = temporaryPath("last")
        defer { unlink(last) }
        #expect(try ShmscopeBinary.run(["replay", file, "--at", "+1h", "--snapshot", last]).status == 0)
        var expected = [UInt8](repeating: 0, count: 32)
        expected[20] = 0x5a
        #expect(try Snapshot.read(fromFile: last).bytes == expected)
        #expect(other.ask("unlink") == "ok")
        #expect(py.ask("quit") == "ok")
        #expect(other.ask("quit") == "ok")
    }

}
