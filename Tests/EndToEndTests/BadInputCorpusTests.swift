import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// The generated bad-input corpus (issue 11, "Proof"): every command, every TARGET form and every option class
/// with values that must be refused, run against the built binary. For each case: exit 1 or 2, exactly one line
/// on stderr, no control characters in it, and nothing made or changed: System V segments and semaphores made
/// by the case's process, `/dev/shm` entries with this run's prefix, the run's key-file, runtime, state and file
/// directories (every file's type, mode, size, inode and contents), and the fixture segments' bytes and locks.
///
/// The generator lives here so it grows with the CLI: a new command, option or TARGET form gets its bad values by
/// adding it to the lists below.
@Suite(.serialized) struct BadInputCorpusTests {
    @Test func everyBadInputFailsWithOneLineAndLeavesNothing() throws {
        let run = try CorpusRun()
        defer { run.tearDown() }
        let cases = run.cases()
        #expect(cases.count >= 500, "the corpus has \(cases.count) cases")

        let fixturesBefore = run.fixtureState()
        let filesBefore = run.fileState()
        let shmBefore = Set(sysvShm().map(\.id))
        let semBefore = Set(sysvSemIDs())
        let posixBefore = run.posixEntries()

        let results = run.runAll(cases)
        var failures: [String] = []
        for (c, r) in zip(cases, results) {
            if let problem = CorpusRun.problem(with: r) { failures.append("\(c.shown): \(problem)") }
        }
        let pids = Set(results.map(\.pid))

        // Nothing made: no System V object created (shm: cpid; semaphores: new ids a case operated on).
        let strayShm = sysvShm().filter { !shmBefore.contains($0.id) && pids.contains($0.cpid) }
        for s in strayShm { failures.append("a case left System V segment \(s.id) (key \(hex32(s.key)))") }
        for id in sysvSemIDs() where !semBefore.contains(id) && pids.contains(semaphoreLastPID(id)) {
            failures.append("a case left System V semaphore set \(id) (pid \(semaphoreLastPID(id)))")
        }
        // Nothing made or removed in /dev/shm (names with this run's prefix), no file touched.
        let posixAfter = run.posixEntries()
        if posixAfter != posixBefore {
            failures.append("/dev/shm changed: +\(posixAfter.subtracting(posixBefore)) -\(posixBefore.subtracting(posixAfter))")
        }
        let filesAfter = run.fileState()
        for path in Set(filesBefore.keys).union(filesAfter.keys).sorted() where filesBefore[path] != filesAfter[path] {
            failures.append("\(path): \(filesBefore[path] ?? "absent") -> \(filesAfter[path] ?? "absent")")
        }
        let fixturesAfter = run.fixtureState()
        for (name, before) in fixturesBefore where fixturesAfter[name] != before {
            failures.append("fixture \(name) changed: \(before) -> \(fixturesAfter[name] ?? "gone")")
        }
        let slowest = zip(cases, results).sorted { $0.1.seconds > $1.1.seconds }.prefix(8)
            .map { String(format: "%.2f s  ", $0.1.seconds) + $0.0.shown }
        let report = "\(cases.count) cases, \(failures.count) problems:\n" + failures.prefix(80).joined(separator: "\n")
            + "\nslowest:\n" + slowest.joined(separator: "\n")
        if let path = ProcessInfo.processInfo.environment["SHMSCOPE_CORPUS_REPORT"] {
            _ = FileManager.default.createFile(atPath: path, contents: Data((report + "\n").utf8))
        }
        #expect(failures.isEmpty, "\(report)")
    }
}

/// One command line of the corpus.
struct CorpusCase {
    var arguments: [String]
    var shown: String {
        arguments.map { $0.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined() }
            .map { $0.count > 80 ? String($0.prefix(77)) + "…" : $0 }.joined(separator: " ")
    }
}

