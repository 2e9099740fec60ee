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
        let catalog = Catalog.scan(resolved.catalogSources())
        if let entry = resolved.entry(in: catalog), !entry.attached.isEmpty || entry.nattch > 0, !force {
            let who = entry.attached.map { "\($0.command)(\($0.pid))" }.joined(separator: ", ")
            throw CommandError(
                message: "\(parsed): \(max(entry.nattch, entry.attached.count)) process(es) attached"
                    + (who.isEmpty ? "" : " (\(who))") + ": pass --force to remove anyway")
        }
        let memory = resolved.memory()
        try memory.remove()
        Output.standard.print("removed \(parsed)")
    }
}
