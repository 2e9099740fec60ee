import Glibc

/// What shmscope knows about a segment's lock, read without taking it.
public struct LockInfo: Equatable, Sendable {
    public var mechanism: LockState.Mechanism
    /// Key file, semaphore name or locked file.
    public var nativeName: String
    public var semid: Int32?
    public var value: Int?
    public var lastPID: Int32?
    public var lastCommand: String?
    public var waiters: Int?
    /// Held (value 0) with no live holder: a POSIX semaphore left at 0 by a crash never comes back by itself.
    public var stuck: Bool

    /// "free", "held by pid N (cmd)", "stuck at 0 (no holder alive)", with waiters when any.
    public var summary: String {
        var text: String
        if stuck {
            text = "stuck at 0 (no holder alive)"
        } else if let value {
            if value > 0 {
                text = "free"
            } else if let pid = lastPID {
                text = "held by pid \(pid)" + (lastCommand.map { " (\($0))" } ?? "")
            } else {
                text = "held"
            }
        } else if let pid = lastPID {
            text = "held by pid \(pid)" + (lastCommand.map { " (\($0))" } ?? "")
        } else {
            text = "free"
        }
        if let waiters, waiters > 0 { text += ", \(waiters) waiting" }
        return text
    }
}

/// One thing the catalog lists: a segment of any kind, a stale Qt key file, or (with `all`) a semaphore.
public struct CatalogEntry: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case qt
        case qtPosix = "qt-posix"
        /// A Qt 6.6+ native POSIX key: `/dev/shm/NAME` with a matching `sem.NAME`.
        case qt6
        /// A Qt 6.6+ native System V key: the key file is in Qt's runtime dir.
        case qt6Sysv = "qt6-sysv"
        case sysv
        case posix
        /// A memfd (`memfd_create`) mapped shared by one or more processes.
        case memfd
        /// An anonymous shared mapping (`MAP_SHARED|MAP_ANONYMOUS`, shared over `fork`).
        case anon
        case sysvSemaphore = "sysv-sem"
        case posixSemaphore = "posix-sem"
    }

    public enum Status: String, Sendable {
        case ok
        /// A Qt key file whose segment is gone.
        case stale
        /// A Qt segment whose key file is gone (or an ftok('Q') key with no key file).
        case orphaned
        /// IPC_RMID done; it disappears when the last process detaches.
        case removing
        /// A POSIX Qt segment nobody is attached to (Qt never unlinks them on Linux).
        case leftover
    }

    public var kind: Kind
    /// How to open it again, when it can be opened.
    public var target: SegmentTarget?
    /// The KEY column: the real Qt key when known, else letters + short hash; a POSIX name; a System V key.
    public var label: String
    /// The real Qt key, when a known key hashes to this name.
    public var qtKey: String?
    public var qtLetters: String?
    public var qtHash: String?
    /// Key file path, POSIX name, or `0x…` key.
    public var nativeKey: String
    public var sysvKey: key_t?
    public var shmid: Int32?
    public var semid: Int32?
    public var size: Int?
    public var mode: UInt32?
    public var uid: UInt32?
    public var cpid: Int32?
    public var lpid: Int32?
    public var nattch: Int
    public var attached: [AttachedProcess]
    public var lock: LockInfo?
    public var status: Status
    public var note: String?
    /// Seconds since the epoch of the last attach, detach and change (System V).
    public var times: (attach: Int, detach: Int, change: Int)?
    /// The inode of a memfd's or anonymous mapping's shmem file (what groups its processes).
    public var objectInode: UInt64?
    /// The IPC namespace it is in, when the catalog looked at more than ours (`--ns all`) or at another one.
    public var namespace: IPCNamespace?
    /// The pid to open it through (`--ns PID`), nil when it is in our own namespace.
    public var namespacePID: Int32? { namespace.flatMap { $0.isOurs ? nil : $0.pid } }

    public static func == (a: CatalogEntry, b: CatalogEntry) -> Bool {
        a.kind == b.kind && a.nativeKey == b.nativeKey && a.shmid == b.shmid && a.size == b.size
            && a.nattch == b.nattch && a.status == b.status && a.lock == b.lock && a.attached == b.attached
            && a.label == b.label && a.namespace == b.namespace
    }

    public var owner: String? { uid.map(Accounts.userName) }

    /// Attachments the kernel counts (System V `nattch`) but no readable process accounts for: they are in
    /// processes whose maps we may not read. Always 0 for POSIX objects, which have no kernel count.
    public var unseenAttachments: Int { shmid == nil ? 0 : max(0, nattch - attached.count) }
}

