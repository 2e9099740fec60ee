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
              KEY or qt:KEY        a Qt key, as passed to QSharedMemory(KEY) (System V backend)
              qt-posix:KEY         a Qt key on a Qt build configured with POSIX IPC
              qt6:KEY              a Qt 6.6+ native key, platformSafeKey(KEY): POSIX /KEY (Qt's default)
              qt6-sysv:KEY         a Qt 6.6+ native System V key: $XDG_RUNTIME_DIR/KEY
              /name, posix:/name   a POSIX shared-memory object (/dev/shm/name)
              sysv:0x5100c078      a System V segment by IPC key
              shmid:30             a System V segment by id
            Qt key files live in Qt's temp dir: $TMPDIR resolved like realpath, or /tmp (--tmpdir overrides).

            Exit status: 0 success, 1 runtime failure, 2 usage error.
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
            var command = try parseAsRoot()
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
                Output.standard.print(fullMessage(for: error))
                Output.standard.flush()
                Glibc.exit(0)
            }
            if code == .validationFailure {
                let text = message(for: error).split(separator: "\n").first.map(String.init) ?? "usage error"
                Output.fail("shmscope: \(text) (see `shmscope --help`)", code: 2)
            }
            Output.fail("shmscope: \(message(for: error))", code: code.rawValue)
        }
        Output.standard.flush()
        Glibc.exit(0)
    }
}

/// A runtime failure with its own exit code and a one-line message.
struct CommandError: Error {
    var message: String
    var code: Int32 = 1
}