/// A run's private world: a prefix for every name, its own TMPDIR (Qt key files), XDG_RUNTIME_DIR (Qt 6 System
/// V key files), XDG_STATE_HOME (the key store) and a directory of input files, plus fixture segments of every
/// kind that bad options are aimed at.
final class CorpusRun: @unchecked Sendable {
    let prefix: String
    let root: String
    let files: String
    let environment: [String: String]
    let sysvKey: String
    let missingKey: String
    /// Existing segments, one per TARGET form.
    let fixtures: [String]

    init() throws {
        let letters = "abcdefghijklmnopqrstuvwxyz"
        prefix = "bx" + String((0..<8).map { _ in letters.randomElement()! })
        root = "/tmp/shmscope-corpus-\(prefix)"
        files = root + "/files"
        for dir in [root, root + "/tmp", root + "/run", root + "/state", root + "/home", files, files + "/dir"] {
            mkdir(dir, 0o700)
        }
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = root + "/tmp"
        env["XDG_RUNTIME_DIR"] = root + "/run"
        env["XDG_STATE_HOME"] = root + "/state"
        env["HOME"] = root + "/home"
        env["SHMSCOPE_KEYS"] = nil
        env["NO_COLOR"] = "1"
        env["SWIFT_BACKTRACE"] = "enable=no"
        environment = env
        let base = UInt32.random(in: 0x5b00_0000...0x5bff_fff0)
        sysvKey = hex32(key_t(bitPattern: base))
        missingKey = hex32(key_t(bitPattern: base + 1))
        fixtures = [
            "qt:\(prefix)fix", "qt-posix:\(prefix)fixp", "qt6:\(prefix)fix6", "qt6-sysv:\(prefix)fix6s",
            "/\(prefix)_fix", "sysv:\(sysvKey)",
        ]
        try writeFiles()
        for target in fixtures {
            let r = try ShmscopeBinary.run(["create", target, "--size", "256", "--fill", "0x5a"], environment: environment)
            guard r.status == 0 else { throw CorpusSetupError(message: "fixture \(target): \(r.stderr)") }
        }
        // shmid:N of the raw System V fixture.
        let info = try ShmscopeBinary.run(["info", "sysv:\(sysvKey)"], environment: environment)
        shmid = info.stdout.split(separator: "\n").first { $0.hasPrefix("shmid") }.flatMap { $0.split(separator: " ").last }
            .map(String.init) ?? "0"
    }

    private(set) var shmid = "0"

    struct CorpusSetupError: Error { var message: String }

    func tearDown() {
        for target in fixtures { _ = try? ShmscopeBinary.run(["rm", target, "--force"], environment: environment) }
        _ = try? ShmTestSupport.run("/bin/rm", ["-rf", root])
    }

    // MARK: Input files

    private func put(_ name: String, _ text: String) { _ = FileManager.default.createFile(atPath: files + "/" + name, contents: Data(text.utf8)) }
    private func put(_ name: String, bytes: [UInt8]) { _ = FileManager.default.createFile(atPath: files + "/" + name, contents: Data(bytes)) }