extension Catalog {
    /// The note `list` prints under the table, or nil. Processes we cannot read are named only when a kernel count
    /// proves they hide an attachment; otherwise they say nothing about any segment and are not mentioned.
    public func unseenAttachmentsNote(_ shown: [CatalogEntry]) -> String? {
        let unseen = shown.reduce(0) { $0 + $1.unseenAttachments }
        // Without unreadable processes the gap is a race with an attach or detach between the two scans: no note.
        guard unseen > 0, !unreadablePIDs.isEmpty else { return nil }
        let pids = unreadablePIDs.prefix(3).map(String.init).joined(separator: ", ")
            + (unreadablePIDs.count > 3 ? ", …" : "")
        let who = unreadablePIDs.isEmpty ? "" : ": pid\(unreadablePIDs.count == 1 ? "" : "s") \(pids)"
        // Short enough for 80 columns (NATTCH counts them; ATTACHED cannot name them).
        return "(\(unseen) attachment\(unseen == 1 ? "" : "s") in processes we cannot read\(who))"
    }
}

/// The catalog of every segment shmscope can see: System V (`/proc/sysvipc`), POSIX (`/dev/shm`) and Qt keys (key
/// files in Qt's temp dir matched through `ftok`), with attached processes and lock state.
public struct Catalog: Sendable {
    public var entries: [CatalogEntry]
    /// Processes whose maps could not be read: any segment they attach is missing from ATTACHED. They are not
    /// counted as attachers: only a System V segment's kernel count (`unseenAttachments`) proves one is hidden.
    public var hiddenProcesses: Int
    public var unreadablePIDs: [Int32] = []
    public var temporaryDirectory: String
    public var runtimeDirectory: String
    /// Namespaces that have processes but could not be entered (no privilege): their segments are not listed.
    public var unreachableNamespaces = 0
    /// How many IPC namespaces the listed entries are in.
    public var namespaceCount: Int { Set(entries.map { $0.namespace?.inode ?? 0 }).count }

    public struct Sources: Sendable {
        public var temporaryDirectory: String
        public var devShm = "/dev/shm"
        /// Where Qt 6.6+ puts native System V key files (`$XDG_RUNTIME_DIR` or `<temp>/runtime-<user>`).
        public var runtimeDirectory: String
        public var knownKeys: KnownKeys
        public var includeSemaphores = false
        /// Also list memfd objects and anonymous shared mappings (`list --all`, `--kind memfd|anon`, the browser).
        public var includeMappings = false
        /// Which IPC namespaces to look in (`--ns`).
        public var namespaces: NamespaceSelection = .current
        /// `--tmpdir` as given: in another namespace it names a directory inside that namespace's root.
        public var givenTemporaryDirectory: String?

        public init(temporaryDirectory: String? = nil, knownKeys: KnownKeys = KnownKeys.load(), includeSemaphores: Bool = false) {
            self.temporaryDirectory = temporaryDirectory ?? QtNaming.tempPath()
            var env = currentEnvironment()
            if let temporaryDirectory { env["TMPDIR"] = temporaryDirectory }
            self.runtimeDirectory = QtNaming.runtimeDirectory(environment: env)
            self.knownKeys = knownKeys
            self.includeSemaphores = includeSemaphores
        }
    }

