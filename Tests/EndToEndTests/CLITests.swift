import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// The built binary end to end: exact output and exit codes, against real Qt 5 and Python peers.
@Suite struct CLITests {
    // MARK: Qt peer

    @Test(.enabled(if: QtPeer.available)) func listAndInfoShowQtPeerWithRealKeyPidAndLockHolder() throws {
        let key = uniqueName("list")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 1000") == "ok")
        let probe = SharedMemory(target, options: .init(detachPolicy: .keep))
        try probe.attach(.readOnly)
        let shmid = try #require(probe.shmid)
        try probe.detach()

        // Before the key is known, the segment shows its letters and a short hash.
        let hash = QtNaming.sha1Hex(of: key)
        let letters = QtNaming.letters(of: key)
        var list = try ShmscopeBinary.run(["list", "--kind", "qt"], environment: ShmscopeBinary.wideEnvironment)
        #expect(list.status == 0)
        #expect(list.stdout.contains("\(letters)…\(hash.prefix(8))"))

        // `info KEY` remembers the key; from then on `list` shows it.
        let info = try ShmscopeBinary.run(["info", key])
        #expect(info.status == 0, "\(info.stderr)")
        let tmp = QtNaming.tempPath()
        let keyFile = "\(tmp)/qipc_sharedmemory_\(letters)\(hash)"
        let semFile = "\(tmp)/qipc_systemsem_\(letters)\(hash)"
        let sysvKey = hex32(ftok(keyFile, 0x51))
        let expected = [
            "target      qt:\(key)",
            "kind        qt",
            "key         \(key)",
            "qt name     letters \"\(letters)\", sha1 \(hash)",
            "native key  \(keyFile)",
            "sysv key    \(sysvKey)",
            "shmid       \(shmid)",
            "size        1000 bytes",
            "mode        0600 (rw-------)",
            "owner       root",
            "creator pid \(qt.pid) (qtpeer-test)",
            // The last operation was our probe's detach.
            "last pid    \(getpid()) (\(ProcessInfoReader.command(pid: getpid())))",
            "nattch      1",
            "status      ok",
            "lock        qt-sysv-semaphore \(semFile): free; value 1",
            "attached    pid \(qt.pid) qtpeer-test uid 0 (root) rw",
        ]
        #expect(Array(info.stdout.split(separator: "\n").map(String.init).prefix(expected.count)) == expected)

        // While the Qt peer holds its lock, list says so.
        #expect(qt.ask("lock").hasPrefix("ok"))
        list = try ShmscopeBinary.run(["list", "--kind", "qt", "--bytes"], environment: ShmscopeBinary.wideEnvironment)
        let row = try #require(list.stdout.split(separator: "\n").first { $0.hasPrefix("qt ") && $0.contains(key) })
        let columns = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(
            columns == [
                "qt", key, String(shmid), "1000", "rw-------", "root", "1", "held", "by", "pid", String(qt.pid),
                "(qtpeer-test)", "qtpeer-test(\(qt.pid))",
            ])
        let json = try ShmscopeBinary.run(["list", "--json", "--kind", "qt"])
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let seg = try #require((doc["segments"] as! [[String: Any]]).first { $0["qt_key"] as? String == key })
        #expect(seg["shmid"] as? Int == Int(shmid))
        #expect(seg["target"] as? String == "qt:\(key)")
        let lock = seg["lock"] as! [String: Any]
        #expect(lock["held"] as? Bool == true && lock["last_pid"] as? Int == Int(qt.pid))
        #expect(lock["last_command"] as? String == "qtpeer-test")
        let attached = seg["attached"] as! [[String: Any]]
        #expect(attached.count == 1 && attached[0]["pid"] as? Int == Int(qt.pid) && attached[0]["access"] as? String == "rw")
        #expect(qt.ask("unlock") == "ok")
    }

