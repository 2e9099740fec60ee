import ArgumentParser
import ShmCore

struct RepairLock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair-lock",
        abstract: "Give back a lock stuck at 0 because its holder died (POSIX semaphores have no undo).",
        discussion: """
            A Qt POSIX lock (qt-posix:KEY, qt6:KEY) taken by a process that crashed stays at 0 for ever, and every \
            Qt peer's lock() and attach() then hang. `shmscope info` shows such a lock as "stuck". This command \
            posts it once. It refuses unless the lock is stuck (no process has the semaphore open), or --force.

            Examples:
              shmscope info qt6:myapp          # lock ... stuck at 0 (no holder alive)
              shmscope repair-lock qt6:myapp
            """)

    @OptionGroup var target: TargetOptions

    @Flag(name: .long, help: "Release even if a process still has the semaphore open (it may be the real holder).")
    var force = false

    func validate() throws { try target.refuseNoLock(in: "repair-lock") }

    func run() throws {
        let resolved = try target.resolved()
        let parsed = resolved.target
        let lock = resolved.scanEntry().entry?.lock
        if !force {
            guard let lock else {
                throw CommandError(message: "\(parsed): no lock found to repair (see `shmscope info`)")
            }
            guard lock.stuck else {
                throw CommandError(
                    message: "\(parsed): lock is \(lock.summary), not stuck: pass --force to release it anyway")
            }
        }
        let memory = resolved.memory()
        if try memory.repairLock() {
            Output.standard.print("released the lock of \(parsed)")
        } else {
            Output.standard.print("the lock of \(parsed) was already free")
        }
    }
}
