import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// Recordings: the writer and reader agree, a cut-off file still reads, the player lands on the right states.
@Suite struct RecordingTests {
    func temporaryPath(_ tag: String) -> String { "/tmp/" + uniqueName(tag) + ".shmrec" }

    /// A recording of an 8-byte segment: keyframe, three changes, a resize, a gap with its keyframe, the end.
    func writeSample(_ path: String) throws {
        let writer = try RecordingWriter(path: path, force: false)
        try writer.append(.header(target: "qt:demo", kind: "Qt SysV", time: 100, intervalMS: 20))
        try writer.append(
            .who(time: 100, RecordedWho(attached: [.init(pid: 42, command: "peer")], lastPID: 42, lock: "free")))
        try writer.append(.keyframe(time: 100.1, bytes: [0, 0, 0, 0, 0, 0, 0, 0]))
        try writer.append(.change(time: 101, offset: 0, new: [1], oldKnown: true))
        try writer.append(.change(time: 102, offset: 2, new: [2, 2], oldKnown: true))
        try writer.append(.change(time: 103, offset: 0, new: [3], oldKnown: false))
        try writer.append(.event(time: 104, .resized(from: 8, to: 4)))
        try writer.append(.keyframe(time: 104, bytes: [3, 0, 2, 2]))
        try writer.append(.gap(time: 105, droppedChanges: 7, droppedBytes: 70, limit: 1024))
        try writer.append(.keyframe(time: 105, bytes: [9, 9, 9, 9]))
        try writer.finish(time: 106, reason: "duration")
    }

    @Test func roundTripsAndIsPrivate() throws {
        let path = temporaryPath("rec")
        defer { unlink(path) }
        try writeSample(path)
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let recording = try Recording.read(fromFile: path)
        #expect(recording.truncation == nil)
        #expect(recording.entries.count == 11)
        #expect(recording.entries[4] == .change(time: 102, offset: 2, new: [2, 2], oldKnown: true))
        #expect(recording.entries.last == .end(time: 106, reason: "duration"))
    }

    @Test func neverReplacesAFileThatIsNotARecording() throws {
        let path = temporaryPath("notrec")
        defer { unlink(path) }
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        _ = write(fd, "precious", 8)
        close(fd)
        #expect(throws: ShmError.self) { try RecordingWriter(path: path, force: false) }
        #expect(throws: ShmError.self) { try RecordingWriter(path: path, force: true) }
        #expect(try readFile(path) == Array("precious".utf8))
        // An earlier recording is replaced with --force only.
        let rec = temporaryPath("rec")
        defer { unlink(rec) }
        try writeSample(rec)
        #expect(throws: ShmError.self) { try RecordingWriter(path: rec, force: false) }
        let again = try RecordingWriter(path: rec, force: true)
        try again.append(.header(target: "x", kind: "SysV", time: 1, intervalMS: 10))
        try again.finish(time: 2, reason: "signal")
        #expect(try Recording.read(fromFile: rec).entries.count == 2)
        // Never through a symlink.
        let link = temporaryPath("link")
        defer { unlink(link) }
        symlink(rec, link)
        #expect(throws: ShmError.self) { try RecordingWriter(path: link, force: true) }
    }

    @Test func aFileCutShortReadsUpToItsLastWholeBlock() throws {
        let path = temporaryPath("cut")
        defer { unlink(path) }
        let writer = try RecordingWriter(path: path, force: false)
        try writer.append(.header(target: "qt:demo", kind: "Qt SysV", time: 100, intervalMS: 20))
        try writer.append(.keyframe(time: 100, bytes: [0, 0]))
        try writer.append(.change(time: 101, offset: 0, new: [1], oldKnown: true))
        try writer.flush()
        try writer.append(.change(time: 102, offset: 1, new: [2], oldKnown: true))
        try writer.flush()
        let whole = try readFile(path)
        // The second block loses its last bytes, as after a crash mid-write.
        let recording = try Recording.decode(Array(whole.dropLast(3)))
        #expect(recording.entries.count == 3)
        #expect(recording.truncation == "cut off after 1.000 s: the recorder did not finish it")
        #expect(throws: RecordingFormatError.self) { try Recording.decode(Array("SHMSCOPE-SNAPSHOT 1\n".utf8)) }
    }

    @Test func playerStepsSeeksAndLogs() throws {
        let path = temporaryPath("play")
        defer { unlink(path) }
        try writeSample(path)
        let player = try RecordingPlayer(try Recording.read(fromFile: path))
        #expect(player.changeCount == 3)
        #expect(player.position == 0 && player.bytes == [0, 0, 0, 0, 0, 0, 0, 0] && player.changesApplied == 0)
        player.seek(step: try #require(player.nextChange()))
        #expect(player.bytes == [1, 0, 0, 0, 0, 0, 0, 0] && player.changesApplied == 1)
        player.seek(step: try #require(player.nextChange()))
        #expect(player.bytes == [1, 0, 2, 2, 0, 0, 0, 0] && player.changesApplied == 2)
        player.seek(step: try #require(player.previousChange()))
        #expect(player.bytes == [1, 0, 0, 0, 0, 0, 0, 0])
        // By time: each moment shows the last step at or before it.
        for (time, expected) in [
            (100.5, [0, 0, 0, 0, 0, 0, 0, 0]), (101.5, [1, 0, 0, 0, 0, 0, 0, 0]), (103, [3, 0, 2, 2, 0, 0, 0, 0]),
            (104.5, [3, 0, 2, 2]), (200, [9, 9, 9, 9]), (50, [0, 0, 0, 0, 0, 0, 0, 0]),
        ] as [(Double, [UInt8])] {
            player.seek(step: player.step(atTime: time))
            #expect(player.bytes == expected, "at \(time)")
        }
        #expect(try player.time(parsing: "+1.5s") == 101.6, "from the first contents (100.1)")
        #expect(try player.time(parsing: "+500ms") == 100.6)
        #expect(try player.time(parsing: iso8601(102)) == 102 + 0.000_499)
        #expect(throws: NumberSyntaxError.self) { try player.time(parsing: "yesterday") }
        #expect(player.who == RecordedWho(attached: [.init(pid: 42, command: "peer")], lastPID: 42, lock: "free"))
        #expect(
            player.logLines(json: false, layout: nil) == [
                "\(iso8601(101)) 0x00000000 1 00 01 -",
                "\(iso8601(102)) 0x00000002 2 0000 0202 -",
                "\(iso8601(103)) 0x00000000 1 ? 03 -",
                "\(iso8601(104)) event resized 8 4",
                "\(iso8601(105)) event gap 7 70 1024",
            ])
    }

    @Test func breakpointsFindTheNextStepWhereTheyHold() throws {
        let path = temporaryPath("bp")
        defer { unlink(path) }
        try writeSample(path)
        let player = try RecordingPlayer(try Recording.read(fromFile: path))
        let three = try ConditionEvaluator(parsing: "u8@0 == 3")
        let step = try #require(player.nextStep(where: three))
        #expect(player.steps[step].time == 103)
        #expect(player.position == 0, "searching does not move")
        let changed = try ConditionEvaluator(parsing: "changed(u16@2)")
        #expect(player.steps[try #require(player.nextStep(where: changed))].time == 102)
        #expect(player.nextStep(where: try ConditionEvaluator(parsing: "u8@0 == 77")) == nil)
    }
}