    @Test(.enabled(if: QtPeer.available)) func writeIsReadBackByQt() throws {
        let key = uniqueName("write")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 256") == "ok")
        var r = try ShmscopeBinary.run(["write", key, "--offset", "0x10", "--hex", "de ad be ef"])
        #expect(r.status == 0 && r.stdout == "wrote 4 bytes at offset 16 of qt:\(key)\n")
        r = try ShmscopeBinary.run(["write", "qt:" + key, "--offset", "20", "--text", "hello"])
        #expect(r.status == 0)
        #expect(qt.ask("read 16 9") == "ok deadbeef68656c6c6f")
        // All or nothing: a write past the end changes nothing.
        r = try ShmscopeBinary.run(["write", key, "--offset", "250", "--text", "too long!"])
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("nothing written"))
        #expect(qt.ask("read 250 6") == "ok 000000000000")
        // While Qt holds the lock, a write with a short timeout gives up and names the holder.
        #expect(qt.ask("lock").hasPrefix("ok"))
        r = try ShmscopeBinary.run(["write", key, "--offset", "0", "--text", "x", "--timeout", "0.3"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("held by pid \(qt.pid) (qtpeer-test)"), "\(r.stderr)")
        #expect(qt.ask("read 0 1") == "ok 00")
        #expect(qt.ask("unlock") == "ok")
    }

    @Test(.enabled(if: QtPeer.available)) func lockHoldMakesQtWait() throws {
        let key = uniqueName("hold")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 64") == "ok")
        let holder = try ShmscopeBinary.start(["lock", key, "--hold", "2"])
        #expect(holder.readLine() == "locked qt:\(key)")
        let reply = qt.ask("lock", timeout: 10)
        let waited = Int(reply.replacingOccurrences(of: "ok waited_ms=", with: "")) ?? -1
        #expect(waited >= 1700 && waited <= 3500, "Qt's lock() waited \(waited) ms")
        #expect(qt.ask("unlock") == "ok")
        #expect(holder.readLine() == "unlocked")
        #expect(holder.wait() == 0)
    }

    @Test(.enabled(if: QtPeer.available)) func lockReleasesOnSignalAndAroundCommand() throws {
        let key = uniqueName("sig")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 64") == "ok")
        let holder = try ShmscopeBinary.start(["lock", key, "--hold", "30"])
        #expect(holder.readLine() == "locked qt:\(key)")
        holder.signal(SIGTERM)
        #expect(holder.wait() == 128 + SIGTERM)
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        #expect(m.lockState()?.value == 1)
        // -- COMMAND: the command runs while the lock is held; its status is ours.
        let r = try ShmscopeBinary.run(["lock", key, "--", "/bin/sh", "-c", "exit 3"])
        #expect(r.status == 3 && r.stdout == "locked qt:\(key)\n")
        #expect(r.stderr.isEmpty, "the command's status is passed on without a message: \(r.stderr)")
        #expect(m.lockState()?.value == 1)
    }

    @Test(.enabled(if: QtPeer.available)) func rmRemovesEverythingAndRefusesWhileAttached() throws {
        let key = uniqueName("rm")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let qt = try QtPeer.start(key: key)
        #expect(qt.ask("create 64") == "ok")
        let tmp = QtNaming.tempPath()
        let name = QtNaming.letters(of: key) + QtNaming.sha1Hex(of: key)
        let keyFile = "\(tmp)/qipc_sharedmemory_\(name)", semFile = "\(tmp)/qipc_systemsem_\(name)"
        // Ids, not keys: once the key files are gone, another test's key file may reuse the inode, and so the key.
        let shmid = shmget(ftok(keyFile, 0x51), 0, 0), semid = semget(ftok(semFile, 0x51), 0, 0)
        #expect(shmid >= 0 && semid >= 0)
        var r = try ShmscopeBinary.run(["rm", key])
        #expect(r.status == 1)
        #expect(r.stderr == "shmscope: qt:\(key): 1 process attached (qtpeer-test(\(qt.pid))): pass --force to remove anyway\n")
        #expect(qt.ask("detach") == "ok")  // Qt removes the segment as last one out; the lock stays
        #expect(access(semFile, F_OK) == 0)
        r = try ShmscopeBinary.run(["rm", key])
        #expect(r.status == 0 && r.stdout == "removed qt:\(key)\n")
        #expect(access(keyFile, F_OK) == -1 && access(semFile, F_OK) == -1)
        var ds = shmid_ds()
        #expect(shmctl(shmid, IPC_STAT, &ds) == -1 && !semaphoreExists(semid))
        r = try ShmscopeBinary.run(["rm", key])
        #expect(r.status == 1 && r.stderr.contains("nothing to remove"))
    }

