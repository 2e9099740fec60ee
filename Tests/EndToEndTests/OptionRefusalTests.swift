import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// Every option either takes effect or is refused: an option that does not apply to a command or a target is a
/// usage error (exit 2) of one line that says why, before anything is opened, created or locked.
@Suite struct OptionRefusalTests {
    @Test(arguments: [
        (["open", "/x", "--sem", "key:0x1"], "--sem names the lock of a raw System V segment; `/x` is a POSIX object"),
        (["watch", "qt:k", "--sem", "id:1"], "--sem names the lock of a raw System V segment; `qt:k` uses Qt's own semaphore"),
        (["info", "qt6:k", "--sem", "id:1"], "--sem names the lock of a raw System V segment; `qt6:k` uses Qt's own semaphore"),
        (["write", "qt:k", "--sem", "id:1", "--offset", "0", "--hex", "00"], "--sem names the lock of a raw System V segment; `qt:k` uses Qt's own semaphore"),
        (["write", "/x", "--sem", "id:1", "--offset", "0", "--hex", "00"], "--sem names the lock of a raw System V segment; `/x` is a POSIX object"),
        (["dump", "shmid:1", "--sem", "id:1"], "--sem names a lock, and `dump` takes none (it only reads or removes)"),
        (["snapshot", "shmid:1", "/tmp/never.snap", "--sem", "id:1"], "--sem names a lock, and `snapshot` takes none (it only reads or removes)"),
        (["diff", "shmid:1", "/tmp/never.snap", "--sem", "id:1"], "--sem names a lock, and `diff` takes none (it only reads or removes)"),
        (["rm", "sysv:0x1", "--sem", "id:1"], "--sem names a lock, and `rm` takes none (it only reads or removes)"),
        (["info", "/x", "--tmpdir", "/tmp"], "--tmpdir locates Qt System V key files; POSIX object `/x` has none"),
        (["open", "shmid:1", "--tmpdir", "/tmp"], "--tmpdir locates Qt key files: give it with --key KEY, or name the target as qt:KEY"),
        (["watch", "qt-posix:k", "--tmpdir", "/tmp"], "--tmpdir locates Qt System V key files; `qt-posix:k` is a POSIX object with no key file"),
        (["watch", "qt:k", "--key", "other"], "--key names Qt keys to try for segments given by id, key or name; `qt:k` already names its key"),
        (["open", "shmid:1", "--sem", "id:1", "--key", "k"], "--sem and --key both name a lock: give one of them"),
        (["create", "sysv:0x1234", "--size", "64", "--key", "k"], "--key names Qt keys to try for an existing segment; `create` makes a new one: name it as qt:KEY"),
        (["browse", "--sem", "id:1"], "--sem names the lock of one raw System V segment: use `shmscope open shmid:N --sem …`"),
        (["watch", "qt:k", "--log", "--bytes-per-row", "16"], "--bytes-per-row is for the hex view; --log prints changed runs, not rows"),
        (["watch", "qt:k", "--json"], "--json goes with --log"),
        (["watch", "qt:k", "--count", "3"], "--range, --count and --duration go with --log, --until or --record"),
        (["watch", "qt:k", "--freeze"], "--freeze, --hold and --exec go with --until"),
        (["watch", "qt:k", "--record-limit", "1M"], "--force and --record-limit go with --record"),
        (["replay", "x.shmrec", "--at", "+1s"], "--at and --snapshot go together"),
        (["open", "qt:k", "--key", ""], "--key must not be empty"),
        (["demo", "--die-with-parent"], "--die-with-parent goes with --writer-only"),
    ])
    func refusedWithOneLine(_ arguments: [String], _ reason: String) throws {
        let r = try ShmscopeBinary.run(arguments)
        #expect(r.status == 2, "\(arguments): \(r.stderr)")
        #expect(r.stderr == "shmscope: \(reason) (see 'shmscope \(arguments[0]) --help')\n")
        #expect(r.stdout.isEmpty)
    }

    /// Options that apply are accepted by every TARGET command: the same group everywhere.
    @Test(arguments: ["open", "watch", "info", "dump", "write", "lock", "rm", "repair-lock", "snapshot", "diff", "create"])
    func everyTargetCommandHasTheGroup(_ command: String) throws {
        let help = try ShmscopeBinary.run([command, "--help"])
        #expect(help.status == 0)
        for option in ["--tmpdir", "--sem", "--key", "--no-lock"] { #expect(help.stdout.contains(option), "\(command) lacks \(option)") }
    }

    @Test func browseHasKeyAndTmpdir() throws {
        let help = try ShmscopeBinary.run(["browse", "--help"])
        for option in ["--tmpdir", "--key", "--no-lock", "--layout", "--interval", "--bytes-per-row"] {
            #expect(help.stdout.contains(option), "browse lacks \(option)")
        }
    }

    /// `--key` turns a segment given by id into its Qt key, for `info` as for every other command.
    @Test(.enabled(if: QtPeer.available)) func keyNamesASegmentGivenById() throws {
        let key = uniqueName("clikey")
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let qt = try QtPeer.start(key: key)
        defer { _ = qt.ask("quit") }
        #expect(qt.ask("create 64") == "ok")
        let m = SharedMemory(.qt(key: key, backend: .systemV), options: .init(detachPolicy: .keep))
        try m.attach(.readOnly)
        let id = try #require(m.shmid)
        try m.detach()
        let info = try ShmscopeBinary.run(["info", "shmid:\(id)", "--key", key])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("target      qt:\(key)"))
        #expect(info.stdout.contains("lock        qt-sysv-semaphore"))
        let wrong = try ShmscopeBinary.run(["info", "shmid:\(id)", "--key", "x" + key])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.split(separator: "\n").count == 1)
    }
}
