import Crypto
import Glibc

/// How Qt turns a user key such as `"SharedMemory_Key"` into native names (qt-ipc.md §1).
///
/// The legacy algorithm, used by every `QString`-key API from Qt 5 to Qt 6.6+: a prefix, the key's ASCII letters
/// in order, and the lowercase hex SHA-1 of the key's UTF-8 bytes. System V names are key files in Qt's temp dir;
/// POSIX names are `"/" + name`.
public enum QtNaming {
    public static let sharedMemoryPrefix = "qipc_sharedmemory_"
    public static let semaphorePrefix = "qipc_systemsem_"
    /// `ftok` project id Qt uses (`'Q'`).
    public static let ftokProjectID: Int32 = 0x51
    /// Longest file name the kernel accepts (NAME_MAX).
    public static let nameMax = 255

    /// The key's ASCII letters, in order (digits, punctuation and non-ASCII are dropped, as Qt does on UTF-16
    /// code units; a non-ASCII unit is never a letter, so scalars give the same result).
    public static func letters(of key: String) -> String {
        String(key.unicodeScalars.filter { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") }.map(Character.init))
    }

    /// Lowercase hex SHA-1 of the key's UTF-8 bytes.
    public static func sha1Hex(of key: String) -> String {
        hexString(Insecure.SHA1.hash(data: Array(key.utf8)))
    }

    /// `prefix + letters + sha1`, without a directory or slash. Empty for an empty key, as in Qt.
    public static func legacyName(for key: String, prefix: String) -> String {
        key.isEmpty ? "" : prefix + letters(of: key) + sha1Hex(of: key)
    }

    /// Splits a Qt legacy name into its letters and 40-hex hash, or nil when the name is not one.
    public static func parseLegacyName(_ name: String) -> (prefix: String, letters: String, hash: String)? {
        for prefix in [sharedMemoryPrefix, semaphorePrefix] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard rest.count >= 40 else { return nil }
            let hash = String(rest.suffix(40))
            let letters = String(rest.dropLast(40))
            guard hash.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
                letters.allSatisfy({ $0.isASCII && $0.isLetter })
            else { return nil }
            return (prefix, letters, hash)
        }
        return nil
    }

    /// Qt's `QDir::tempPath()` (qt-ipc.md §1.2): `$TMPDIR` or `/tmp`, cleaned, then resolved like realpath.
    /// A path that does not exist resolves to the empty string, exactly as Qt's `canonicalPath()` does, so
    /// key files then land in `/`.
    public static func tempPath(environment: [String: String]) -> String {
        var raw = environment["TMPDIR"] ?? ""
        if raw.isEmpty { raw = "/tmp/" }
        return (try? Sys.realpath(raw)) ?? ""
    }

    /// Qt 6.6+ `platformSafeKey(key, type)` for non-legacy keys (qt-ipc.md §5): POSIX `"/" + key`; System V the key
    /// itself when absolute, else `runtimeDirectory + "/" + key`.
    public static func nativeKey(for key: String, type: QtNativeType, environment: [String: String]) -> String {
        switch type {
        case .posix: key.hasPrefix("/") ? key : "/" + key
        case .systemV: key.hasPrefix("/") ? key : runtimeDirectory(environment: environment) + "/" + key
        }
    }

    /// `QStandardPaths::writableLocation(RuntimeLocation)`: `$XDG_RUNTIME_DIR` when it is a directory, else
    /// `tempPath() + "/runtime-" + user` (qstandardpaths_unix.cpp, checkXdgRuntimeDir).
    public static func runtimeDirectory(environment: [String: String]) -> String {
        if let dir = environment["XDG_RUNTIME_DIR"], dir.hasPrefix("/") {
            if let st = try? Sys.stat(dir), st.st_mode & S_IFMT == S_IFDIR { return dir }
        }
        return tempPath(environment: environment) + "/runtime-" + Accounts.userName(Sys.getuid())
    }

    /// Qt's temp path for this process's environment.
    public static func tempPath() -> String {
        tempPath(environment: currentEnvironment())
    }
}

/// The process environment, read from `environ` (no Foundation).
public func processEnvironment() -> [String: String] { currentEnvironment() }

public func currentEnvironment() -> [String: String] {
    var env: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let s = String(cString: entry)
        if let eq = s.firstIndex(of: "=") {
            env[String(s[..<eq])] = String(s[s.index(after: eq)...])
        }
        p += 1
    }
    return env
}