    /// `rm` of a target that names nothing: exit 1, one line saying there is nothing to remove, with advice that fits
    /// the kind (a Qt key's files, a POSIX name, a System V key or id; never "invalid" for an id nobody has).
    @Test(arguments: [
        ("qt:" + uniqueName("rmnone"), "no key file, segment or semaphore for this key"),
        ("qt6:" + uniqueName("rmnone"), "no key file, segment or semaphore for this key"),
        ("/" + uniqueName("rmnone"), "check the name (`ls /dev/shm`)"),
        ("sysv:0x7ffffff1", "check the key or id"),
        ("shmid:2147483000", "check the key or id"),
    ])
    func removingNothingSaysSoForEachKind(target: String, advice: String) throws {
        let r = try ShmscopeBinary.run(["rm", target])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("shmscope: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("nothing to remove: \(advice)"), "\(r.stderr)")
    }

    // MARK: dump = hexdump -C

    @Test(arguments: ["random", "zeros", "odd", "mixed", "one"])
    func dumpMatchesHexdumpC(kind: String) throws {
        var data: [UInt8]
        switch kind {
        case "random": data = (0..<4099).map { _ in UInt8.random(in: 0...255) }
        case "zeros": data = [UInt8](repeating: 0, count: 8192) + [1] + [UInt8](repeating: 0, count: 100)
        case "odd": data = (0..<37).map { UInt8($0 * 7 & 0xff) }
        case "one": data = [0x41]
        default:
            data = [UInt8](repeating: 0x41, count: 48) + (0..<200).map { UInt8($0) } + [UInt8](repeating: 0, count: 67)
        }
        let file = "/tmp/\(uniqueName("dump")).bin"
        _ = FileManager.default.createFile(atPath: file, contents: Data(data))
        defer { unlink(file) }
        let name = "/" + uniqueName("dump")
        defer { cleanUp(.posix(name: name)) }
        #expect(try ShmscopeBinary.run(["create", name, "--from", file]).status == 0)

        let ours = try ShmscopeBinary.run(["dump", name])
        let theirs = try run(which("hexdump") ?? "/usr/bin/hexdump", ["-C", file])
        #expect(ours.status == 0)
        #expect(ours.stdout == theirs.stdout)
        let ranges = [(3, 50), (16, 32), (0, data.count), (data.count - 1, 1), (5, 0)]
        for (offset, length) in ranges where offset + length <= data.count {
            let o = try ShmscopeBinary.run(["dump", name, "--offset", String(offset), "--length", String(length)])
            let t = try run(which("hexdump")!, ["-C", "-s", String(offset), "-n", String(length), file])
            #expect(o.stdout == t.stdout, "offset \(offset) length \(length)")
        }
        let unsqueezed = try ShmscopeBinary.run(["dump", name, "--no-squeeze"])
        let tv = try run(which("hexdump")!, ["-C", "-v", file])
        #expect(unsqueezed.stdout == tv.stdout)
        if let xxd = which("xxd") {
            #expect(try ShmscopeBinary.run(["dump", name, "--format", "xxd"]).stdout == (try run(xxd, [file])).stdout)
        }
        let raw = try ShmscopeBinary.run(["dump", name, "--format", "raw", "--length", "5"])
        #expect(Array(raw.stdout.utf8) == Array(String(decoding: data.prefix(5), as: UTF8.self).utf8) || data.prefix(5).contains { $0 >= 0x80 })
    }

    @Test func dumpIntoClosedPipeEndsQuietly() throws {
        let name = "/" + uniqueName("pipe")
        defer { cleanUp(.posix(name: name)) }
        #expect(try ShmscopeBinary.run(["create", name, "--size", "8M", "--fill", "0x41"]).status == 0)
        let r = try run(
            "/bin/bash",
            ["-c", "set -o pipefail; '\(ShmscopeBinary.path)' dump \(name) --no-squeeze | head -n 1; echo status=${PIPESTATUS[0]}"],
            environment: ShmscopeBinary.environment)
        #expect(r.stdout == "00000000  41 41 41 41 41 41 41 41  41 41 41 41 41 41 41 41  |AAAAAAAAAAAAAAAA|\nstatus=0\n")
        #expect(r.stderr == "")
    }

    // MARK: Python peer

    @Test(.enabled(if: PythonPeer.available)) func pythonSegmentIsListedAndDumped() throws {
        let name = uniqueName("pylist")
        defer { cleanUp(.posix(name: "/" + name)) }
        let py = try PythonPeer.start()
        #expect(py.ask("create \(name) 100") == "ok")
        #expect(py.ask("write 0 python data") == "ok")
        let list = try ShmscopeBinary.run(
            ["list", "--kind", "posix", "--bytes"], environment: ShmscopeBinary.wideEnvironment)
        let row = try #require(list.stdout.split(separator: "\n").first { $0.contains("/" + name) })
        let cols = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(cols == ["posix", "/" + name, "-", "100", "rw-------", "root", "1", "free", "(advisory)", "python3(\(py.pid))"])
        let dump = try ShmscopeBinary.run(["dump", "/" + name, "--length", "16"])
        #expect(dump.stdout == "00000000  70 79 74 68 6f 6e 20 64  61 74 61 00 00 00 00 00  |python data.....|\n00000010\n")
        #expect(py.ask("unlink") == "ok")
    }

    // MARK: Errors

    @Test(arguments: [
        ["bogus"], ["info"], ["dump"], ["dump", "k", "--format", "nope"], ["dump", "k", "--offset", "x"],
        ["create", "k"], ["create", "k", "--size", "12Q"], ["create", "k", "--size", "1", "--mode", "666"],
        ["write", "k", "--offset", "0"], ["write", "k", "--offset", "0", "--hex", "xyz"], ["lock", "k"],
        ["lock", "k", "--hold", "1", "--", "true"], ["rm"], ["list", "--kind", "weird"], ["info", "nope:x"],
        ["dump", "/a/b"], ["info", "sysv:zz"], ["create", "k", "--size", "1", "--sem", "id:x"],
    ])
    func usageErrorsExit2WithOneLine(arguments: [String]) throws {
        let r = try ShmscopeBinary.run(arguments)
        #expect(r.status == 2, "\(arguments): \(r.stderr)")
        #expect(r.stderr.hasPrefix("shmscope: "))
        #expect(r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func runtimeErrorsExit1WithOneLine() throws {
        let missing = uniqueName("missing")
        for args in [["dump", missing], ["info", "/" + missing], ["dump", "shmid:2147483000"], ["rm", "/" + missing]] {
            let r = try ShmscopeBinary.run(args)
            #expect(r.status == 1, "\(args)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("shmscope: "), "\(r.stderr)")
        }
        let r = try ShmscopeBinary.run(["dump", missing])
        #expect(r.stderr.contains("no Qt key file") && r.stderr.contains("TMPDIR"))
    }

    @Test(.enabled(if: which("setpriv") != nil)) func permissionDeniedForAnotherUser() throws {
        let name = "/" + uniqueName("perm")
        let target = SegmentTarget.posix(name: name)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 64)
        let sysv = SharedMemory(.sysvKey(key_t(bitPattern: 0x7100_0000 | UInt32(getpid() & 0xffffff))))
        try sysv.create(size: 64)
        defer { try? sysv.remove() }
        for t in [name, "shmid:\(sysv.shmid!)"] {
            let r = try run(
                which("setpriv")!,
                ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups", ShmscopeBinary.path, "dump", t],
                environment: ShmscopeBinary.environment)
            #expect(r.status == 1, "\(t): \(r.stderr)")
            #expect(r.stderr.contains("permission denied"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
    }
}

/// Catalog states that only show up when something went wrong for a peer.
@Suite struct CatalogStateTests {
    @Test func staleKeyFileAndOrphanedSegmentAreFlagged() throws {
        let staleKey = uniqueName("stale"), orphanKey = uniqueName("orphan")
        defer {
            cleanUp(.qt(key: staleKey, backend: .systemV))
            cleanUp(.qt(key: orphanKey, backend: .systemV))
        }
        // Stale: the segment is gone but its key file is still there.
        let stale = SharedMemory(.qt(key: staleKey, backend: .systemV), options: .init(detachPolicy: .keep))
        try stale.create(size: 32)
        let staleID = try #require(stale.shmid)
        try stale.detach()
        #expect(shmctl(staleID, IPC_RMID, nil) == 0)
        // Orphaned: the segment is there but its key file was deleted (a tmp cleaner did it).
        let orphan = SharedMemory(.qt(key: orphanKey, backend: .systemV), options: .init(detachPolicy: .keep))
        try orphan.create(size: 48)
        let orphanID = try #require(orphan.shmid)
        try orphan.detach()
        #expect(unlink(orphan.nativeKey) == 0)
        defer { _ = shmctl(orphanID, IPC_RMID, nil) }

        let list = try ShmscopeBinary.run(
            ["list", "--key", staleKey, "--bytes"], environment: ShmscopeBinary.wideEnvironment)
        let rows = list.stdout.split(separator: "\n")
        let staleRow = try #require(rows.first { $0.contains(staleKey) })
        #expect(staleRow.split(separator: " ", omittingEmptySubsequences: true).prefix(4).map(String.init)
            == ["qt", staleKey, "[stale]", "-"])
        let orphanRow = try #require(rows.first { $0.hasPrefix("sysv") && $0.contains(" \(orphanID) ") })
        #expect(orphanRow.contains("[orphaned]") && orphanRow.contains(" 48 "))
        let json = try ShmscopeBinary.run(["list", "--json", "--kind", "sysv"])
        #expect(json.stdout.contains("probably a Qt segment whose key file was deleted"))
    }