    private func writeFiles() throws {
        put("victim", "a file no command may change\n")
        symlink(files + "/victim", files + "/link")
        symlink(files + "/nowhere", files + "/dangling")
        put("existing.snap", "an existing file that snapshot must not replace\n")
        put("empty", "")
        put("binary", bytes: (0..<512).map { UInt8($0 * 37 & 0xff) })
        put("huge-offset.layout", "a u8 @99999999999999999999\n")
        put("max-offset.layout", "a u64 @0x7fffffffffffffff\n")
        put("huge-array.layout", "a u64[99999999999999999]\n")
        put("big-array.layout", "a u64[0x1fffffffffffffff] @0x7ffffffffffffff0\n")
        put("packed-overflow.layout", "a bytes[0x7fffffffffffffff]\nb u64\nc u64\n")
        put("bad-type.layout", "a int128\n")
        put("no-type.layout", "lonely\n")
        put("twice.layout", "a u8\na u16\n")
        put("ctrl.layout", "a\u{1b}[31m u8\n")
        put("ctrl-type.layout", "a u8\u{1b}]0;title\u{7} @0\n")
        put("nan.layout", "a f32 @nan\n")
        put("negative.layout", "a u8 @-1\n")
        put("zero-array.layout", "a u8[0]\n")
        put("utf8.layout", "größe u8\n")
        // C headers (--layout FILE.h --struct NAME): broken, hostile, empty, incomplete.
        put("broken.h", "struct s { int a\n")
        put("ctrl.h", "#error \u{1b}[31mred\u{1b}]0;title\u{7}\nstruct s { int a; };\n")
        put("empty.h", "/* nothing */\n")
        put("incomplete.h", "struct s;\n")
        put("ok.h", "struct s { int a; };\n")
        put("garbage.snap", "not a snapshot at all\n")
        put("truncated.snap", "SHMSCOPE-SNAPSHOT 1\ntarget x\nsize 1000\ntime 2026-01-01T00:00:00.000Z\n\nshort")
        put("huge.snap", "SHMSCOPE-SNAPSHOT 1\ntarget x\nsize 99999999999999999999\n\n")
        put("nosize.snap", "SHMSCOPE-SNAPSHOT 1\ntarget x\n\n")
        put("ctrl.snap", "SHMSCOPE-SNAPSHOT 1\ntarget \u{1b}[2J\nsize x\u{1b}[31m\n\n")
        put("noheaderend.snap", "SHMSCOPE-SNAPSHOT 1\ntarget x\nsize 3\n")
        put("big.bin", String(repeating: "x", count: 4096))
    }

    // MARK: The generator

    /// Bad values per option class.
    static let badNumbers = [
        "nan", "inf", "-inf", "1e300", "-1", "0x", "", " ", "12Q", "1.5K", "99999999999999999999",
        "0xffffffffffffffffff", "9999999999G", "\u{1b}[2J", "٣", "1_000", "+", "0x-1", "1 2", "--", "0b101", "1e3",
        "NaN", "\u{0}", "０",
    ]
    static let badDurations = [
        "nan", "inf", "-inf", "1e300", "-1", "-1s", "5x", "", "1.5.2", "99999999999h", "0x10s", "ms", "\u{7}",
        "1s2", "1 s", "1e-3", "Infinity", "99999999999999999999", "9223372036854775807s",
    ]
    static let badHex = ["xyz", "0xg", "abc", "", "de ad b", "0x", "\u{1b}", "ff ff fff", "0x0x10", "é"]
    static let badSem = ["x", "key:zz", "id:-1", "id:1@99999", "@", "key:0x1@-1", "id:nan", "key:", "id:", "\u{1b}[1m", "id:1@1@2"]

    /// Targets that do not parse: every TARGET form, with keys of every length and alphabet.
    func badTargets() -> [String] {
        let long = String(repeating: "k", count: 300)
        return [
            "", "qt:", "qt-posix:", "qt6:", "qt6-sysv:", "posix:", "sysv:", "shmid:", "qt6:a/b", "qt6:/a/b",
            "qt6-sysv:../../x", "qt6-sysv:a/b", "qt6-sysv:./x", "qt6-sysv:/tmp/../etc/x", "qt6-sysv:x/..", "qt6-sysv:..",
            "qt6-sysv:.", "qt6-sysv:/tmp/", "/", "/a/b", "/.", "/..", "posix:/a/b", "posix:..", "sysv:zz",
            "sysv:0x1ffffffff", "sysv:nan", "sysv:-", "sysv:1e300", "shmid:-1", "shmid:1e300", "shmid:99999999999",
            "shmid:0x", "shmid:inf", "nope:x", "QT:x", "qt:" + String(repeating: "a", count: 400), "qt-posix:" + String(repeating: "b", count: 400),
            "qt6:" + long, "/" + long, "posix:/" + long, "qt6:\u{1b}[31m/x", "shmid:\u{1b}[2J", "sysv:\u{7}",
            "qt6-sysv:a\u{1b}/b",
        ]
    }

