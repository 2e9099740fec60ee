import ArgumentParser
import Glibc
import ShmCore

/// `shmscope snapshot TARGET FILE`: saves the whole segment in the snapshot format (README "Snapshots").
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save a copy of a segment to a snapshot file, to compare against later with `diff`.",
        discussion: """
            The file holds a short text header (magic, target, size, time) and the raw bytes; the hex view's S and O keys save and load the same format.

            Example:
              shmscope snapshot SharedMemory_Key before.snap
            """)

    @OptionGroup var target: TargetOptions

    @Argument(help: "The snapshot file to write (created 0600; an existing file is replaced only with --force).")
    var file: String

    @Flag(name: .long, help: "Replace FILE if it exists (a symlink there is replaced, never followed).")
    var force = false

    func validate() throws {
        try target.refuseLock(in: "snapshot")
        if file.isEmpty { throw ValidationError("FILE must not be empty") }
        // Refused before the segment is read: a snapshot of a big segment is not taken only to be thrown away.
        if !force, existsWithoutFollowing(file) {
            throw ValidationError("\(file) already exists: pass --force to replace it, or pick another name")
        }
    }

    func run() throws {
        let memory = try target.memory()
        try memory.attach(.readOnly)
        // A chunk at a time: a segment of any size, and a sparse one's holes stay holes (in the file too).
        let saved = try Snapshot.save(
            memory, target: memory.target.description, time: wallClockSeconds(), toFile: file, replace: force)
        Output.standard.print("saved \(saved) bytes of \(memory.target) to \(file)")
    }
}

/// `shmscope diff TARGET FILE`: what changed in a segment since a snapshot.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare a segment with a snapshot file: one line per differing run of bytes.",
        discussion: """
            Text: one line per run, `OFFSET LENGTH OLD NEW` (old = the snapshot, new = the segment now, as hex), then a summary line `N runs, M bytes differ`. If the sizes differ, the common prefix is compared and a `size SNAPSHOT -> NOW` line says so.

            Exit status is 0 whether or not anything differs (1 is shmscope's runtime-failure status, so it cannot mean "differs" as it does for diff(1)); read the count instead.

            Examples:
              shmscope diff SharedMemory_Key before.snap
              shmscope diff /psm_1234 before.snap --json
            """)

    @OptionGroup var target: TargetOptions

    @Argument(help: "A snapshot file (from `shmscope snapshot` or the TUI's S key).")
    var file: String

    @Flag(name: .long, help: "Print one JSON object (see README \"diff\").")
    var json = false

    func validate() throws { try target.refuseLock(in: "diff") }

    struct RunJSON: Encodable {
        var offset: Int
        var length: Int
        var old: String
        var new: String
    }

    struct DiffJSON: Encodable {
        var target: String
        var snapshotTarget: String
        var snapshotTime: String
        var snapshotSize: Int
        var size: Int
        var runCount: Int
        var bytesDiffer: Int
        var runs: [RunJSON]

        enum CodingKeys: String, CodingKey {
            case target
            case snapshotTarget = "snapshot_target"
            case snapshotTime = "snapshot_time"
            case snapshotSize = "snapshot_size"
            case size
            case runCount = "run_count"
            case bytesDiffer = "bytes_differ"
            case runs
        }
    }

    func run() throws {
        let memory = try target.memory()
        try memory.attach(.readOnly)
        // A chunk at a time from both: neither the file nor the segment is ever whole in memory.
        let (snapshot, runs) = try Snapshot.differences(file: file, against: memory)
        let size = memory.size
        let total = runs.reduce(0) { $0 + $1.length }
        let out = Output.standard
        if json {
            out.print(
                try encodeJSON(
                    DiffJSON(
                        target: memory.target.description, snapshotTarget: snapshot.target,
                        snapshotTime: iso8601(snapshot.time), snapshotSize: snapshot.size, size: size,
                        runCount: runs.count, bytesDiffer: total,
                        runs: runs.map {
                            RunJSON(
                                offset: $0.offset, length: $0.length, old: hexString($0.old ?? []),
                                new: hexString($0.new))
                        })))
            return
        }
        for r in runs {
            out.print("0x\(hexPadded(r.offset, width: 8)) \(r.length) \(hexString(r.old ?? [])) \(hexString(r.new))")
        }
        if snapshot.size != size {
            out.print("size \(snapshot.size) -> \(size) (compared the first \(min(snapshot.size, size)) bytes)")
        }
        out.print("\(runs.count) run\(runs.count == 1 ? "" : "s"), \(total) byte\(total == 1 ? "" : "s") differ")
    }
}

/// Whether anything (a file, a directory, a symlink, even a dangling one) is at `path`.
func existsWithoutFollowing(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}
