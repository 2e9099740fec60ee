import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// `--layout FILE.h --struct NAME` end to end: a segment filled by a gcc-compiled program (the struct corpus),
/// decoded by `dump`, named in `watch --log` and `diff`, and the one-line failures.
@Suite(.enabled(if: LayoutCorpus.available && PythonPeer.available))
struct HeaderLayoutCLITests {
    static let header = LayoutCorpus.header

    /// A POSIX segment holding `structName` as the compiled corpus program filled it, and the compiler's facts.
    func filledSegment(_ structName: String) throws -> (name: String, facts: LayoutCorpus.CompilerFacts) {
        var layouts: [String: StructLayout] = [:]
        for s in LayoutCorpus.structs {
            layouts[s] = try HeaderLayout.load(header: Self.header, struct: s).layout
        }
        let program = try LayoutCorpus.build(layouts, cxx: false)
        defer {
            unlink(program)
            unlink(program + ".c")
        }
        let facts = try #require(try LayoutCorpus.facts(program: program)[structName])
        let name = "/" + uniqueName("hdr")
        let made = try run(program, [name, structName])
        guard made.status == 0 else { throw PeerError("corpus program could not make \(name): \(made.stderr)") }
        return (name, facts)
    }

    @Test func dumpDecodesTheSegmentAsTheCompilerFilledIt() throws {
        let (name, facts) = try filledSegment("nested_rec")
        defer { cleanUp(.posix(name: name)) }
        let r = try ShmscopeBinary.run(["dump", name, "--layout", Self.header, "--struct", "nested_rec", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let fields = try #require(json["fields"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: fields.map { ($0["name"] as! String, $0) })
        #expect(byName["hdr.state"]?["value"] as? String == "STATE_RUNNING")
        #expect(byName["hdr.magic"]?["value"] as? Int == 0x4d41_4749)
        #expect(byName["items[2].y"]?["value"] as? Int == 30)
        #expect(byName["counter"]?["value"] as? [Int] == [100, 101, 102, 103])
        #expect(byName["flags"]?["value"] as? [Bool] == [true, false, true])
        #expect(byName["title"]?["value"] as? String == "Héllo€")
        #expect(byName["trail"]?["value"] as? Double == -0.125)
        #expect(byName["hdr.state"]?["offset"] as? Int == facts.fields["hdr.state"]?.offset)
        #expect(byName["trail"]?["offset"] as? Int == facts.fields["trail"]?.offset)
        // Every value the compiler printed for a whole field agrees with what dump shows.
        for (path, printed) in facts.values where byName[path] != nil {
            let layout = try HeaderLayout.load(header: Self.header, struct: "nested_rec").layout
            let member = try #require(layout.member(named: path))
            #expect(LayoutCorpus.matches(member.decode(facts.bytes), printed), "\(path)")
        }
        // The same bytes through another struct of the header (a typedef of an anonymous struct): hdr.magic is id,
        // hdr.state (3) is parts.lo and parts.hi.
        let text = try ShmscopeBinary.run(["dump", name, "--layout", Self.header, "--struct", "typedef_rec"])
        #expect(
            text.stdout == """
                id        u32le  @0x0000  1296123721
                parts.lo  u16le  @0x0004  3
                parts.hi  u16le  @0x0006  0

                """)
    }

    @Test func watchLogAndDiffNameTheFieldsAndSplitAtTheirBoundaries() throws {
        let (name, _) = try filledSegment("nested_rec")
        defer { cleanUp(.posix(name: name)) }
        let snapshot = "/tmp/\(uniqueName("hdrsnap")).snap"
        defer { unlink(snapshot) }
        #expect(try ShmscopeBinary.run(["snapshot", name, snapshot]).status == 0)
        let py = try PythonPeer.start()
        #expect(py.ask("attach \(name.dropFirst())") == "ok")
        let watch = try ShmscopeBinary.start(
            ["watch", name, "--log", "--interval", "20", "--layout", Self.header, "--struct", "nested_rec"])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline,
            !((try? String(decoding: readFile("/proc/\(watch.pid)/maps"), as: UTF8.self))?.contains(name) ?? false)
        {
            usleep(10_000)
        }
        usleep(150_000)
        // hdr.count (8-9), padding (10-11), v (12-15); then the last byte of counter[0] and the first of counter[1].
        #expect(py.ask("write 8 ABCDEFGH") == "ok")
        usleep(150_000)
        #expect(py.ask("write 27 zz") == "ok")
        var lines: [String] = []
        for _ in 0..<5 {
            let line = try #require(watch.readLine(timeout: 5))
            lines.append(line.replacing(try Regex(#"^\S+ "#), with: "T "))
        }
        watch.signal(SIGINT)
        _ = watch.finish()
        #expect(
            lines == [
                "T 0x00000008 2 2a00 4142 hdr.count", "T 0x0000000a 2 0000 4344 -",
                "T 0x0000000c 4 0000c03f 45464748 v.as_u32", "T 0x0000001b 1 00 7a counter[0]",
                "T 0x0000001c 1 65 7a counter[1]",
            ])
        let diff = try ShmscopeBinary.run(
            ["diff", name, snapshot, "--layout", Self.header, "--struct", "nested_rec"])
        #expect(
            diff.stdout == """
                0x00000008 2 2a00 4142 hdr.count
                0x0000000a 2 0000 4344 -
                0x0000000c 4 0000c03f 45464748 v.as_u32
                0x0000001b 1 00 7a counter[0]
                0x0000001c 1 65 7a counter[1]
                5 runs, 10 bytes differ

                """)
        let json = try ShmscopeBinary.run(
            ["diff", name, snapshot, "--json", "--layout", Self.header, "--struct", "nested_rec"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let runs = try #require(object["runs"] as? [[String: Any]])
        #expect(runs.map { $0["field"] as? String } == ["hdr.count", nil, "v.as_u32", "counter[0]", "counter[1]"])
        #expect(runs.allSatisfy { $0.keys.contains("field") })
        #expect(runs[1]["offset"] as? Int == 10 && runs[1]["new"] as? String == "4344")
        #expect(py.ask("quit") == "ok")
    }

    @Test(.enabled(if: toolAvailable("tmux") { which("tmux") != nil }))
    func theViewJumpsToAFieldByNameAndNamesIt() throws {
        let (name, _) = try filledSegment("nested_rec")
        defer { cleanUp(.posix(name: name)) }
        let screen = try TmuxScreen(
            width: 100, height: 30, arguments: ["open", name, "--layout", Self.header, "--struct", "nested_rec"])
        defer { screen.kill() }
        try #require(screen.waitFor("@0x00000000 hdr.magic │") != nil)
        screen.send("f")
        try #require(screen.waitFor("Field (hdr.state, items[2].x, counter[3]):") != nil)
        screen.send("-l", "items[2].y")
        screen.send("Enter")
        let jumped = try #require(screen.waitFor("items[2].y: i32le at 0x0000003c, 4 bytes"))
        #expect(jumped.contains("@0x0000003c items[2].y │"))
        // A unique last part is enough; the layout pane then shows the field's row with its value by name.
        screen.send("f")
        try #require(screen.waitFor("Field (") != nil)
        screen.send("-l", "state")
        screen.send("Enter")
        try #require(screen.waitFor("@0x00000004 hdr.state │") != nil)
        screen.send("t")
        #expect(screen.waitFor { $0.contains("hdr.state") && $0.contains("STATE_RUNNING") && $0.contains("─ Layout (") } != nil)
        screen.send("q")
        #expect(screen.waitFor("EXIT=0") != nil)
    }

    @Test func problemsAreOneLine() throws {
        let name = "/" + uniqueName("hdrerr")
        let fd = shm_open(name, O_CREAT | O_RDWR, 0o600)
        ftruncate(fd, 64)
        close(fd)
        defer { cleanUp(.posix(name: name)) }
        let missing = try ShmscopeBinary.run(["dump", name, "--layout", Self.header, "--struct", "nested"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "shmscope: --layout: \(Self.header): no struct `nested`: did you mean nested_rec?\n")
        let dir = "/tmp/\(uniqueName("hdrinc"))"
        mkdir(dir, 0o700)
        defer {
            unlink(dir + "/peer.h")
            unlink(dir + "/inc/types.h")
            rmdir(dir + "/inc")
            rmdir(dir)
        }
        mkdir(dir + "/inc", 0o700)
        try "#include \"types.h\"\nstruct peer { counter_t n; char name[COUNT]; };\n".write(
            toFile: dir + "/peer.h", atomically: true, encoding: .utf8)
        try "typedef unsigned long long counter_t;\n".write(toFile: dir + "/inc/types.h", atomically: true, encoding: .utf8)
        let broken = try ShmscopeBinary.run(["dump", name, "--layout", dir + "/peer.h", "--struct", "peer"])
        #expect(broken.status == 2)
        #expect(broken.stderr == "shmscope: --layout: \(dir)/peer.h:1:10: fatal error: 'types.h' file not found\n")
        // -I and -D as for the compiler (joined or not).
        let fixed = try ShmscopeBinary.run(
            ["dump", name, "--layout", dir + "/peer.h", "--struct", "peer", "-I", dir + "/inc", "-DCOUNT=4"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(fixed.stdout == "n     u64le    @0x0000  0\nname  char[4]  @0x0008  \"\"\n")
        let joined = try ShmscopeBinary.run(
            ["dump", name, "--layout", dir + "/peer.h", "--struct", "peer", "-I" + dir + "/inc", "-D", "COUNT=2",
             "--cflag", "-DUNUSED=1"])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(joined.stdout.hasSuffix("name  char[2]  @0x0008  \"\"\n"))
        let noStruct = try ShmscopeBinary.run(["dump", name, "--layout", Self.header])
        #expect(noStruct.status == 2)
        #expect(noStruct.stderr.hasPrefix("shmscope: --layout \(Self.header) is a header: name the struct to lay out with --struct NAME"))
        var environment = ShmscopeBinary.environment
        environment["SHMSCOPE_LIBCLANG"] = "libclang-absent.so.1"
        let noClang = try ShmscopeBinary.run(
            ["dump", name, "--layout", Self.header, "--struct", "basic"], environment: environment)
        #expect(noClang.status == 1)
        #expect(
            noClang.stderr == "shmscope: --layout: a C header layout needs libclang (libclang-absent.so.1), which is "
                + "not installed: apt-get install libclang1-14 libclang-common-14-dev\n")
        let stray = try ShmscopeBinary.run(["dump", name, "--struct", "x"])
        #expect(stray.status == 2 && stray.stderr.contains("--struct goes with --layout FILE.h"))
        let lang = try ShmscopeBinary.run(["dump", name, "--layout", Self.header, "--struct", "basic", "--lang", "d"])
        #expect(lang.status == 2 && lang.stderr.contains("--lang must be c or c++, got d"))
    }
}
