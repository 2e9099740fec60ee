import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// The command line fits the hands of ipcs/lsipc/diff users (issue 13, item 7 and 5): `list` at 80 columns with
/// -o/--noheadings/--bytes, --help of every command within the width, usage errors naming the subcommand's help,
/// shell completion of TARGETs, and diff's --exit-code and two-snapshot form.
@Suite struct HandsCLITests {
    static let commands = [
        "", "browse", "open", "watch", "demo", "list", "info", "create", "dump", "write", "lock", "rm", "repair-lock",
        "snapshot", "diff",
    ]

    func env(columns: Int, _ extra: [String: String] = [:]) -> [String: String] {
        var e = ShmscopeBinary.environment
        e["COLUMNS"] = String(columns)
        for (k, v) in extra { e[k] = v }
        return e
    }

    /// A Qt key longer than any terminal, with its segment (4096 bytes). The key is remembered in a key store of its
    /// own, so the browser of tests running meanwhile shows the segment by its short hashed name, not this key.
    func longKeySegment(store: String) throws -> String {
        let key = uniqueName("listwidth") + "_" + String(repeating: "very_long_key_part_", count: 5)
        let made = try ShmscopeBinary.run(
            ["create", "qt:\(key)", "--size", "4096"], environment: env(columns: 80, ["XDG_STATE_HOME": store]))
        #expect(made.status == 0, "\(made.stderr)")
        return key
    }

    @Test func listFitsEightyColumnsAndCutsALongKey() throws {
        let store = "/tmp/\(uniqueName("liststore"))"
        mkdir(store, 0o700)
        defer {
            unlink(store + "/shmscope/keys")
            rmdir(store + "/shmscope")
            rmdir(store)
        }
        let key = try longKeySegment(store: store)
        defer { cleanUp(.qt(key: key, backend: .systemV)) }
        let list = try ShmscopeBinary.run(["list", "--key", key], environment: env(columns: 80))
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        for line in lines { #expect(line.count <= 80, "\(line.count) columns: \(line)") }
        #expect(lines.first?.hasPrefix("KIND ") == true)
        let ours = try #require(lines.first { $0.contains(String(key.prefix(20))) })
        #expect(ours.contains("…") && !ours.contains(key))
        // One column of a known width: the key cut to 80 columns exactly, the last one the ellipsis.
        let keyOnly = try ShmscopeBinary.run(
            ["list", "-o", "KEY", "--noheadings", "--key", key], environment: env(columns: 80))
        #expect(keyOnly.stdout.split(separator: "\n").contains { $0 == key.prefix(79) + "…" }, "\(keyOnly.stdout)")
        #expect(!keyOnly.stdout.contains("KEY\n"))
        // Wide enough: the whole key, the size in bytes with --bytes, human-readable without.
        let bytes = try ShmscopeBinary.run(
            ["list", "-o", "key,size", "--bytes", "--noheadings", "--key", key], environment: env(columns: 400))
        let row = try #require(bytes.stdout.split(separator: "\n").first { $0.hasPrefix(key) })
        #expect(row.hasSuffix(" 4096") && row.dropFirst(key.count).dropLast(5).allSatisfy { $0 == " " }, "\(row)")
        let human = try ShmscopeBinary.run(
            ["list", "-o", "KEY,SIZE", "--key", key], environment: env(columns: 400))
        #expect(human.stdout.hasPrefix("KEY "))
        #expect(human.stdout.split(separator: "\n").contains { $0.hasPrefix(key) && $0.hasSuffix(" 4 KiB") })
        // +LIST adds to the defaults; an unknown column is a usage error naming the known ones.
        let plus = try ShmscopeBinary.run(["list", "-o", "+UID", "--key", key], environment: env(columns: 400))
        let heading = plus.stdout.split(separator: "\n").first?.split(separator: " ").map(String.init)
        #expect(heading == CatalogColumn.defaultNames + ["UID"], "\(plus.stdout)")
        let bad = try ShmscopeBinary.run(["list", "-o", "KEY,colour"])
        #expect(bad.status == 2)
        #expect(
            bad.stderr
                == "shmscope: -o: unknown column `colour` (known: KIND,KEY,ID,SIZE,PERMS,OWNER,NATTCH,LOCK,ATTACHED,STATUS,UID,CPID,LPID,NATIVE) (see 'shmscope list --help')\n"
        )
        let json = try ShmscopeBinary.run(["list", "--json", "--bytes"])
        #expect(json.status == 2 && json.stderr.hasSuffix("(see 'shmscope list --help')\n"))
    }