    /// Every segment in the namespaces `sources.namespaces` selects. Another namespace is read from its own
    /// thread (`NamespaceAccess`): `/proc/sysvipc` and `semctl` answer for the namespace of the thread that asks,
    /// and its `/dev/shm` and temp dir are read inside its root.
    public static func scan(_ sources: Sources) -> Catalog {
        let attachments = LazyAttachments()
        let ours = IPCNamespace.inode(of: nil)
        switch sources.namespaces {
        case .current:
            return scan(sources, access: .local, attachments: { attachments.get().of(ours, orUnknown: true) })
        case .process(let pid):
            let inode = IPCNamespace.inode(of: pid)
            guard let access = try? NamespaceAccess.of(pid: pid) else {
                var catalog = Catalog(
                    entries: [], hiddenProcesses: 0, temporaryDirectory: sources.temporaryDirectory,
                    runtimeDirectory: sources.runtimeDirectory)
                catalog.unreachableNamespaces = 1
                return catalog
            }
            guard access.isForeign else {
                return scan(sources, access: .local, attachments: { attachments.get().of(ours, orUnknown: true) })
            }
            var catalog = scan(
                foreign(sources, access), access: access, attachments: { attachments.get().of(inode, orUnknown: false) })
            let namespace = IPCNamespace.of(pid: pid)
            for i in catalog.entries.indices { catalog.entries[i].namespace = namespace }
            return catalog
        case .all:
            var catalog = scan(sources, access: .local, attachments: { attachments.get().of(ours, orUnknown: true) })
            let namespaces = IPCNamespace.all()
            let mine = namespaces.first { $0.isOurs }
            for i in catalog.entries.indices { catalog.entries[i].namespace = mine }
            for namespace in namespaces where !namespace.isOurs {
                guard let access = try? NamespaceAccess.of(pid: namespace.pid) else {
                    catalog.unreachableNamespaces += 1
                    continue
                }
                let part = scan(
                    foreign(sources, access), access: access,
                    attachments: { attachments.get().of(namespace.inode, orUnknown: false) })
                catalog.entries += part.entries.map { entry in
                    var entry = entry
                    entry.namespace = namespace
                    return entry
                }
                catalog.hiddenProcesses += part.hiddenProcesses
            }
            return catalog
        }
    }

    /// The sources as another namespace has them: its temp dir (its process's `TMPDIR`, else `/tmp`, or
    /// `--tmpdir` as given) and its runtime dir, both inside its root.
    private static func foreign(_ sources: Sources, _ access: NamespaceAccess) -> Sources {
        var copy = sources
        copy.temporaryDirectory = sources.givenTemporaryDirectory ?? access.temporaryDirectory
        copy.runtimeDirectory = access.runtimeDirectory(temporaryDirectory: copy.temporaryDirectory)
        return copy
    }

    /// One namespace's segments, read on its thread (or here for ours).
    private static func scan(
        _ sources: Sources, access: NamespaceAccess, attachments: @escaping () -> AttachmentScan
    ) -> Catalog {
        access.look { scanHere(sources, files: access.files, attachmentsOf: attachments) }
            ?? Catalog(
                entries: [], hiddenProcesses: 0, temporaryDirectory: sources.temporaryDirectory,
                runtimeDirectory: sources.runtimeDirectory)
    }

