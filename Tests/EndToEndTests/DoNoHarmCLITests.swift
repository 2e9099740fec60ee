import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// Issue 11 §3 on the command line, case by case where the corpus (BadInputCorpusTests) checks only the class:
/// transactions, key files, timeouts, output errors and the files shmscope writes.
@Suite struct DoNoHarmCLITests {
    @Test func createOfARawSystemVKeyWithoutSemWritesItsFirstBytes() throws {
        let key = hex32(key_t(bitPattern: UInt32.random(in: 0x5c00_0000...0x5cff_ffff)))
        defer { _ = try? ShmscopeBinary.run(["rm", "sysv:\(key)", "--force"]) }
        let r = try ShmscopeBinary.run(["create", "sysv:\(key)", "--size", "16", "--fill", "0x41"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ShmscopeBinary.run(["dump", "sysv:\(key)", "--format", "raw"]).stdout == String(repeating: "A", count: 16))
    }

    @Test func rmOfAnAbsoluteNativeKeyWithoutSegmentRemovesNothingAndSaysSo() throws {
        let file = "/tmp/\(uniqueName("victim"))"
        defer { unlink(file) }
        #expect(FileManager.default.createFile(atPath: file, contents: Data("keep".utf8)))
        let r = try ShmscopeBinary.run(["rm", "qt6-sysv:\(file)"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("nothing to remove") && r.stderr.contains("left alone"), "\(r.stderr)")
        #expect(access(file, F_OK) == 0)
        // A symlink is never a key file: refused, and neither the link nor its target is touched.
        let link = "/tmp/\(uniqueName("link"))"
        defer { unlink(link) }
        #expect(symlink(file, link) == 0)
        #expect(try ShmscopeBinary.run(["rm", "qt6-sysv:\(link)"]).status == 1)
        var st = stat()
        #expect(lstat(link, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK && access(file, F_OK) == 0)
    }

    @Test func lockOnAMissingTargetFailsAndLeavesNothing() throws {
        let key = uniqueName("nolock")
        let tmp = "/tmp/\(uniqueName("lockdir"))"
        mkdir(tmp, 0o700)
        defer { rmdir(tmp) }
        var env = ShmscopeBinary.environment
        env["TMPDIR"] = tmp
        let r = try ShmscopeBinary.run(["lock", key, "--hold", "1"], environment: env)
        #expect(r.status == 1 && r.stderr.contains("nothing to lock"), "\(r.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: tmp)) == [])
    }

    @Test func writeTimeoutIsOneBudget() throws {
        let key = uniqueName("timeout")
        let target = SegmentTarget.qtNative(key: key, type: .posix)
        defer { cleanUp(target) }
        #expect(try ShmscopeBinary.run(["create", "qt6:\(key)", "--size", "64"]).status == 0)
        let holder = try ShmscopeBinary.start(["lock", "qt6:\(key)", "--hold", "30"])
        #expect(holder.readLine() == "locked qt6:\(key)")
        defer { holder.signal(SIGTERM); _ = holder.wait() }
        let start = Date()
        let r = try ShmscopeBinary.run(["write", "qt6:\(key)", "--offset", "0", "--hex", "01", "--timeout", "1"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.status == 1 && r.stderr.contains("not free after 1 s; nothing written"), "\(r.stderr)")
        #expect(elapsed < 1.8, "write --timeout 1 took \(elapsed) s")
    }

    @Test func outputErrorsFailWithOneLineAndEPIPEStaysQuiet() throws {
        let name = "/" + uniqueName("out")
        defer { cleanUp(.posix(name: name)) }
        #expect(try ShmscopeBinary.run(["create", name, "--size", "1M"]).status == 0)
        let bin = ShmscopeBinary.path
        for (redirect, words) in [("> /dev/full", "No space left on device"), (">&-", "standard output is closed")] {
            let r = try ShmTestSupport.run("/bin/sh", ["-c", "'\(bin)' dump \(name) --format raw \(redirect)"], environment: ShmscopeBinary.environment)
            #expect(r.status == 1, "\(redirect)")
            #expect(r.stderr.hasPrefix("shmscope: cannot write to standard output") && r.stderr.contains(words), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
        let pipe = try ShmTestSupport.run("/bin/sh", ["-c", "'\(bin)' dump \(name) | head -c 1 > /dev/null; echo ${PIPESTATUS:-}"], environment: ShmscopeBinary.environment)
        #expect(pipe.stderr.isEmpty, "\(pipe.stderr)")
        let quiet = try ShmTestSupport.run("/bin/bash", ["-c", "'\(bin)' dump \(name) --format raw | head -c 1 > /dev/null; exit ${PIPESTATUS[0]}"], environment: ShmscopeBinary.environment)
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
    }

    @Test func snapshotNeverReplacesWithoutForceAndNeverFollowsALink() throws {
        let name = "/" + uniqueName("snap")
        defer { cleanUp(.posix(name: name)) }
        #expect(try ShmscopeBinary.run(["create", name, "--size", "64", "--fill", "7"]).status == 0)
        let file = "/tmp/\(uniqueName("existing")).snap", victim = "/tmp/\(uniqueName("victim"))"
        let link = "/tmp/\(uniqueName("link")).snap"
        defer { unlink(file); unlink(victim); unlink(link) }
        #expect(FileManager.default.createFile(atPath: file, contents: Data("mine".utf8)))
        #expect(FileManager.default.createFile(atPath: victim, contents: Data("victim".utf8)))
        #expect(symlink(victim, link) == 0)
        var r = try ShmscopeBinary.run(["snapshot", name, file])
        #expect(r.status == 2 && r.stderr.contains("--force"), "\(r.stderr)")
        #expect(String(decoding: FileManager.default.contents(atPath: file)!, as: UTF8.self) == "mine")
        r = try ShmscopeBinary.run(["snapshot", name, file, "--force"])
        #expect(r.status == 0)
        #expect(try Snapshot.read(fromFile: file).bytes == [UInt8](repeating: 7, count: 64))
        var st = stat()
        #expect(stat(file, &st) == 0 && st.st_mode & 0o777 == 0o600)
        r = try ShmscopeBinary.run(["snapshot", name, link, "--force"])
        #expect(r.status == 0)
        #expect(String(decoding: FileManager.default.contents(atPath: victim)!, as: UTF8.self) == "victim")
        #expect(lstat(link, &st) == 0 && st.st_mode & S_IFMT == S_IFREG)
        // A missing layout file gets advice about the path, never about Qt keys.
        r = try ShmscopeBinary.run(["dump", name, "--layout", "/nonexistent/\(uniqueName("l")).layout"])
        #expect(r.status == 2 && r.stderr.contains("no such file: check the path") && !r.stderr.contains("TMPDIR"), "\(r.stderr)")
    }
}
