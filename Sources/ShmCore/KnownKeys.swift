import Glibc

/// Qt names keep only a key's letters and its SHA-1, so the real key cannot be read back from a segment. shmscope
/// remembers every Qt key the user names, and labels a Qt segment with its real key when one hashes to its name.
///
/// Sources: the store file (`$XDG_STATE_HOME/shmscope/keys`, default `~/.local/state/shmscope/keys`, one key per
/// line), `SHMSCOPE_KEYS` (keys separated by newlines or commas) and keys given on the command line.
public struct KnownKeys: Sendable {
    public private(set) var keys: [String] = []
    private var byHash: [String: String] = [:]

    public init(_ keys: [String] = []) {
        for k in keys { insert(k) }
    }

    public mutating func insert(_ key: String) {
        guard !key.isEmpty else { return }
        let hash = QtNaming.sha1Hex(of: key)
        if byHash[hash] == nil {
            byHash[hash] = key
            keys.append(key)
        }
    }

    /// The real key whose SHA-1 is `hash` (and whose letters match), if known.
    public func key(forHash hash: String, letters: String) -> String? {
        guard let key = byHash[hash], QtNaming.letters(of: key) == letters else { return nil }
        return key
    }

    /// Where the store lives for an environment.
    public static func storePath(environment: [String: String]) -> String? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/shmscope/keys" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.local/state/shmscope/keys"
    }

    /// Keys from the store file and `SHMSCOPE_KEYS`, plus `extra`.
    public static func load(environment: [String: String], extra: [String] = []) -> KnownKeys {
        var known = KnownKeys()
        if let path = storePath(environment: environment), let text = readTextFile(path) {
            for line in text.split(separator: "\n") where !line.isEmpty { known.insert(String(line)) }
        }
        if let env = environment["SHMSCOPE_KEYS"] {
            for k in env.split(whereSeparator: { $0 == "\n" || $0 == "," }) { known.insert(String(k)) }
        }
        for k in extra { known.insert(k) }
        return known
    }

    public static func load(extra: [String] = []) -> KnownKeys {
        load(environment: currentEnvironment(), extra: extra)
    }

    /// Appends `key` to the store (creating it 0600 in a 0700 directory) unless it is already there.
    /// Failures are ignored: remembering is a convenience, never a reason to fail a command.
    public static func remember(_ key: String, environment: [String: String]? = nil) {
        let env = environment ?? currentEnvironment()
        guard !key.isEmpty, !key.contains("\n"), let path = storePath(environment: env) else { return }
        if let text = readTextFile(path), text.split(separator: "\n").contains(Substring(key)) { return }
        var dir = ""
        for part in path.split(separator: "/").dropLast() {
            dir += "/" + part
            try? Sys.mkdir(dir, 0o700)
        }
        let fd = shmOpenFile(path)
        guard fd >= 0 else { return }
        defer { Sys.close(fd) }
        // Two commands remembering the same key at once would both append it: look again under an flock.
        try? Sys.flock(fd, LOCK_EX)
        if let text = readTextFile(path), text.split(separator: "\n").contains(Substring(key)) { return }
        let line = Array((key + "\n").utf8)
        _ = line.withUnsafeBytes { try? Sys.write(fd, $0) }
    }

    private static func shmOpenFile(_ path: String) -> Int32 {
        (try? Sys.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)) ?? -1
    }
}
