import Testing
import Glibc

@testable import ShmCore

/// The `list` table fitted to a width: what is dropped and cut first, and the -o/--bytes/--noheadings shapes.
@Suite struct CatalogTableTests {
    static let lock = LockInfo(
        mechanism: .qtSystemV, nativeName: "/tmp/qipc_systemsem_x", semid: 3, value: 0, lastPID: 4242,
        lastCommand: "qtpeer", waiters: 2, stuck: false)

    static let entries: [CatalogEntry] = [
        CatalogEntry(
            kind: .qt, label: "com.example.sensor-dashboard.shared-frame-buffer-primary", nativeKey: "/tmp/qipc_x",
            shmid: 32769, size: 4096, mode: 0o600, uid: 0, nattch: 3,
            attached: [
                AttachedProcess(pid: 4242, command: "qtpeer", uid: 0, access: .readWrite),
                AttachedProcess(pid: 4243, command: "dashboard", uid: 0, access: .readOnly),
                AttachedProcess(pid: 4250, command: "logger", uid: 0, access: .readOnly),
            ],
            lock: lock, status: .ok),
        CatalogEntry(
            kind: .posix, label: "/psm_1234", nativeKey: "/psm_1234", size: 33_554_432, mode: 0o640, uid: 0,
            nattch: 0, attached: [], status: .ok),
        CatalogEntry(
            kind: .qt, label: "Qt…[a1b2c3]", nativeKey: "/tmp/qipc_y", shmid: 7, size: 10_000, mode: 0o600, uid: 0,
            nattch: 0, attached: [], status: .stale),
    ]

    @Test func defaultTableFitsEightyColumnsDroppingPermsOwnerAndIdFirst() {
        let lines = CatalogTable.render(Self.entries, width: 80)
        // Perms, owner and id go first; then the key, lock and attached list are cut (whole processes, +N for the
        // rest; the status stays whole); the attach count goes before they are cut any shorter.
        #expect(
            lines == [
                "KIND  KEY                         SIZE LOCK                     ATTACHED",
                "qt    com.example.sensor-dash…   4 KiB held by pid 4242 (qtpee… qtpeer(4242),+2",
                "posix /psm_1234                 32 MiB -                        -",
                "qt    Qt…[a1b2c3] [stale]      9.8 KiB -                        -",
            ])
        for line in lines { #expect(line.count <= 80, "\(line.count): \(line)") }
    }

    @Test func wideTerminalShowsEverything() {
        let lines = CatalogTable.render(Self.entries, width: 200)
        #expect(lines[0].hasPrefix("KIND  KEY"))
        #expect(lines[0].contains("ID") && lines[0].contains("PERMS") && lines[0].contains("OWNER"))
        #expect(lines[1].contains("com.example.sensor-dashboard.shared-frame-buffer-primary"))
        #expect(lines[1].hasSuffix("qtpeer(4242),dashboard(4243),logger(4250)"))
        #expect(lines[1].contains("held by pid 4242 (qtpeer), 2 waiting"))
    }

    @Test func namedColumnsAreNeverDroppedOnlyCut() throws {
        let columns = try CatalogColumn.parseList("key,id,perms,size")
        #expect(columns.map(\.name) == ["KEY", "ID", "PERMS", "SIZE"])
        let lines = CatalogTable.render(
            Self.entries, columns: columns, explicit: true, options: .init(bytes: true), width: 40, headings: false)
        #expect(
            lines == [
                "com.example.se… 32769 rw-------     4096",
                "/psm_1234           - rw-r----- 33554432",
                "Qt…[a1… [stale]     7 rw-------    10000",
            ])
    }

    @Test func plusAddsToTheDefaultsAndUnknownNamesAreRefused() throws {
        #expect(try CatalogColumn.parseList("+uid,CPID").map(\.name) == CatalogColumn.defaultNames + ["UID", "CPID"])
        #expect(throws: CatalogTable.ColumnError.self) { try CatalogColumn.parseList("KEY,nope") }
        #expect(throws: CatalogTable.ColumnError.self) { try CatalogColumn.parseList("KEY,,SIZE") }
    }

    @Test func attachedListIsCutAtWholeEntries() {
        let names = ["qtpeer(4242)", "dashboard(4243)", "logger(4250)"]
        #expect(attachedText(names, width: 100) == "qtpeer(4242),dashboard(4243),logger(4250)")
        #expect(attachedText(names, width: 20) == "qtpeer(4242),+2")
        #expect(attachedText(names, width: 5) == "+3")
        #expect(attachedText([], width: 5) == "-")
        #expect(humanSize(10_000) == "9.8 KiB" && humanSize(4096) == "4 KiB" && humanSize(512) == "512 B")
    }

    @Test func completionOffersKnownKeysPosixNamesAndShmids() throws {
        let dir = "/tmp/shmscope-complete-\(getpid())"
        mkdir(dir, 0o700)
        defer {
            unlink(dir + "/seg_a")
            unlink(dir + "/sem.lock")
            rmdir(dir)
        }
        for name in ["seg_a", "sem.lock"] { close(open(dir + "/" + name, O_CREAT | O_WRONLY, 0o600)) }
        let records = ProcViews.parseSystemVSegments(
            "key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime\n"
                + "1358988241 42 600 4096 1 1 0 0 0 0 0 0 0 0\n")
        let all = TargetCompletion.candidates(
            prefix: "", knownKeys: KnownKeys(["SharedMemory_Key"]), devShm: dir, systemV: records)
        #expect(all == ["SharedMemory_Key", "/seg_a", "shmid:42"])
        #expect(
            TargetCompletion.candidates(prefix: "shm", knownKeys: KnownKeys(), devShm: dir, systemV: records)
                == ["shmid:42"])
    }

    /// Unreadable processes are named only when a kernel count proves they hide an attachment.
    @Test func unreadableProcessesAreMentionedOnlyWhenACountProvesAHiddenAttachment() {
        var catalog = Catalog(entries: Self.entries, hiddenProcesses: 1, unreadablePIDs: [1], temporaryDirectory: "/tmp",
            runtimeDirectory: "/run")
        // Entry 0: NATTCH 3, three readable attachers; the POSIX object has no count.
        #expect(catalog.unseenAttachmentsNote(catalog.entries) == nil)
        catalog.entries[0].nattch = 5
        #expect(catalog.entries[0].unseenAttachments == 2 && catalog.entries[1].unseenAttachments == 0)
        #expect(catalog.unseenAttachmentsNote(catalog.entries) == "(2 attachments in processes we cannot read: pid 1)")
        catalog.unreadablePIDs = []
        #expect(catalog.unseenAttachmentsNote(catalog.entries) == nil)
    }
}