    /// Targets that parse but name nothing: each command fails at run time (exit 1), and must make nothing.
    func missingTargets() -> [String] {
        [
            "qt:\(prefix)missing", "\(prefix)bare", "qt-posix:\(prefix)missing", "qt6:\(prefix)missing",
            "qt6-sysv:\(prefix)missing", "qt6-sysv:\(files)/victim", "qt6-sysv:\(files)/link",
            "qt6-sysv:\(files)/dangling", "qt6-sysv:\(files)/dir", "/\(prefix)_missing", "posix:\(prefix)_missing2",
            "sysv:\(missingKey)", "shmid:2147483000", "qt:\(prefix)\u{1b}[31mred", "qt:\(prefix)ключ",
            "qt6:\(prefix)\u{7}bell", "qt:\(prefix)" + String(repeating: "z", count: 150),
        ]
    }

    /// What each command needs besides its target, so that the target is the one thing wrong.
    static let targetCommands: [(String, [String])] = [
        ("info", []), ("dump", []), ("write", ["--offset", "0", "--hex", "00"]), ("lock", ["--hold", "1"]),
        ("rm", []), ("repair-lock", []), ("snapshot", ["SNAP"]), ("diff", ["GOODSNAP"]), ("watch", ["--log", "--count", "1"]),
        ("open", []), ("create", ["--size", "64"]),
    ]

