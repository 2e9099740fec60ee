import ArgumentParser
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
              /name, posix:/name   a POSIX shared-memory object (/dev/shm/name)
              sysv:0x5100c078      a System V segment by IPC key
              shmid:30             a System V segment by id
            Qt key files live in Qt's temp dir: $TMPDIR resolved like realpath, or /tmp.
            """,
        version: shmscopeVersion,
        subcommands: [Open.self, Browse.self],
        defaultSubcommand: Browse.self
    )
}
