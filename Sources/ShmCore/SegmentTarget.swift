import Glibc

/// Which Qt backend a legacy Qt key uses. Linux builds of Qt use System V unless configured with
/// `-feature-ipc_posix` (qt-ipc.md §0).
public enum QtBackend: String, Sendable, Hashable {
    case systemV = "sysv"
    case posix
}

/// The type of a Qt 6.6+ `QNativeIpcKey` made by `QSharedMemory::platformSafeKey(key, type)` (qt-ipc.md §5).
public enum QtNativeType: String, Sendable, Hashable {
    /// `PosixRealtime`, the default on Linux: the object is `"/" + key`, and so is the lock semaphore.
    case posix
    /// `SystemV`: a key file `$XDG_RUNTIME_DIR/key` whose `ftok` key names both segment and semaphore.
    case systemV = "sysv"
}

/// Names one shared-memory segment, in any of the dialects shmscope speaks.
public enum SegmentTarget: Hashable, Sendable, CustomStringConvertible {
    /// A Qt key as passed to `QSharedMemory(key)`, mapped to native names by Qt's legacy algorithm.
    case qt(key: String, backend: QtBackend)
    /// A Qt 6.6+ native key (`QSharedMemory(QSharedMemory::platformSafeKey(key))`): no prefix, no hash.
    case qtNative(key: String, type: QtNativeType)
    /// A POSIX shared-memory object, `/name` (Python's `multiprocessing.shared_memory`, Boost, `shm_open`).
    case posix(name: String)
    /// A System V segment by IPC key.
    case sysvKey(key_t)
    /// A System V segment by shmid.
    case sysvID(Int32)
    /// A memfd (`memfd_create`) that process `pid` maps shared, by its name (`/memfd:NAME` in its maps).
    case memfd(pid: Int32, name: String)
    /// A shared mapping of process `pid` starting at `address`: an anonymous `MAP_SHARED` mapping (inherited over
    /// `fork`, `/dev/zero (deleted)` in its maps) or a memfd.
    case mapping(pid: Int32, address: UInt64)

    /// Why there is no lock to take and what to do instead, for a target whose kind has none: a raw System V
    /// segment (name its set), a memfd or a shared mapping (nothing to name: write with `--no-lock`).
    public var noLockAdvice: String {
        switch self {
        case .memfd: "a memfd has no lock: write with --no-lock"
        case .mapping: "a shared mapping has no lock: write with --no-lock"
        default: "a raw System V segment has no lock of its own: name its semaphore set with --sem, or write with --no-lock"
        }
    }

    /// Where to look when this target names nothing: the Qt forms depend on the key and Qt's temp dir (shown when
    /// given), the others on the name, id or process.
    public func notFoundAdvice(temporaryDirectory: String? = nil) -> String {
        switch self {
        case .qt, .qtNative:
            "check the key and TMPDIR\(temporaryDirectory.map { " (Qt temp dir here: \($0))" } ?? ""), or run `shmscope list`"
        case .posix: "check the name (`ls /dev/shm`), or run `shmscope list`"
        case .sysvKey, .sysvID: "check the key or id, or run `shmscope list`"
        case .memfd(let pid, _), .mapping(let pid, _):
            "process \(pid) maps no such object now: run `shmscope list --all` for the memfds and shared mappings there are"
        }
    }

    /// The form a user types to name this target again (see `parse`).
    public var description: String {
        switch self {
        case .qt(let key, .systemV): "qt:\(key)"
        case .qt(let key, .posix): "qt-posix:\(key)"
        case .qtNative(let key, .posix): "qt6:\(key)"
        case .qtNative(let key, .systemV): "qt6-sysv:\(key)"
        case .posix(let name): name
        case .sysvKey(let key): "sysv:" + hex32(key)
        case .sysvID(let id): "shmid:\(id)"
        case .memfd(let pid, let name): "memfd:\(pid):\(name)"
        case .mapping(let pid, let address): "map:\(pid):0x" + String(address, radix: 16)
        }
    }

