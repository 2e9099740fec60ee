import FoundationEssentials
import ShmCore

/// The documented JSON schema of `list --json` and `info --json` (schema version 1; see README "JSON schemas").
/// Fields are never renamed within a schema version; absent values are `null`.
struct CatalogDocument: Encodable {
    var schema = 1
    var temporaryDirectory: String
    var hiddenProcesses: Int
    var segments: [SegmentJSON]

    enum CodingKeys: String, CodingKey {
        case schema
        case temporaryDirectory = "temp_dir"
        case hiddenProcesses = "hidden_processes"
        case segments
    }
}

struct SegmentJSON: Encodable {
    var kind: String
    var target: String?
    var label: String
    var qtKey: String?
    var qtLetters: String?
    var qtHash: String?
    var nativeKey: String
    var sysvKey: String?
    var shmid: Int32?
    var semid: Int32?
    var size: Int?
    var mode: String?
    var uid: UInt32?
    var owner: String?
    var creatorPID: Int32?
    var lastPID: Int32?
    var nattch: Int
    var status: String
    var note: String?
    var attached: [AttachedJSON]
    var lock: LockJSON?
    var namespace: NamespaceJSON?

    enum CodingKeys: String, CodingKey {
        case kind, target, label, namespace
        case qtKey = "qt_key"
        case qtLetters = "qt_letters"
        case qtHash = "qt_hash"
        case nativeKey = "native_key"
        case sysvKey = "sysv_key"
        case shmid, semid, size, mode, uid, owner
        case creatorPID = "creator_pid"
        case lastPID = "last_pid"
        case nattch, status, note, attached, lock
    }

    init(_ e: CatalogEntry) {
        kind = e.kind.rawValue
        target = e.target?.description
        label = e.label
        qtKey = e.qtKey
        qtLetters = e.qtLetters
        qtHash = e.qtHash
        nativeKey = e.nativeKey
        sysvKey = e.sysvKey.map(hex32)
        shmid = e.shmid
        semid = e.semid
        size = e.size
        mode = e.mode.map { octalMode($0) }
        uid = e.uid
        owner = e.owner
        creatorPID = e.cpid
        lastPID = e.lpid
        nattch = e.nattch
        status = e.status.rawValue
        note = e.note
        attached = e.attached.map(AttachedJSON.init)
        lock = e.lock.map(LockJSON.init)
        namespace = e.namespace.map(NamespaceJSON.init)
    }

    // Encode nulls explicitly so every key is always present.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(target, forKey: .target)
        try c.encode(label, forKey: .label)
        try c.encode(namespace, forKey: .namespace)
        try c.encode(qtKey, forKey: .qtKey)
        try c.encode(qtLetters, forKey: .qtLetters)
        try c.encode(qtHash, forKey: .qtHash)
        try c.encode(nativeKey, forKey: .nativeKey)
        try c.encode(sysvKey, forKey: .sysvKey)
        try c.encode(shmid, forKey: .shmid)
        try c.encode(semid, forKey: .semid)
        try c.encode(size, forKey: .size)
        try c.encode(mode, forKey: .mode)
        try c.encode(uid, forKey: .uid)
        try c.encode(owner, forKey: .owner)
        try c.encode(creatorPID, forKey: .creatorPID)
        try c.encode(lastPID, forKey: .lastPID)
        try c.encode(nattch, forKey: .nattch)
        try c.encode(status, forKey: .status)
        try c.encode(note, forKey: .note)
        try c.encode(attached, forKey: .attached)
        try c.encode(lock, forKey: .lock)
    }
}

struct AttachedJSON: Encodable {
    var pid: Int32
    var command: String
    var uid: UInt32
    var access: String

    init(_ p: AttachedProcess) {
        pid = p.pid
        command = p.command
        uid = p.uid
        access = p.access.rawValue
    }
}

struct LockJSON: Encodable {
    var mechanism: String
    var nativeName: String
    var semid: Int32?
    var value: Int?
    var lastPID: Int32?
    var lastCommand: String?
    var waiters: Int?
    var held: Bool
    var stuck: Bool
    var summary: String

    enum CodingKeys: String, CodingKey {
        case mechanism
        case nativeName = "native_name"
        case semid, value
        case lastPID = "last_pid"
        case lastCommand = "last_command"
        case waiters, held, stuck, summary
    }

    init(_ l: LockInfo) {
        mechanism = l.mechanism.rawValue
        nativeName = l.nativeName
        semid = l.semid
        value = l.value
        lastPID = l.lastPID
        lastCommand = l.lastCommand
        waiters = l.waiters
        held = l.value.map { $0 <= 0 } ?? (l.lastPID != nil)
        stuck = l.stuck
        summary = l.summary
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mechanism, forKey: .mechanism)
        try c.encode(nativeName, forKey: .nativeName)
        try c.encode(semid, forKey: .semid)
        try c.encode(value, forKey: .value)
        try c.encode(lastPID, forKey: .lastPID)
        try c.encode(lastCommand, forKey: .lastCommand)
        try c.encode(waiters, forKey: .waiters)
        try c.encode(held, forKey: .held)
        try c.encode(stuck, forKey: .stuck)
        try c.encode(summary, forKey: .summary)
    }
}

func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The IPC namespace of a segment when `list` looked at more than ours: `null` otherwise.
struct NamespaceJSON: Encodable {
    var inode: UInt64
    var pid: Int32
    var name: String
    var ours: Bool

    init(_ n: IPCNamespace) {
        inode = n.inode
        pid = n.pid
        name = n.name
        ours = n.isOurs
    }
}
