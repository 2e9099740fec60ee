/// What shmscope can tell about a segment's lock without taking it.
public struct LockState: Equatable, Sendable {
    public enum Mechanism: String, Sendable {
        /// Qt's System V `QSystemSemaphore` (`qipc_systemsem_…` key file, one semaphore, SEM_UNDO).
        case qtSystemV = "qt-sysv-semaphore"
        /// A POSIX named semaphore (Qt POSIX builds). It has no undo: a crashed holder leaves it at 0.
        case posixSemaphore = "posix-semaphore"
        /// An advisory `flock` on the `/dev/shm` file; only cooperating tools honour it.
        case flock
        /// A System V semaphore set the user named for a raw System V segment.
        case systemVSet = "sysv-semaphore"

        /// The name shown wherever lock state is shown (`info`, the Who pane): an flock says it is advisory, since
        /// peers that do not take it never wait for it.
        public var displayName: String {
            self == .flock ? "flock (advisory: only cooperating tools wait)" : rawValue
        }
    }

    public var mechanism: Mechanism
    /// The semaphore count: 1 free, 0 held (nil where the mechanism has none, e.g. flock).
    public var value: Int?
    /// The last process that operated on the semaphore (System V GETPID) or the flock holder.
    public var lastPID: Int32?
    /// Processes blocked waiting for it (System V GETNCNT).
    public var waiters: Int?
    /// Whether this process holds it through this object.
    public var heldByUs: Bool
    /// The native name of the lock object: a key file path, a semaphore name or the locked file.
    public var nativeName: String

    public init(
        mechanism: Mechanism, value: Int?, lastPID: Int32?, waiters: Int?, heldByUs: Bool, nativeName: String
    ) {
        self.mechanism = mechanism
        self.value = value
        self.lastPID = lastPID
        self.waiters = waiters
        self.heldByUs = heldByUs
        self.nativeName = nativeName
    }

    /// True when someone holds the lock (value 0, or a flock holder exists).
    public var isHeld: Bool {
        if let value { return value <= 0 }
        return lastPID != nil
    }
}