    /// The one TARGET syntax of every command:
    /// - `qt:KEY` or a bare word: a Qt key (System V backend); `qt-posix:KEY`: a Qt key on a POSIX-IPC Qt build;
    /// - `qt6:KEY`, `qt6-sysv:KEY`: a Qt 6.6+ native key (`platformSafeKey`), POSIX (Qt's default) or System V;
    /// - `/name` or `posix:/name` (`posix:name` also works): a POSIX object;
    /// - `sysv:0x5100c078` (hex or decimal): a System V key; `shmid:30`: a System V id;
    /// - `memfd:PID:NAME`: a memfd process PID maps; `map:PID:ADDRESS` (hex, as /proc/PID/maps shows it): a shared
    ///   mapping of process PID (anonymous or memfd).
    public static func parse(_ text: String) throws(ShmError) -> SegmentTarget {
        func bad(_ message: String) -> ShmError {
            ShmError(.keyError, operation: "parse", target: text, message: message)
        }
        if text.isEmpty { throw bad("empty target: give a Qt key, /posix-name, sysv:0xKEY or shmid:N") }
        if let rest = text.dropPrefix("qt:") {
            guard !rest.isEmpty else { throw bad("empty Qt key after `qt:`") }
            return .qt(key: rest, backend: .systemV)
        }
        if let rest = text.dropPrefix("qt-posix:") {
            guard !rest.isEmpty else { throw bad("empty Qt key after `qt-posix:`") }
            return .qt(key: rest, backend: .posix)
        }
        if let rest = text.dropPrefix("qt6:") {
            guard !rest.isEmpty, !rest.utf8.dropFirst().contains(slash) else {
                throw bad("a Qt native POSIX key is a name without slashes, like qt6:mykey")
            }
            _ = try validatedPosixName(rest.utf8.first == slash ? rest : "/" + rest, target: text)
            return .qtNative(key: rest, type: .posix)
        }
        if let rest = text.dropPrefix("qt6-sysv:") {
            guard !rest.isEmpty else { throw bad("empty Qt native key after `qt6-sysv:`") }
            // Qt 6.6 allows an absolute native key (its key file is that path); a relative key is a file name in
            // the runtime dir. A `..` component or a relative path with a slash would reach outside it.
            // On bytes, as the kernel reads the path: a combining mark after a `/` hid it from a character
            // comparison, so `../\u{301}x` passed as a relative key without slashes (found by fuzzing).
            let bytes = rest.utf8
            if bytes.split(separator: slash, omittingEmptySubsequences: false).contains(where: {
                $0.elementsEqual("..".utf8) || $0.elementsEqual(".".utf8)
            }) {
                throw bad("a Qt native System V key must not contain `.` or `..` components")
            }
            if bytes.first != slash && bytes.contains(slash) {
                throw bad("a relative Qt native System V key is a file name without slashes (or give an absolute path)")
            }
            if bytes.last == slash || bytes.contains(0) {
                throw bad("a Qt native System V key names a file: no trailing slash")
            }
            return .qtNative(key: rest, type: .systemV)
        }
        if let rest = text.dropPrefix("posix:") {
            return .posix(name: try validatedPosixName(rest.utf8.first == slash ? rest : "/" + rest, target: text))
        }
        if text.utf8.first == slash { return .posix(name: try validatedPosixName(text, target: text)) }
        if let rest = text.dropPrefix("sysv:") {
            do { return .sysvKey(try NumberParser.key32(rest, label: "sysv:KEY")) } catch { throw bad(error.message) }
        }
        if let rest = text.dropPrefix("shmid:") {
            do { return .sysvID(Int32(try NumberParser.count(rest, label: "shmid:N", in: 0...Int(Int32.max)))) } catch {
                throw bad(error.message)
            }
        }
        if let rest = text.dropPrefix("memfd:") {
            let parts = rest.utf8.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw bad("a memfd target is memfd:PID:NAME, like memfd:1234:wayland-shm") }
            let pid = try Self.pid(String(decoding: parts[0], as: UTF8.self), label: "memfd:PID", bad: bad)
            let name = parts[1]
            // memfd_create takes names of at most 249 bytes (MFD_NAME_MAX_LEN).
            guard !name.isEmpty, name.count <= 249, !name.contains(0) else {
                throw bad("a memfd name is 1 to 249 bytes (as /proc/PID/maps shows it after /memfd:)")
            }
            return .memfd(pid: pid, name: String(decoding: name, as: UTF8.self))
        }
        if let rest = text.dropPrefix("map:") {
            let parts = rest.utf8.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw bad("a mapping target is map:PID:ADDRESS, like map:1234:7f3a12345000") }
            let pid = try Self.pid(String(decoding: parts[0], as: UTF8.self), label: "map:PID", bad: bad)
            var digits = parts[1][...]
            if digits.starts(with: "0x".utf8) || digits.starts(with: "0X".utf8) { digits = digits.dropFirst(2) }
            guard !digits.isEmpty, digits.count <= 16,
                digits.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }),
                let address = UInt64(String(decoding: digits, as: UTF8.self), radix: 16), address <= UInt64(Int.max)
            else { throw bad("map:PID:ADDRESS takes the mapping's start address in hex, as /proc/PID/maps shows it") }
            return .mapping(pid: pid, address: address)
        }
        if let schemeBytes = text.utf8.split(separator: UInt8(ascii: ":")).first, schemeBytes.count < text.utf8.count,
            case let scheme = String(decoding: schemeBytes, as: UTF8.self),
            scheme.allSatisfy({ $0.isLetter || $0 == "-" }), !scheme.isEmpty
        {
            throw bad(
                "unknown target kind `\(scheme):`: use qt:KEY, qt-posix:KEY, qt6:KEY, qt6-sysv:KEY, /name, posix:/name, sysv:0xKEY, shmid:N, memfd:PID:NAME or map:PID:ADDRESS"
            )
        }
        return .qt(key: text, backend: .systemV)
    }

    private static func pid(_ text: String, label: String, bad: (String) -> ShmError) throws(ShmError) -> Int32 {
        do { return Int32(try NumberParser.count(text, label: label, in: 1...Int(Int32.max))) } catch {
            throw bad(error.message)
        }
    }

    static func validatedPosixName(_ name: String, target: String) throws(ShmError) -> String {
        let body = name.utf8.dropFirst()
        if body.isEmpty || body.contains(slash) || body.elementsEqual(".".utf8) || body.elementsEqual("..".utf8) {
            throw ShmError(
                .keyError, operation: "parse", target: target,
                message: "a POSIX name is one slash and a file name, like /my_segment")
        }
        if body.count > QtNaming.nameMax {
            throw ShmError(
                .keyError, operation: "parse", target: target,
                message: "POSIX name is \(body.count) bytes; the limit is \(QtNaming.nameMax)")
        }
        return name
    }
}