    private static func scanHere(
        _ sources: Sources, files: FileRoot, attachmentsOf: () -> AttachmentScan
    ) -> Catalog {
        let segments = ProcViews.systemVSegments()
        let semaphores = ProcViews.systemVSemaphores()
        let shmFiles = listDirectory(sources.devShm, files)
        // Who is attached comes from every process's maps, the costliest read of all: skip it when nothing can be
        // attached (no System V segment with attaches, nothing in /dev/shm, no mappings asked for), as with
        // ipcmk's segments.
        let attachments =
            segments.contains { $0.nattch > 0 } || !shmFiles.isEmpty || sources.includeMappings
            ? attachmentsOf() : AttachmentScan()
        var entries: [CatalogEntry] = []
        var claimedSegments = Set<Int32>()
        var claimedSemaphores = Set<Int32>()
        let segmentsByKey = Dictionary(
            segments.filter { $0.key != 0 }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let semaphoresByKey = Dictionary(
            semaphores.filter { $0.key != 0 }.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })

        // Qt System V keys: key files in the temp dir.
        let tmp = sources.temporaryDirectory.isEmpty ? "/" : sources.temporaryDirectory
        for file in listDirectory(tmp, files, prefix: QtNaming.sharedMemoryPrefix) {
            guard let parsed = QtNaming.parseLegacyName(file) else { continue }
            let path = (tmp == "/" ? "" : tmp) + "/" + file
            guard let st = try? files.lstat(path), st.st_mode & S_IFMT == S_IFREG else { continue }
            let realKey = sources.knownKeys.key(forHash: parsed.hash, letters: parsed.letters)
            var entry = CatalogEntry(
                kind: .qt, target: realKey.map { .qt(key: $0, backend: .systemV) },
                label: realKey ?? qtLabel(parsed.letters, parsed.hash), qtKey: realKey, qtLetters: parsed.letters,
                qtHash: parsed.hash, nativeKey: path, nattch: 0, attached: [], status: .stale)
            if let key = try? files.ftok(path, QtNaming.ftokProjectID) {
                entry.sysvKey = key
                if let seg = segmentsByKey[key] {
                    claimedSegments.insert(seg.shmid)
                    fill(&entry, from: seg, attachments: attachments)
                    if entry.target == nil { entry.target = .sysvID(seg.shmid) }
                    entry.status = .ok
                } else {
                    entry.note = "key file without a segment"
                }
            }
            let semPath = (tmp == "/" ? "" : tmp) + "/" + QtNaming.semaphorePrefix + parsed.letters + parsed.hash
            if let semKey = try? files.ftok(semPath, QtNaming.ftokProjectID), let sem = semaphoresByKey[semKey] {
                claimedSemaphores.insert(sem.semid)
                entry.lock = systemVLockInfo(sem, mechanism: .qtSystemV, name: semPath)
                entry.semid = sem.semid
            }
            entries.append(entry)
        }

        // POSIX objects; glibc's `sem.*` files are semaphores.
        var posixSemaphores: [String] = []
        let posixSemaphoreNames = Set(shmFiles.filter { $0.hasPrefix("sem.") })
        for file in shmFiles {
            let path = sources.devShm + "/" + file
            guard let st = try? files.lstat(path), st.st_mode & S_IFMT == S_IFREG else { continue }
            if file.hasPrefix("sem.") {
                posixSemaphores.append(file)
                continue
            }
            let name = "/" + file
            let attached = attachments.processes(posixName: name)
            var entry = CatalogEntry(
                kind: .posix, target: .posix(name: name), label: name, nativeKey: name, size: Int(st.st_size),
                mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, nattch: attached.count, attached: attached,
                status: .ok)
            if posixSemaphoreNames.contains("sem." + file), QtNaming.parseLegacyName(file) == nil {
                // Qt 6.6+ native key: the lock semaphore has the segment's own name.
                entry.kind = .qt6
                entry.target = .qtNative(key: file, type: .posix)
                entry.label = file
                entry.lock = posixSemaphoreInfo(name, attachments: attachments, devShm: sources.devShm, files: files)
                entry.note = "Qt 6 native key (POSIX); lock semaphore /dev/shm/sem.\(file)"
                if attached.isEmpty {
                    entry.status = .leftover
                    entry.note! += "; nobody attached: Qt never unlinks POSIX segments; `shmscope rm` removes it"
                }
            } else if let parsed = QtNaming.parseLegacyName(file), parsed.prefix == QtNaming.sharedMemoryPrefix {
                let realKey = sources.knownKeys.key(forHash: parsed.hash, letters: parsed.letters)
                entry.kind = .qtPosix
                entry.qtKey = realKey
                entry.qtLetters = parsed.letters
                entry.qtHash = parsed.hash
                entry.label = realKey ?? qtLabel(parsed.letters, parsed.hash)
                if let realKey { entry.target = .qt(key: realKey, backend: .posix) }
                let semName = QtNaming.semaphorePrefix + parsed.letters + parsed.hash
                entry.lock = posixSemaphoreInfo("/" + semName, attachments: attachments, devShm: sources.devShm, files: files)
                if attached.isEmpty {
                    entry.status = .leftover
                    entry.note = "nobody attached: Qt never unlinks POSIX segments; `shmscope rm` removes it"
                }
            } else {
                entry.lock = LockInfo(
                    mechanism: .flock, nativeName: path, semid: nil, value: nil,
                    lastPID: FileLocks.holder(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)),
                    lastCommand: nil, waiters: nil, stuck: false)
                if let pid = entry.lock?.lastPID { entry.lock?.lastCommand = ProcessInfoReader.command(pid: pid) }
            }
            entries.append(entry)
        }

