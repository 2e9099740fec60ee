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
        }
    }

    /// The one TARGET syntax of every command:
    /// - `qt:KEY` or a bare word: a Qt key (System V backend); `qt-posix:KEY`: a Qt key on a POSIX-IPC Qt build;
    /// - `qt6:KEY`, `qt6-sysv:KEY`: a Qt 6.6+ native key (`platformSafeKey`), POSIX (Qt's default) or System V;
    /// - `/name` or `posix:/name` (`posix:name` also works): a POSIX object;
    /// - `sysv:0x5100c078` (hex or decimal): a System V key; `shmid:30`: a System V id.
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
        if let schemeBytes = text.utf8.split(separator: UInt8(ascii: ":")).first, schemeBytes.count < text.utf8.count,
            case let scheme = String(decoding: schemeBytes, as: UTF8.self),
            scheme.allSatisfy({ $0.isLetter || $0 == "-" }), !scheme.isEmpty
        {
            throw bad(
                "unknown target kind `\(scheme):`: use qt:KEY, qt-posix:KEY, qt6:KEY, qt6-sysv:KEY, /name, posix:/name, sysv:0xKEY or shmid:N"
            )
        }
        return .qt(key: text, backend: .systemV)
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
        }
    }
}