/// A System V key as `ipcs` shows it: `0x` and 8 hex digits of its 32-bit pattern.
public func hex32(_ key: key_t) -> String {
    let s = String(UInt32(bitPattern: key), radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}

/// Target syntax is ASCII, so it is matched on UTF-8 bytes: `hasPrefix` and `contains` compare characters, and a
/// combining mark right after a separator (`qt:\u{36f}`, `/a/\u{301}`) joins it into another character, which hid
/// the `qt:` prefix (found by fuzzing: `qt:\u{36f}` parsed as the bare key `qt:\u{36f}`) and a `/` inside a POSIX name.
private let slash = UInt8(ascii: "/")

extension String {
    func dropPrefix(_ prefix: String) -> String? {
        utf8.starts(with: prefix.utf8) ? String(decoding: utf8.dropFirst(prefix.utf8.count), as: UTF8.self) : nil
    }
}

extension SegmentTarget {
    /// "Qt SysV", "POSIX", "SysV": the kind as the status line and a recording's header show it.
    public var kindName: String {
        switch self {
        case .qt(_, .systemV): "Qt SysV"
        case .qt(_, .posix): "Qt POSIX"
        case .qtNative(_, .posix): "Qt6 POSIX"
        case .qtNative(_, .systemV): "Qt6 SysV"
        case .posix: "POSIX"
        case .sysvKey, .sysvID: "SysV"
        case .memfd: "memfd"
        case .mapping: "shared map"
        }
    }
}
