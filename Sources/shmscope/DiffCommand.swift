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

    @Argument(
        help: "The snapshot file to write (created 0600; an existing file is replaced only with --force).",
        completion: .file(extensions: ["snap"]))
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

/// `shmscope diff TARGET FILE` (what changed in a segment since a snapshot) and `shmscope diff OLD.snap NEW.snap`
/// (what changed between two snapshots).
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare a segment with a snapshot file, or two snapshot files: one line per differing run.",
        usage: """
            shmscope diff TARGET FILE [--json] [--exit-code] [<target options>]
            shmscope diff OLD.snap NEW.snap [--json] [--exit-code]
            """,
        discussion: """
            Text: one line per run, `OFFSET LENGTH OLD NEW` (old = the snapshot, new = the segment now, or NEW.snap, \
            as hex), then a summary line `N runs, M bytes differ`. If the sizes differ, the common prefix is \
            compared and a `size OLD -> NEW` line says so.

            The first argument is a snapshot file when it is a file that starts like one (`SHMSCOPE-SNAPSHOT 1`); \
            otherwise it is a TARGET (name a Qt key that is also a file name here as qt:KEY).

            When the snapshot was taken of another target than the one it is compared with, one warning line goes \
            to stderr (the comparison still runs).

            With --layout (a layout file, or the peer's header with --struct), each line gains a fifth column, the field the run belongs to (`counter[2]`, `hdr.state`, `-` between fields), and a run that spans fields is split at their boundaries; JSON runs gain "field".

            Exit status: without --exit-code, 0 whether or not anything differs (read the count), 1 on a runtime \
            failure, 2 on a usage error. With --exit-code, as diff(1) and `git diff --exit-code`: 0 when nothing \
            differs, 1 when something does (sizes included), 3 on a runtime failure, 2 on a usage error.

            Examples:
              shmscope diff SharedMemory_Key before.snap
              shmscope diff /psm_1234 before.snap --json
              shmscope diff before.snap after.snap --exit-code || echo changed
              shmscope diff /psm_1234 before.snap --layout peer.h --struct shared_state
            """)

    @Argument(
        help: ArgumentHelp(
            "The segment (see TARGET in `shmscope --help`), or OLD.snap to compare two snapshot files.",
            valueName: "TARGET|OLD.snap"),
        completion: .custom(targetCompletions))
    var first: String

    @Argument(
        help: ArgumentHelp(
            "A snapshot file (from `shmscope snapshot` or the TUI's S key): the old side, or the new one after OLD.snap.",
            valueName: "FILE"),
        completion: .file(extensions: ["snap"]))
    var file: String

    @OptionGroup var resolution: TargetContextOptions

    @Flag(name: .long, help: "Print one JSON object (see README \"diff\").")
    var json = false

    @OptionGroup var layouts: LayoutOptions

    @Flag(
        name: .customLong("exit-code"),
        help: "Exit 1 when anything differs, 0 when nothing does, 3 on a runtime failure (as diff(1)).")
    var exitCode = false

    /// Two snapshot files (no segment), or a target and a snapshot.
    private var comparesTwoFiles: Bool { SnapshotFile.looksLikeSnapshot(first) }

    /// The target options as every TARGET command has them, checked the same way.
    private func targetOptions() throws -> TargetOptions {
        var options = try TargetOptions.parse([first])
        options.resolution = resolution
        try options.validate()
        return options
    }

    func validate() throws {
        if comparesTwoFiles {
            if resolution.sem != nil || resolution.noLock || resolution.tmpdir != nil || !resolution.keys.isEmpty {
                throw ValidationError(
                    "--tmpdir, --sem, --key and --no-lock resolve a TARGET; `\(first)` is a snapshot file")
            }
            return
        }
        let options = try targetOptions()
        try options.refuseLock(in: "diff")
    }

    struct RunJSON: Encodable {
        var offset: Int
        var length: Int
        var old: String
        var new: String
        /// Only with --layout: the field's path, or null between fields.
        var field: String??

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(offset, forKey: .offset)
            try c.encode(length, forKey: .length)
            try c.encode(old, forKey: .old)
            try c.encode(new, forKey: .new)
            if let field { try c.encode(field, forKey: .field) }
        }

        enum CodingKeys: String, CodingKey { case offset, length, old, new, field }
    }

    struct DiffJSON: Encodable {
        var target: String
        var snapshotTarget: String
        var snapshotTime: String
        var snapshotSize: Int
        /// When NEW is a snapshot file too: when it was taken.
        var newSnapshotTime: String?
        var size: Int
        var runCount: Int
        var bytesDiffer: Int
        var runs: [RunJSON]

        enum CodingKeys: String, CodingKey {
            case target
            case snapshotTarget = "snapshot_target"
            case snapshotTime = "snapshot_time"
            case snapshotSize = "snapshot_size"
            case newSnapshotTime = "new_snapshot_time"
            case size
            case runCount = "run_count"
            case bytesDiffer = "bytes_differ"
            case runs
        }
    }

    func run() throws {
        do {
            try compare()
        } catch let error as ShmError where exitCode {
            // diff(1)'s convention: 1 means "differs", so a failure must be something else.
            throw CommandError(message: "\(error)", code: 3)
        }
    }

    private func compare() throws {
        let layout = try layouts.load()
        // Old side: the snapshot file; new side: the segment now, or the second file.
        let oldPath: String
        let newTarget: String
        let newTime: Double?
        let reader: any ByteReader
        var memory: SharedMemory?
        if comparesTwoFiles {
            let newer = try SnapshotFile(path: file)
            oldPath = first
            newTarget = newer.header.target
            newTime = newer.header.time
            reader = newer
        } else {
            let m = try targetOptions().memory()
            try m.attach(.readOnly)
            memory = m
            oldPath = file
            newTarget = m.target.description
            newTime = nil
            reader = m
        }
        // A chunk at a time from both: neither side is ever whole in memory.
        let (snapshot, whole) = try Snapshot.differences(file: oldPath, against: reader)
        withExtendedLifetime(memory) {}
        if snapshot.target != newTarget {
            let what = newTime == nil ? "compared with" : "the other of"
            Output.note(
                "shmscope: warning: \(oldPath) was taken of \(snapshot.target.isEmpty ? "an unnamed target" : snapshot.target), \(what) \(newTarget)"
            )
        }
        // With a layout, runs are cut at field boundaries and named.
        let named: [(change: ByteChange, field: String?)] = whole.flatMap { r in layout?.split(r) ?? [(r, nil)] }
        let runs = named.map(\.change)
        let size = reader.byteCount
        let total = runs.reduce(0) { $0 + $1.length }
        let out = Output.standard
        if json {
            out.print(
                try encodeJSON(
                    DiffJSON(
                        target: newTarget, snapshotTarget: snapshot.target,
                        snapshotTime: iso8601(snapshot.time), snapshotSize: snapshot.size,
                        newSnapshotTime: newTime.map(iso8601), size: size,
                        runCount: runs.count, bytesDiffer: total,
                        runs: named.map {
                            RunJSON(
                                offset: $0.change.offset, length: $0.change.length,
                                old: hexString($0.change.old ?? []), new: hexString($0.change.new),
                                field: layout == nil ? nil : .some($0.field))
                        })))
        } else {
            for (r, field) in named {
                let line = "0x\(hexPadded(r.offset, width: 8)) \(r.length) \(hexString(r.old ?? [])) \(hexString(r.new))"
                out.print(layout == nil ? line : line + " " + (field ?? "-"))
            }
            if snapshot.size != size {
                out.print("size \(snapshot.size) -> \(size) (compared the first \(min(snapshot.size, size)) bytes)")
            }
            out.print("\(runs.count) run\(runs.count == 1 ? "" : "s"), \(total) byte\(total == 1 ? "" : "s") differ")
        }
        if exitCode && (!runs.isEmpty || snapshot.size != size) {
            throw ExitCode(1)
        }
    }
}

/// Whether anything (a file, a directory, a symlink, even a dangling one) is at `path`.
func existsWithoutFollowing(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}
