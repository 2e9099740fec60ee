/// What a shell offers when completing a TARGET: every name that opens a segment, read without attaching or locking
/// anything (shell completion runs shmscope on every Tab).
public enum TargetCompletion {
    /// The known Qt keys (key store, SHMSCOPE_KEYS), then the POSIX objects in `devShm` as `/name`, then the System
    /// V segments as `shmid:N`; only those that start with `prefix`, each once.
    public static func candidates(
        prefix: String, knownKeys: KnownKeys, devShm: String = "/dev/shm",
        systemV: [SystemVSegmentRecord] = ProcViews.systemVSegments()
    ) -> [String] {
        var names = knownKeys.keys
        // glibc's POSIX semaphores live there too, as sem.NAME: they are not segments.
        names += listDirectory(devShm).filter { !$0.hasPrefix("sem.") && !$0.hasPrefix(".") }.map { "/" + $0 }
        names += systemV.map { "shmid:\($0.shmid)" }
        var seen = Set<String>()
        return names.filter { $0.hasPrefix(prefix) && seen.insert($0).inserted }
    }
}
