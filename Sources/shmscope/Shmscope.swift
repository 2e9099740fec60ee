import ArgumentParser
import Glibc
import ShmCore

@main
struct Shmscope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shmscope",
        abstract: "See and change what is inside Linux shared memory: System V, POSIX and Qt QSharedMemory.",
        discussion: """
            TARGET syntax (every command):
              KEY or qt:KEY        a Qt key as in QSharedMemory(KEY), System V backend
              qt-posix:KEY         a Qt key on a Qt build configured with POSIX IPC
              qt6:KEY              a Qt 6.6+ native key (Qt's default): POSIX /KEY
              qt6-sysv:KEY         a Qt 6.6+ native System V key: $XDG_RUNTIME_DIR/KEY
              /name, posix:/name   a POSIX shared-memory object (/dev/shm/name)
              sysv:0x5100c078      a System V segment by IPC key
              shmid:30             a System V segment by id
              memfd:PID:NAME       a memfd object of process PID (list --all shows them)
              map:PID:ADDRESS      a shared anonymous mapping of PID at ADDRESS
            Qt key files live in Qt's temp dir: $TMPDIR resolved like realpath, or /tmp (--tmpdir overrides).
            In a container: --ns PID (a process inside it) on any command; list and the browser show every namespace.

            The hex view's keys (open, watch, demo, the browser's Enter): F1 in the view, `shmscope open --help`.

            Exit status: 0 success, 1 runtime failure, 2 usage error (diff --exit-code: 1 differs, 3 failure).
            """,
        version: shmscopeVersion,
        subcommands: [
            Browse.self, Open.self, Watch.self, Demo.self, List.self, Info.self, Create.self, Dump.self, Write.self,
            Lock.self, Remove.self, RepairLock.self, SnapshotCommand.self, Diff.self, Replay.self,
        ],
        defaultSubcommand: Browse.self
    )

    /// Runs the command line and maps failures to the documented exit codes, each as one line on stderr.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot(compilerStyleArguments(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let error as ShmError {
            Output.fail("shmscope: \(error)", code: 1)
        } catch let error as CommandError {
            Output.fail("shmscope: \(error.message)", code: error.code)
        } catch let status as ExitCode {
            // `lock -- COMMAND` passes on the command's status; the command said what happened, we add nothing
            // (ArgumentParser's message for an ExitCode is empty, which printed a bare "shmscope: ").
            Output.standard.flush()
            Glibc.exit(status.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                Output.standard.print(wrapHelp(fullMessage(for: error), width: terminalColumns()))
                Output.standard.flush()
                Glibc.exit(0)
            }
            if code == .validationFailure {
                let text = message(for: error).split(separator: "\n").first.map(String.init) ?? "usage error"
                Output.fail("shmscope: \(text) (see '\(helpCommand(for: error))')", code: 2)
            }
            Output.fail("shmscope: \(message(for: error))", code: code.rawValue)
        }
        Output.standard.flush()
        Glibc.exit(0)
    }
}

/// Help text with its USAGE line wrapped at `width` columns. ArgumentParser wraps the overview, the discussion and
/// the options at the terminal's width (COLUMNS, the terminal, else 80) but prints the USAGE line whole (up to 200
/// columns): it is broken here between options, never inside one (`[--key <key> ...]` stays together), continued 7
/// columns in as ArgumentParser indents its own continuation lines. Nothing else is touched: the same path prints
/// completion scripts and completion candidates, which must stay as they are.
func wrapHelp(_ text: String, width: Int) -> String {
    let width = max(40, width)
    var out: [String] = []
    var inUsage = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        // A usage of several lines (diff has two forms) continues 7 columns in.
        inUsage = line.hasPrefix("USAGE: ") || (inUsage && line.hasPrefix("       "))
        guard line.count > width, inUsage else {
            out.append(line)
            continue
        }
        var current = String(line.prefix(7))
        var empty = true
        for token in usageTokens(String(line.dropFirst(7))) {
            if !empty && current.count + 1 + token.count > width {
                out.append(current)
                current = String(repeating: " ", count: 7)
                empty = true
            }
            current += (empty ? "" : " ") + token
            empty = false
        }
        out.append(current)
    }
    return out.joined(separator: "\n")
}

/// Words of a usage line, with a bracketed or angled group (`[--key <key> ...]`) kept as one word.
func usageTokens(_ text: String) -> [String] {
    var tokens: [String] = []
    var current = ""
    var depth = 0
    for c in text {
        if c == "[" || c == "<" { depth += 1 }
        if c == "]" || c == ">" { depth = max(0, depth - 1) }
        if c == " " && depth == 0 {
            if !current.isEmpty { tokens.append(current) }
            current = ""
        } else {
            current.append(c)
        }
    }
    if !current.isEmpty { tokens.append(current) }
    return tokens
}

/// `shmscope list --help` for a usage error of `list`: the help of the command the error is about, as
/// ArgumentParser's own full message names it ("See 'shmscope list --help' for more information.").
func helpCommand(for error: Error) -> String {
    let full = Shmscope.fullMessage(for: error)
    for line in full.split(separator: "\n") {
        guard let start = line.firstRange(of: "See '"), let end = line[start.upperBound...].firstIndex(of: "'") else {
            continue
        }
        let command = line[start.upperBound..<end]
        if command.hasSuffix("--help") { return String(command) }
    }
    return "shmscope --help"
}

/// `-DNAME=VALUE` and `-I/dir` as a compiler takes them: ArgumentParser reads a joined short option's `=` as its
/// own separator (`-DCOUNT=4` became an unknown `-DCOUNT`), so these two are split into `-D NAME=VALUE` before
/// parsing. Only on a command line with `--layout`, nothing after `--`, and not the value of `--cflag`, which passes
/// a flag through untouched.
func compilerStyleArguments(_ arguments: [String]) -> [String] {
    guard arguments.contains(where: { $0 == "--layout" || $0.hasPrefix("--layout=") }) else { return arguments }
    var out: [String] = []
    var passThrough = false
    for (i, a) in arguments.enumerated() {
        if a == "--" { passThrough = true }
        let isCflagValue = i > 0 && arguments[i - 1] == "--cflag"
        if !passThrough, !isCflagValue, a.count > 2, a.hasPrefix("-D") || a.hasPrefix("-I") {
            out += [String(a.prefix(2)), String(a.dropFirst(2))]
        } else {
            out.append(a)
        }
    }
    return out
}

/// A runtime failure with its own exit code and a one-line message.
struct CommandError: Error {
    var message: String
    var code: Int32 = 1
}