    func cases() -> [CorpusCase] {
        var out: [CorpusCase] = []
        func add(_ args: [String]) { out.append(CorpusCase(arguments: args)) }
        let newSnap = files + "/new.snap"
        func fill(_ extra: [String]) -> [String] {
            extra.map { $0 == "SNAP" ? newSnap : $0 == "GOODSNAP" ? files + "/garbage.snap" : $0 }
        }
        // Every unparsable target with four commands, rotating, so every command meets every kind of bad target
        // (they fail in the one TARGET parser) while the corpus stays fast.
        let commands = Self.targetCommands
        for (i, t) in badTargets().enumerated() {
            for k in 0..<4 {
                let (command, extra) = commands[(i + k * 3) % commands.count]
                add([command, t] + fill(extra))
            }
        }
        // Every command but create with every missing target (create would make it: that is its job).
        for (command, extra) in Self.targetCommands where command != "create" {
            for t in missingTargets() { add([command, t] + fill(extra)) }
        }
        let fix = fixtures
        // Numbers, sizes, offsets.
        for v in Self.badNumbers {
            add(["dump", fix[0], "--offset", v])
            add(["dump", fix[1], "--length", v])
            add(["create", "qt:\(prefix)new", "--size", v])
            add(["create", "/\(prefix)_new", "--size", "64", "--fill", v])
            add(["write", fix[2], "--offset", v, "--hex", "00"])
            add(["watch", fix[3], "--log", "--count", v])
            add(["watch", fix[4], "--log", "--range", v])
            add(["open", fix[5], "--bytes-per-row", v])
        }
        for v in ["999", "-1", "8", "0o600", "rw", "", "1000", "0x1ff"] {
            add(["create", "qt6:\(prefix)newm", "--size", "64", "--mode", v])
        }
        // Sizes that parse but cannot be made: nothing may be left behind (key files, semaphores).
        for (i, t) in ["qt:\(prefix)big", "qt-posix:\(prefix)bigp", "qt6-sysv:\(prefix)big6s", "sysv:\(missingKey)"].enumerated() {
            add(["create", t, "--size", ["1T", "0x7fffffffffffffff", "4T", "8E"][i]])
        }
        // Ranges and offsets past the end of an existing segment (run time: exit 1, nothing written).
        for t in fix {
            add(["write", t, "--offset", "256", "--hex", "00"])
            add(["write", t, "--offset", "255", "--hex", "00 00"])
            add(["write", t, "--offset", "0x7fffffffffffffff", "--text", "x"])
            add(["dump", t, "--offset", "257"])
            add(["watch", t, "--log", "--range", "0x100:1"])
            add(["create", t, "--size", "64"])  // exists already
            add(["repair-lock", t])  // nothing stuck (or no lock): refused, nothing posted
        }
        // Durations.
        for v in Self.badDurations {
            add(["lock", fix[0], "--hold", v])
            add(["lock", fix[2], "--hold", "1", "--timeout", v])
            add(["write", fix[3], "--offset", "0", "--hex", "00", "--timeout", v])
            add(["watch", fix[4], "--log", "--interval", v])
            add(["watch", fix[1], "--log", "--duration", v])
            add(["open", fix[0], "--interval", v])
            add(["demo", "--writer-only", "--key", "\(prefix)demo", "--interval", v])
            add(["demo", "--writer-only", "--key", "\(prefix)demo", "--hold", v])
        }
        // Hex bytes.
        for v in Self.badHex { add(["write", fix[0], "--offset", "0", "--hex", v]) }
        // Semaphore references, temp dirs and Qt keys in the target option group.
        for v in Self.badSem {
            add(["write", "sysv:\(sysvKey)", "--offset", "0", "--hex", "00", "--sem", v])
            add(["lock", "shmid:\(shmid)", "--hold", "1", "--sem", v])
        }
        for command in ["dump", "rm", "snapshot", "diff"] {
            add([command, "sysv:\(sysvKey)", "--sem", "id:1"] + (command == "snapshot" ? [newSnap] : command == "diff" ? [files + "/garbage.snap"] : []))
        }
        for v in ["", "\u{1b}[1m", "qt:" + String(repeating: "q", count: 300)] {
            add(["info", "shmid:2147483000", "--key", v])
            add(["list", "--key", v] + (v.isEmpty ? [] : ["--kind", "bogus"]))
        }
        add(["create", "qt:\(prefix)newk", "--size", "64", "--key", "x"])
        for v in ["", "/nonexistent/\(prefix)dir", files + "/victim", files + "/link"] {
            add(["info", "qt:\(prefix)tmpd", "--tmpdir", v])
            add(["dump", "qt:\(prefix)tmpd", "--tmpdir", v])
            add(["lock", "qt:\(prefix)tmpd", "--hold", "1", "--tmpdir", v])
        }
        add(["info", "/\(prefix)_fix", "--tmpdir", root])  // --tmpdir does not apply to a POSIX name
        add(["info", "qt6:\(prefix)fix6", "--sem", "id:1"])
        for v in ["weird", "", "QT", "\u{1b}[31m", "sem,qt"] { add(["list", "--kind", v]) }
        // Layout files.
        let layouts = [
            "huge-offset", "max-offset", "huge-array", "big-array", "packed-overflow", "bad-type", "no-type", "twice",
            "ctrl", "ctrl-type", "nan", "negative", "zero-array",
        ].map { files + "/\($0).layout" } + [
            files + "/missing.layout", files + "/dir", files + "/binary", files + "/dangling", files + "/\u{1b}[31m.layout", "",
            "/dev/zero",
        ]
        for l in layouts {
            add(["dump", fix[0], "--layout", l])
            add(["dump", fix[4], "--layout", l, "--json"])
            add(["watch", fix[2], "--log", "--count", "1", "--layout", l])
            add(["open", fix[1], "--layout", l])
        }
        // Headers: what fails to compile, a struct that is not there, options that need a header or a struct.
        for (header, name) in [
            ("broken.h", "s"), ("ctrl.h", "s"), ("empty.h", "s"), ("incomplete.h", "s"), ("ok.h", "\u{1b}[31m"),
            ("ok.h", "t"), ("missing.h", "s"), ("dir", "s"),
        ] {
            add(["dump", fix[0], "--layout", files + "/" + header, "--struct", name])
            add(["diff", fix[0], files + "/existing.snap", "--layout", files + "/" + header, "--struct", name])
        }
        add(["watch", fix[2], "--log", "--count", "1", "--layout", files + "/broken.h", "--struct", "s"])
        add(["open", fix[1], "--layout", files + "/ctrl.h", "--struct", "s"])
        add(["dump", fix[0], "--layout", files + "/ok.h"])
        add(["dump", fix[0], "--struct", "s"])
        add(["dump", fix[0], "--layout", files + "/ok.h", "--struct", "s", "--lang", "fortran"])
        add(["dump", fix[0], "--layout", files + "/twice.layout", "-I", "/usr/include"])
        // Snapshot files: read (diff) and written (snapshot).
        let snaps = ["garbage", "truncated", "huge", "nosize", "ctrl", "noheaderend"].map { files + "/\($0).snap" } + [
            files + "/missing.snap", files + "/dir", files + "/empty", files + "/binary", files + "/dangling", "",
            files + "/\u{1b}]0;x\u{7}.snap", "/dev/zero",
        ]
        for s in snaps {
            add(["diff", fix[0], s])
            add(["diff", fix[5], s, "--json"])
        }
        for s in [
            files + "/existing.snap", files + "/victim", files + "/link", files + "/dangling", files + "/dir",
            files + "/nodir/x.snap", "", "/proc/\(prefix).snap",
        ] {
            add(["snapshot", fix[0], s])
            add(["snapshot", fix[4], s])
        }
        // Files read by create and write.
        for f in [files + "/missing.bin", files + "/dir", files + "/dangling", "", files + "/\u{1b}[2J"] {
            add(["create", "qt:\(prefix)from", "--from", f])
            add(["write", fix[0], "--offset", "0", "--file", f])
        }
        add(["create", "qt:\(prefix)from2", "--size", "16", "--from", files + "/big.bin"])
        add(["create", "qt:\(prefix)from3", "--size", "16", "--from", files + "/big.bin", "--fill", "1"])
        add(["write", fix[1], "--offset", "0", "--file", files + "/big.bin"])
        // Usage: unknown commands and options, missing arguments, TUI commands without a terminal.
        for args in [
            ["bogus"], ["info"], ["dump"], ["write", fix[0]], ["write", fix[0], "--offset", "0"],
            ["write", fix[0], "--offset", "0", "--hex", "00", "--text", "x"], ["lock", fix[0]],
            ["lock", fix[0], "--hold", "1", "--", "true"], ["rm"], ["create", "qt:\(prefix)x"],
            ["dump", fix[0], "--format", "nope"], ["dump", fix[0], "--bogus"], ["list", "--bogus"],
            ["snapshot", fix[0]], ["diff", fix[0]], ["open", fix[0]], ["watch", fix[0]], ["browse"], ["demo"],
            ["open", fix[0], "--read-only", "--read-only", "--bogus"], ["\u{1b}[2J"], ["info", fix[0], "\u{1b}[2J"],
            ["demo", "--key", ""], ["demo", "--writer-only", "--key", "\(prefix)demo", "--interval", "1ms"],
        ] { add(args) }
        return out
    }