        // Qt 6.6+ native System V keys: files in the runtime dir whose ftok key names a segment.
        let runtime = sources.runtimeDirectory
        for file in listDirectory(runtime, files) {
            let path = runtime + "/" + file
            guard let st = try? files.lstat(path), st.st_mode & S_IFMT == S_IFREG,
                let key = try? files.ftok(path, QtNaming.ftokProjectID), let seg = segmentsByKey[key],
                !claimedSegments.contains(seg.shmid)
            else { continue }
            claimedSegments.insert(seg.shmid)
            var entry = CatalogEntry(
                kind: .qt6Sysv, target: .qtNative(key: file, type: .systemV), label: file, nativeKey: path,
                sysvKey: key, nattch: 0, attached: [], status: .ok,
                note: "Qt 6 native key (System V); segment and lock share key \(hex32(key))")
            fill(&entry, from: seg, attachments: attachments)
            if let sem = semaphoresByKey[key] {
                claimedSemaphores.insert(sem.semid)
                entry.lock = systemVLockInfo(sem, mechanism: .qtSystemV, name: path)
                entry.semid = sem.semid
            }
            entries.append(entry)
        }

        // Remaining System V segments.
        for seg in segments where !claimedSegments.contains(seg.shmid) {
            var entry = CatalogEntry(
                kind: .sysv, target: seg.key != 0 ? .sysvKey(seg.key) : .sysvID(seg.shmid),
                label: seg.key != 0 ? hex32(seg.key) : "IPC_PRIVATE", nativeKey: hex32(seg.key), sysvKey: seg.key,
                nattch: 0, attached: [], status: .ok)
            fill(&entry, from: seg, attachments: attachments)
            if seg.isMarkedForRemoval {
                entry.status = .removing
                entry.target = .sysvID(seg.shmid)
                entry.note = "removed; goes away when the last process detaches"
            } else if UInt32(bitPattern: seg.key) >> 24 == UInt32(QtNaming.ftokProjectID) {
                entry.status = .orphaned
                entry.note = "ftok('Q') key with no Qt key file in \(tmp): probably a Qt segment whose key file was deleted"
            }
            entries.append(entry)
        }

        if sources.includeMappings {
            entries += attachments.sharedObjects.values.sorted { ($0.kind.rawValue, $0.name, $0.pid) < ($1.kind.rawValue, $1.name, $1.pid) }
                .map(mappingEntry)
        }