    @Test func knownKeysFromEnvironmentAndSemaphoresWithAll() throws {
        let key = uniqueName("envkey")
        let target = SegmentTarget.qt(key: key, backend: .systemV)
        defer { cleanUp(target) }
        let m = SharedMemory(target, options: .init(detachPolicy: .keep))
        try m.create(size: 16)
        try m.detach()
        var env = ShmscopeBinary.wideEnvironment
        env["SHMSCOPE_KEYS"] = "unrelated,\(key)"
        let r = try ShmscopeBinary.run(["list", "--kind", "qt"], environment: env)
        #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix("qt") && $0.contains(" \(key) ") })
        // --all also lists semaphore sets (an ipcmk-style set nobody claims).
        let semid = semget(IPC_PRIVATE, 2, 0o600)
        try #require(semid >= 0)
        defer { cleanUpSemaphore(semid) }
        let all = try ShmscopeBinary.run(["list", "--all"], environment: ShmscopeBinary.wideEnvironment)
        #expect(all.stdout.split(separator: "\n").contains { $0.hasPrefix("sysv-sem") && $0.contains("sem \(semid)") })
    }

    @Test func createFillsAndRefusesWorldWritable() throws {
        let name = "/" + uniqueName("fill")
        defer { cleanUp(.posix(name: name)) }
        let r = try ShmscopeBinary.run(["create", name, "--size", "0x20", "--fill", "0xab"])
        #expect(r.status == 0 && r.stdout == "created \(name) (32 bytes, native key \(name))\n")
        #expect(try ShmscopeBinary.run(["dump", name, "--format", "raw"]).stdout.utf8.count >= 32)
        let dump = try ShmscopeBinary.run(["dump", name])
        #expect(dump.stdout == "00000000  ab ab ab ab ab ab ab ab  ab ab ab ab ab ab ab ab  |................|\n*\n00000020\n")
        let again = try ShmscopeBinary.run(["create", name, "--size", "32"])
        #expect(again.status == 1 && again.stderr.contains("already exists"))
    }
}
