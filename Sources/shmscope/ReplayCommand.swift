import ArgumentParser
import Glibc
import ShmCore
import ShmTUI

/// `shmscope replay FILE`: a recording made by `watch --record`, in the hex view with a timeline, as a log, or as a
/// snapshot of one moment.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a recording made by `watch --record`: the hex view with a timeline, --log, or --snapshot.",
        discussion: """
            The hex view shows the segment as recorded, with the layout, inspector and activity panes as live; the status line shows the position (+12.345s), the time and `change n of N`. Keys: `.` and `,` next/previous change, `:` then `@+12.5s` or an ISO time seeks, `p` plays (again: faster, up to 16x; `P` stops), `B` a breakpoint jumps to the next step where its condition holds. The Who pane shows who was attached, as recorded.

            --log prints the recording as `watch --log` printed it (same lines, times and fields with --layout), plus `TIME event gap CHANGES BYTES LIMIT` where the recorder dropped changes past its --record-limit.

            --at TIME --snapshot OUT writes the segment at that moment as a snapshot file (as `shmscope snapshot` does): TIME is +12.5s from the start or an ISO 8601 time as --log prints it.

            Examples:
              shmscope replay run.shmrec
              shmscope replay run.shmrec --log --layout peer.layout
              shmscope replay run.shmrec --at +12.5s --snapshot at12.snap
            """)

    @Argument(help: "A recording made by `shmscope watch TARGET --record FILE`.")
    var file: String

    @Flag(name: .long, help: "Print the recording as `watch --log` would have.")
    var log = false

    @Flag(name: .long, help: "With --log: one JSON object per line (NDJSON).")
    var json = false

    @Option(
        name: .long, help: "With --snapshot: the moment, +12.5s from the start or an ISO 8601 time (as --log prints).")
    var at: String?

    @Option(name: .long, help: ArgumentHelp("Write the segment at --at as a snapshot file.", valueName: "OUT"))
    var snapshot: String?

    @Flag(name: .long, help: "With --snapshot: replace OUT if it exists.")
    var force = false

    @OptionGroup var view: HexViewOptions

    func validate() throws {
        if json && !log { throw ValidationError("--json goes with --log") }
        if (at == nil) != (snapshot == nil) { throw ValidationError("--at and --snapshot go together") }
        if log && snapshot != nil { throw ValidationError("--log and --snapshot: give one of them") }
        if force && snapshot == nil { throw ValidationError("--force goes with --snapshot") }
    }

    func run() throws {
        let player: RecordingPlayer
        do { player = try RecordingPlayer(try Recording.read(fromFile: file)) } catch let error as ShmError {
            throw error
        } catch {
            throw CommandError(message: "\(file): \(error)")
        }
        let layout = try view.layouts.load()
        if log {
            let out = Output.standard
            for line in player.logLines(json: json, layout: layout) { out.print(line) }
            out.flush()
            if let truncation = player.truncation { Output.errors.print("\(file): \(truncation)") }
            return
        }
        if let at, let snapshot {
            let time: Double
            do { time = try player.time(parsing: at) } catch { throw CommandError(message: error.message, code: 2) }
            guard time >= player.steps[0].time || at.trimmingSpaces().hasPrefix("+") else {
                throw CommandError(
                    message: "--at \(at) is before the recording's first contents (\(iso8601(player.steps[0].time)))",
                    code: 1)
            }
            player.seek(step: player.step(atTime: time))
            try Snapshot(target: player.target, time: time, bytes: player.bytes).write(toFile: snapshot, replace: force)
            Output.standard.print(
                "wrote \(snapshot): \(player.bytes.count) bytes at \(player.offsetText(time)) (change \(player.changesApplied) of \(player.changeCount))"
            )
            return
        }
        requireTerminal("replay", hint: "; add --log to print it, or --at TIME --snapshot OUT")
        let composer = try view.composer(context: TargetContext())
        runTerminalProgram(composer.session(replaying: player))
    }
}
