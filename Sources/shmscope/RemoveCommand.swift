import ArgumentParser
import ShmCore

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a segment; for Qt keys also its key files and lock semaphore.",
        discussion: """
            Refuses while processes are attached unless --force (they keep their mapping until they detach).

            Examples:
              shmscope rm SharedMemory_Key
              shmscope rm /psm_1234 --force
            """)

    @OptionGroup var target: TargetOptions

    @Flag(name: .long, help: "Remove even while processes are attached.")
    var force = false

    func validate() throws { try target.refuseLock(in: "rm") }

    func run() throws {
        let resolved = try target.resolved()
        let parsed = resolved.target
        let removal = SegmentRemoval(resolved)
        if !removal.allowed(force: force) {
            let who = removal.attached.map { "\($0.command)(\($0.pid))" }.joined(separator: ", ")
            throw CommandError(
                message: "\(parsed): \(removal.attachedCount) process\(removal.attachedCount == 1 ? "" : "es") attached"
                    + (who.isEmpty ? "" : " (\(who))") + ": pass --force to remove anyway")
        }
        try removal.perform()
        Output.standard.print("removed \(parsed)")
    }
}