        if sources.includeSemaphores {
            for sem in semaphores where !claimedSemaphores.contains(sem.semid) {
                entries.append(
                    CatalogEntry(
                        kind: .sysvSemaphore, target: nil, label: sem.key != 0 ? hex32(sem.key) : "IPC_PRIVATE",
                        nativeKey: hex32(sem.key), sysvKey: sem.key, semid: sem.semid, size: sem.nsems,
                        mode: sem.perms & 0o777, uid: sem.uid, nattch: 0, attached: [],
                        lock: systemVLockInfo(sem, mechanism: .systemVSet, name: "semid:\(sem.semid)"), status: .ok))
            }
            for file in posixSemaphores {
                let name = "/" + file.dropFirst(4)
                let st = (try? files.lstat(sources.devShm + "/" + file)) ?? stat()
                entries.append(
                    CatalogEntry(
                        kind: .posixSemaphore, target: nil, label: name, nativeKey: name, size: nil,
                        mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, nattch: 0, attached: [],
                        lock: posixSemaphoreInfo(name, attachments: attachments, devShm: sources.devShm, files: files), status: .ok))
            }
        }
        return Catalog(
            entries: entries, hiddenProcesses: attachments.hiddenProcesses,
            unreadablePIDs: attachments.unreadablePIDs.sorted(), temporaryDirectory: tmp, runtimeDirectory: runtime)
    }

    /// Qt's System V lock for a segment named by id or key, found without the Qt key: the segment's key is
    /// `ftok(F, 'Q')` of a key file `F` = `qipc_sharedmemory_X` in Qt's temp dir, whose lock is the key file
    /// `qipc_systemsem_X` beside it; or of a Qt 6 native key file in the runtime dir, which segment and lock share.
    /// Nil for other targets and for segments no key file names. Reads only directory entries: nothing is locked
    /// or created.
    public static func qtSemaphore(for target: SegmentTarget, sources: Sources) -> SharedMemory.SemaphoreReference? {
        if case .process(let pid) = sources.namespaces, let access = try? NamespaceAccess.of(pid: pid),
            access.isForeign
        {
            let inside = foreign(sources, access)
            return access.look { qtSemaphore(for: target, sources: inside, files: access.files) } ?? nil
        }
        return qtSemaphore(for: target, sources: sources, files: .host)
    }

    private static func qtSemaphore(for target: SegmentTarget, sources: Sources, files: FileRoot)
        -> SharedMemory.SemaphoreReference?
    {
        let key: key_t
        switch target {
        case .sysvKey(let k): key = k
        case .sysvID(let id):
            guard let seg = ProcViews.systemVSegments().first(where: { $0.shmid == id }) else { return nil }
            key = seg.key
        case .posix, .qt, .qtNative, .memfd, .mapping: return nil
        }
        guard key != 0 else { return nil }
        let tmp = sources.temporaryDirectory.isEmpty ? "/" : sources.temporaryDirectory
        let dir = tmp == "/" ? "" : tmp
        for file in listDirectory(tmp, files, prefix: QtNaming.sharedMemoryPrefix) {
            guard let parsed = QtNaming.parseLegacyName(file), parsed.prefix == QtNaming.sharedMemoryPrefix,
                let st = try? files.lstat(dir + "/" + file), st.st_mode & S_IFMT == S_IFREG,
                (try? files.ftok(dir + "/" + file, QtNaming.ftokProjectID)) == key
            else { continue }
            return .qtKeyFile(dir + "/" + QtNaming.semaphorePrefix + parsed.letters + parsed.hash)
        }
        let runtime = sources.runtimeDirectory
        for file in listDirectory(runtime, files) {
            let path = runtime + "/" + file
            guard let st = try? files.lstat(path), st.st_mode & S_IFMT == S_IFREG,
                (try? files.ftok(path, QtNaming.ftokProjectID)) == key
            else { continue }
            return .qtKeyFile(path)
        }
        return nil
    }

    /// The entry a target names, if the catalog has it.
    public func entry(for target: SegmentTarget) -> CatalogEntry? {
        switch target {
        case .qt(let key, .systemV):
            let file = QtNaming.legacyName(for: key, prefix: QtNaming.sharedMemoryPrefix)
            return entries.first { $0.kind == .qt && $0.nativeKey.hasSuffix("/" + file) }
        case .qt(let key, .posix):
            let name = "/" + QtNaming.legacyName(for: key, prefix: QtNaming.sharedMemoryPrefix)
            return entries.first { $0.kind == .qtPosix && $0.nativeKey == name }
        case .qtNative(let key, .posix):
            let name = key.hasPrefix("/") ? key : "/" + key
            return entries.first { ($0.kind == .qt6 || $0.kind == .posix) && $0.nativeKey == name }
        case .qtNative(let key, .systemV):
            let path = key.hasPrefix("/") ? key : runtimeDirectory + "/" + key
            return entries.first { $0.kind == .qt6Sysv && $0.nativeKey == path }
                ?? entries.first { $0.kind == .sysv && $0.sysvKey == (try? Sys.ftok(path, QtNaming.ftokProjectID)) }
        case .posix(let name):
            return entries.first { ($0.kind == .posix || $0.kind == .qtPosix || $0.kind == .qt6) && $0.nativeKey == name }
        case .sysvKey(let key):
            return entries.first { [.sysv, .qt, .qt6Sysv].contains($0.kind) && $0.sysvKey == key && $0.shmid != nil }
        case .sysvID(let id):
            return entries.first { [.sysv, .qt, .qt6Sysv].contains($0.kind) && $0.shmid == id }
        case .memfd(let pid, _), .mapping(let pid, _):
            guard let found = SharedMapping.locate(target) else { return nil }
            return entries.first {
                ($0.kind == .memfd || $0.kind == .anon) && $0.objectInode == found.inode
                    && $0.attached.contains { $0.pid == pid }
            }
        }
    }

    /// A memfd or anonymous shared mapping as the catalog lists it: opened through its first process's mapping.
    private static func mappingEntry(_ object: SharedObjectRecord) -> CatalogEntry {
        let path = "/proc/\(object.pid)/map_files/" + String(object.start, radix: 16) + "-" + String(object.end, radix: 16)
        // The object's own size and owner (CAP_SYS_ADMIN opens map_files); else the mapping's length.
        let st = try? Sys.stat(path)
        let target: SegmentTarget =
            object.kind == .memfd ? .memfd(pid: object.pid, name: object.name) : .mapping(pid: object.pid, address: object.start)
        var entry = CatalogEntry(
            kind: object.kind == .memfd ? .memfd : .anon, target: target,
            label: object.kind == .memfd ? object.name : target.description,
            nativeKey: object.kind == .memfd ? "/memfd:" + object.name : "/dev/zero (deleted)",
            size: st.map { Int($0.st_size) } ?? object.size, mode: st.map { UInt32($0.st_mode & 0o777) },
            uid: st?.st_uid ?? object.processes.first?.uid, nattch: object.processes.count,
            attached: object.processes.sorted { $0.pid < $1.pid }, status: .ok,
            note: "no lock: writing needs --no-lock")
        entry.objectInode = st.map { UInt64($0.st_ino) } ?? object.inode
        return entry
    }

    static func qtLabel(_ letters: String, _ hash: String) -> String {
        (letters.isEmpty ? "" : letters + "…") + hash.prefix(8)
    }

    private static func fill(_ entry: inout CatalogEntry, from seg: SystemVSegmentRecord, attachments: AttachmentScan) {
        entry.shmid = seg.shmid
        entry.size = seg.size
        entry.mode = seg.perms & 0o777
        entry.uid = seg.uid
        entry.cpid = seg.cpid
        entry.lpid = seg.lpid
        entry.nattch = seg.nattch
        entry.attached = attachments.processes(shmid: seg.shmid)
        entry.times = (seg.atime, seg.dtime, seg.ctime)
        if seg.isMarkedForRemoval { entry.status = .removing }
    }

    static func systemVLockInfo(_ sem: SystemVSemaphoreRecord, mechanism: LockState.Mechanism, name: String) -> LockInfo {
        let value = try? Sys.semctl(sem.semid, getValue: 0)
        let pid = (try? Sys.semctl(sem.semid, getPid: 0)).flatMap { $0 > 0 ? $0 : nil }
        let waiters = try? Sys.semctl(sem.semid, getWaiters: 0)
        let alive = pid.map(ProcessInfoReader.isAlive) ?? false
        return LockInfo(
            mechanism: mechanism, nativeName: name, semid: sem.semid, value: value.map(Int.init), lastPID: pid,
            lastCommand: pid.flatMap { alive ? ProcessInfoReader.command(pid: $0) : nil },
            waiters: waiters.map(Int.init), stuck: value == 0 && pid != nil && !alive)
    }

    /// A POSIX semaphore's value. It records no holder, so "stuck" means: at 0 while no process has it mapped.
    static func posixSemaphoreInfo(
        _ name: String, attachments: AttachmentScan, devShm: String, files: FileRoot = .host
    ) -> LockInfo? {
        guard files.exists(devShm + "/sem." + name.dropFirst()) else { return nil }
        let state = PosixSemaphoreLock(name: name, target: name, files: files).state()
        let users = attachments.processes(posixName: "/sem." + name.dropFirst())
        let value = state?.value
        return LockInfo(
            mechanism: .posixSemaphore, nativeName: name, semid: nil, value: value,
            lastPID: value == 0 && users.count == 1 ? users[0].pid : nil,
            lastCommand: value == 0 && users.count == 1 ? users[0].command : nil, waiters: nil,
            stuck: value == 0 && users.isEmpty)
    }
}

/// One `/proc/*/maps` pass, made the first time a namespace's scan needs it and shared by the others.
private final class LazyAttachments: @unchecked Sendable {
    private var scanned: NamespacedAttachments?

    func get() -> NamespacedAttachments {
        if let scanned { return scanned }
        let all = AttachmentScan.scanByNamespace()
        scanned = all
        return all
    }
}

/// Names in a directory (no `.`/`..`), sorted; empty when it cannot be read.
func listDirectory(_ path: String, _ files: FileRoot = .host, prefix: String = "") -> [String] {
    let names = (try? files.directoryEntries(path)) ?? []
    // Filter before sorting: a busy /tmp holds thousands of names and only Qt's matter.
    return (prefix.isEmpty ? names : names.filter { $0.hasPrefix(prefix) }).sorted()
}