    // MARK: Running

    struct Result: Sendable {
        var pid: Int32
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
        var seconds: Double = 0
    }

    func runAll(_ cases: [CorpusCase]) -> [Result] {
        let results = Results(count: cases.count)
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: 12)
        for (i, c) in cases.enumerated() {
            slots.wait()
            group.enter()
            DispatchQueue.global().async {
                defer {
                    slots.signal()
                    group.leave()
                }
                results.set(i, self.runOne(c))
            }
        }
        group.wait()
        return results.all()
    }

    private func runOne(_ c: CorpusCase) -> Result {
        guard let child = try? Child(ShmscopeBinary.path, c.arguments, environment: environment) else {
            return Result(pid: -1, status: -1, stdout: "", stderr: "spawn failed", timedOut: false)
        }
        child.closeStdin()
        let start = Date()
        let finished = Flag()
        let pid = child.pid
        DispatchQueue.global().asyncAfter(deadline: .now() + 15) { if !finished.isSet { kill(pid, SIGKILL) } }
        let r = child.finish()
        finished.set()
        return Result(
            pid: pid, status: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.status == 128 + SIGKILL,
            seconds: Date().timeIntervalSince(start))
    }

    /// What is wrong with one case's outcome, or nil.
    static func problem(with r: Result) -> String? {
        if r.timedOut { return "still running after 15 s" }
        guard r.status == 1 || r.status == 2 else { return "exit \(r.status) (stdout: \(r.stdout.prefix(120)))" }
        guard r.stderr.hasSuffix("\n") else { return "stderr does not end in one line: \(r.stderr.debugDescription)" }
        let body = r.stderr.dropLast()
        if body.contains("\n") { return "\(body.split(separator: "\n").count) lines on stderr: \(r.stderr.prefix(300).debugDescription)" }
        if body.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }) {
            return "control character on stderr: \(body.debugDescription)"
        }
        if !body.hasPrefix("shmscope: ") { return "stderr is not one shmscope line: \(body.debugDescription)" }
        return nil
    }

    // MARK: State before and after

    /// Every file under the run's root: type, mode, size, inode and a hash of the contents.
    func fileState() -> [String: String] {
        var out: [String: String] = [:]
        func walk(_ dir: String) {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
            for name in names {
                let path = dir + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                var text = "mode \(String(st.st_mode, radix: 8)) ino \(st.st_ino) size \(st.st_size)"
                switch st.st_mode & S_IFMT {
                case S_IFDIR: walk(path)
                case S_IFREG:
                    let data = FileManager.default.contents(atPath: path) ?? Data()
                    text += " hash \(data.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 })"
                    if data.count < 200 { text += " " + String(decoding: data, as: UTF8.self).debugDescription }
                case S_IFLNK:
                    var buffer = [CChar](repeating: 0, count: 4096)
                    let n = readlink(path, &buffer, buffer.count - 1)
                    text += " -> " + String(cString: Array(buffer[0..<max(0, n)]) + [0])
                default: break
                }
                out[path] = text
            }
        }
        walk(root)
        return out
    }

    /// `/dev/shm` entries whose names carry this run's prefix (POSIX objects, Qt POSIX names, semaphores).
    func posixEntries() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm"))?.filter { $0.contains(prefix) } ?? [])
    }

    /// Each fixture's bytes and lock state.
    func fixtureState() -> [String: String] {
        var out: [String: String] = [:]
        for target in fixtures {
            let dump = (try? ShmscopeBinary.run(["dump", target, "--format", "raw"], environment: environment))?.stdout ?? "?"
            let info = (try? ShmscopeBinary.run(["info", target], environment: environment))?.stdout ?? ""
            let lock = info.split(separator: "\n").first { $0.hasPrefix("lock") }.map { $0.contains("value 1") ? "free" : String($0) } ?? "none"
            out[target] = "\(dump.utf8.count) bytes, \(Set(dump.utf8).sorted()), lock \(lock)"
        }
        return out
    }
}

/// Results written from many threads, one slot each.
private final class Results: @unchecked Sendable {
    private var items: [CorpusRun.Result?]
    private let lock = NSLock()
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: CorpusRun.Result) { lock.withLock { items[i] = r } }
    func all() -> [CorpusRun.Result] { lock.withLock { items.map { $0! } } }
}

private final class Flag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// System V segments now: id, key and creator pid (`/proc/sysvipc/shm`).
func sysvShm() -> [(id: Int32, key: key_t, cpid: Int32)] {
    let text = (try? String(contentsOfFile: "/proc/sysvipc/shm", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").dropFirst().compactMap { line in
        let f = line.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count > 5, let key = Int64(f[0]), let id = Int32(f[1]), let cpid = Int32(f[4]) else { return nil }
        return (id, key_t(truncatingIfNeeded: key), cpid)
    }
}

/// System V semaphore set ids now (`/proc/sysvipc/sem`).
func sysvSemIDs() -> [Int32] {
    let text = (try? String(contentsOfFile: "/proc/sysvipc/sem", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").dropFirst().compactMap { line in
        let f = line.split(separator: " ", omittingEmptySubsequences: true)
        return f.count > 1 ? Int32(f[1]) : nil
    }
}