    @Test(arguments: commands) func helpFitsTheTerminalWidth(_ command: String) throws {
        let args = (command.isEmpty ? [] : [command]) + ["--help"]
        for width in [80, 60] {
            let help = try ShmscopeBinary.run(args, environment: env(columns: width))
            #expect(help.status == 0)
            for line in help.stdout.split(separator: "\n") {
                #expect(line.count <= width, "\(command) --help at \(width): \(line.count) columns: \(line)")
            }
            #expect(help.stdout.contains("USAGE: shmscope"))
        }
    }

    @Test func usageErrorsPointAtTheSubcommandsHelpOnOneLine() throws {
        for (args, help) in [
            (["list", "--bogus"], "shmscope list --help"), (["diff", "qt:x"], "shmscope diff --help"),
            (["open", "--bytes-per-row", "7", "qt:x"], "shmscope open --help"), (["bogus"], "shmscope browse --help"),
        ] {
            let r = try ShmscopeBinary.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.hasSuffix(" (see '\(help)')\n"), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
    }

    /// The man pages are generated from ArgumentParser's dump of the commands (`make man`): `open`'s includes the
    /// hex view's keys, the same lines as its F1 overlay.
    @Test func manPageSourceHasTheHexViewKeys() throws {
        let dump = try ShmscopeBinary.run(["--experimental-dump-help"])
        #expect(dump.status == 0)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let command = try #require(doc["command"] as? [String: Any])
        let subcommands = try #require(command["subcommands"] as? [[String: Any]])
        let open = try #require(subcommands.first { $0["commandName"] as? String == "open" })
        let discussion = try #require(open["discussion"] as? String)
        for line in [
            "KEYS (the hex view", "  Search      /  F6   backward ?", "  Diff runs   D", "  Help        F1     Quit  q  F10",
        ] {
            #expect(discussion.contains(line), "\(line)")
        }
        // Plain ASCII: the man page generator drops other characters.
        let keys = discussion[discussion.firstRange(of: "KEYS")!.lowerBound...]
        #expect(keys.unicodeScalars.allSatisfy { $0.isASCII }, "\(keys)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/bash")))
    func bashCompletesTargetsAndFiles() throws {
        // A known key in a private key store, a System V segment, a file for --layout.
        let state = "/tmp/\(uniqueName("complstate"))"
        let key = uniqueName("complkey")
        mkdir(state, 0o700)
        mkdir(state + "/shmscope", 0o700)
        let layout = state + "/frame.layout"
        defer {
            unlink(state + "/shmscope/keys")
            unlink(layout)
            rmdir(state + "/shmscope")
            rmdir(state)
        }
        try (key + "\n").write(toFile: state + "/shmscope/keys", atomically: false, encoding: .utf8)
        try "count u32\n".write(toFile: layout, atomically: false, encoding: .utf8)
        let id = shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600)
        #expect(id >= 0)
        defer { shmctl(id, IPC_RMID, nil) }
        let script = try ShmscopeBinary.run(["--generate-completion-script", "bash"])
        #expect(script.status == 0)
        let scriptPath = state + "/completion.bash"
        defer { unlink(scriptPath) }
        try script.stdout.write(toFile: scriptPath, atomically: false, encoding: .utf8)
        func complete(_ words: [String]) throws -> [String] {
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let body = """
                source '\(scriptPath)'
                COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
                COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
                _shmscope shmscope "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            var e = ShmscopeBinary.environment
            e["XDG_STATE_HOME"] = state
            e["PATH"] = URL(fileURLWithPath: ShmscopeBinary.path).deletingLastPathComponent().path + ":" + (e["PATH"] ?? "")
            let r = try run("/bin/bash", ["-c", body], environment: e)
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.split(separator: "\n").map(String.init)
        }
        let all = try complete(["shmscope", "open", ""])
        #expect(all.contains(key), "\(all)")
        #expect(all.contains("shmid:\(id)"), "\(all)")
        #expect(try complete(["shmscope", "info", "shmid:\(id)"]).contains("shmid:\(id)"))
        #expect(try complete(["shmscope", "diff", String(key.prefix(12))]).contains(key))
        #expect(try complete(["shmscope", "open", "qt:x", "--layout", state + "/fr"]).contains(layout))
        // zsh's script gives the candidates to _describe, where a bare colon would start a description.
        var zsh = ShmscopeBinary.environment
        zsh["SAP_SHELL"] = "zsh"
        zsh["XDG_STATE_HOME"] = state
        let asked = try ShmscopeBinary.run(
            ["---completion", "open", "--", "positional@0", "2", "0", "shmscope", "open", "shmid"], environment: zsh)
        #expect(asked.stdout.split(separator: "\n").contains { $0 == "shmid\\:\(id)" }, "\(asked.stdout)")
    }

    @Test func diffExitCodesAndTwoSnapshots() throws {
        let name = "/" + uniqueName("hcdiff")
        let other = "/" + uniqueName("hcdiff2")
        defer {
            cleanUp(.posix(name: name))
            cleanUp(.posix(name: other))
        }
        let a = "/tmp/\(uniqueName("hcdiffa")).snap"
        let b = "/tmp/\(uniqueName("hcdiffb")).snap"
        defer {
            unlink(a)
            unlink(b)
        }
        #expect(try ShmscopeBinary.run(["create", name, "--size", "32"]).status == 0)
        #expect(try ShmscopeBinary.run(["create", other, "--size", "32"]).status == 0)
        #expect(try ShmscopeBinary.run(["snapshot", name, a]).status == 0)
        let same = try ShmscopeBinary.run(["diff", name, a, "--exit-code"])
        #expect(same.status == 0 && same.stdout == "0 runs, 0 bytes differ\n" && same.stderr.isEmpty)
        #expect(try ShmscopeBinary.run(["write", name, "--offset", "4", "--hex", "4142", "--no-lock"]).status == 0)
        let differs = try ShmscopeBinary.run(["diff", name, a, "--exit-code"])
        #expect(differs.status == 1 && differs.stdout == "0x00000004 2 0000 4142\n1 run, 2 bytes differ\n")
        #expect(differs.stderr.isEmpty)
        // Without --exit-code: 0 whatever differs, 1 on a failure; with it, a failure is 3.
        #expect(try ShmscopeBinary.run(["diff", name, a]).status == 0)
        let missing = "/tmp/\(uniqueName("nosnap")).snap"
        let failed = try ShmscopeBinary.run(["diff", name, missing])
        #expect(failed.status == 1 && failed.stderr.split(separator: "\n").count == 1)
        let failed3 = try ShmscopeBinary.run(["diff", name, missing, "--exit-code"])
        #expect(failed3.status == 3 && failed3.stderr == failed.stderr)
        let help = try ShmscopeBinary.run(["diff", "--help"], environment: env(columns: 80))
        #expect(help.stdout.contains("--exit-code") && help.stdout.contains("3 on a runtime failure"))
        // Two snapshot files: old → new, as with a segment.
        #expect(try ShmscopeBinary.run(["snapshot", name, b]).status == 0)
        let two = try ShmscopeBinary.run(["diff", a, b, "--exit-code"])
        #expect(two.status == 1 && two.stdout == "0x00000004 2 0000 4142\n1 run, 2 bytes differ\n", "\(two.stderr)")
        #expect(two.stderr.isEmpty)
        let reverse = try ShmscopeBinary.run(["diff", b, a])
        #expect(reverse.status == 0 && reverse.stdout == "0x00000004 2 4142 0000\n1 run, 2 bytes differ\n")
        #expect(try ShmscopeBinary.run(["diff", a, a, "--exit-code"]).status == 0)
        let json = try ShmscopeBinary.run(["diff", a, b, "--json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(doc["target"] as? String == name && doc["snapshot_target"] as? String == name)
        #expect(doc["new_snapshot_time"] is String && doc["run_count"] as? Int == 1)
        #expect(try ShmscopeBinary.run(["diff", a, b, "--sem", "id:1"]).status == 2)
        // A snapshot of another target: one warning line on stderr, the comparison still made.
        let foreign = try ShmscopeBinary.run(["diff", other, b, "--exit-code"])
        #expect(foreign.status == 1)
        #expect(foreign.stderr == "shmscope: warning: \(b) was taken of \(name), compared with \(other)\n")
        #expect(foreign.stdout == "0x00000004 2 4142 0000\n1 run, 2 bytes differ\n")
    }
}
