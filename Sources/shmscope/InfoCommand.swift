import ArgumentParser
import ShmCore

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show everything about one segment: names, size, owner, attached processes and lock state.",
        discussion: """
            Examples:
              shmscope info SharedMemory_Key
              shmscope info /psm_1234 --json
              shmscope info shmid:30
            """)

    @OptionGroup var target: TargetOptions

    @Flag(name: .long, help: "Print JSON (one segment object of schema 1, see README).")
    var json = false

    func validate() throws { try target.refuseNoLock(in: "info") }

    func run() throws {
        let resolved = try target.resolved()
        let parsed = resolved.target
        let (found, catalog) = resolved.scanEntry()
        guard let entry = found else {
            throw ShmError(
                .notFound, operation: "info", target: parsed.description,
                message: "no such segment: \(parsed.notFoundAdvice(temporaryDirectory: catalog.temporaryDirectory))")
        }
        let out = Output.standard
        if json {
            out.print(try encodeJSON(SegmentJSON(entry)))
            return
        }
        for line in entry.infoLines(unreadablePIDs: catalog.unreadablePIDs) { out.print(line) }
    }
}
