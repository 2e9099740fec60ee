import Glibc

/// The one error type of ShmCore. Its kinds mirror `QSharedMemory::SharedMemoryError`, so a user who knows Qt
/// recognises them; each error also carries the failing operation, the target and errno, and its message says
/// what to do next.
public struct ShmError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Mirrors `QSharedMemory::SharedMemoryError` (values 1...8; NoError is the absence of an error).
    public enum Kind: Int, Sendable, CaseIterable {
        case permissionDenied = 1
        case invalidSize = 2
        case keyError = 3
        case alreadyExists = 4
        case notFound = 5
        case lockError = 6
        case outOfResources = 7
        case unknown = 8

        /// Qt's enumerator name, for messages and JSON.
        public var qtName: String {
            switch self {
            case .permissionDenied: "PermissionDenied"
            case .invalidSize: "InvalidSize"
            case .keyError: "KeyError"
            case .alreadyExists: "AlreadyExists"
            case .notFound: "NotFound"
            case .lockError: "LockError"
            case .outOfResources: "OutOfResources"
            case .unknown: "UnknownError"
            }
        }
    }

    public var kind: Kind
    /// The system call or step that failed, e.g. `shmget` or `attach`.
    public var operation: String
    /// The segment the operation was about, as the user would type it.
    public var target: String
    /// errno at the failure, when a system call failed.
    public var errno: Int32?
    /// A one-line explanation that says what to do next.
    public var message: String

    public init(_ kind: Kind, operation: String, target: String, errno: Int32? = nil, message: String) {
        self.kind = kind
        self.operation = operation
        self.target = target
        self.errno = errno
        self.message = message
    }

    public var description: String {
        var text = "\(target): \(message)"
        if let errno { text += " (\(operation): \(String(cString: strerror(errno))))" }
        return text
    }

    /// Maps errno to a kind as Qt's `setErrorString` does (qt-ipc.md §6), and writes a message with a next step.
    static func fromErrno(
        _ code: Int32, operation: String, target: String, context: String? = nil
    ) -> ShmError {
        let kind: Kind
        let advice: String
        switch code {
        case EACCES, EPERM:
            kind = .permissionDenied
            advice = "permission denied: run as the segment's owner, or attach read-only if you may read it"
        case EEXIST:
            kind = .alreadyExists
            advice = "already exists: attach to it instead, or remove it first with `shmscope rm`"
        case ENOENT, EIDRM:
            kind = .notFound
            advice = "does not exist: check the key and TMPDIR, or list segments with `shmscope list`"
        case EMFILE, ENFILE:
            kind = .outOfResources
            advice = "too many open files: close some, or raise the limit (ulimit -n)"
        case ENOMEM, ENOSPC, ERANGE:
            kind = .outOfResources
            advice = Self.resourceAdvice(code, operation: operation)
        case ENAMETOOLONG:
            kind = .keyError
            advice = "name too long: use a shorter key"
        case EFBIG:
            kind = .invalidSize
            advice = "size is larger than the system allows"
        case ELOOP:
            kind = .keyError
            advice = "a symbolic link is in the way: shmscope does not follow links here; remove it and retry"
        case EINVAL:
            kind = .unknown
            advice = "the system rejected the request as invalid: check the target and the sizes given"
        default:
            kind = .unknown
            advice = "the system refused `\(operation)`"
        }
        let text = context.map { "\($0): \(advice)" } ?? advice
        return ShmError(kind, operation: operation, target: target, errno: code, message: text)
    }

    /// Which limit a "no memory / no space" failure hit depends on the call: System V segments count against
    /// kernel.shmmax/shmall/shmmni, semaphore sets against kernel.sem, POSIX objects against the /dev/shm tmpfs.
    static func resourceAdvice(_ code: Int32, operation: String) -> String {
        switch operation {
        case "shmget":
            return code == ENOSPC
                ? "out of System V segments or pages: remove unused ones (`shmscope list`) or raise kernel.shmmni, kernel.shmall"
                : "not enough memory for the segment: free memory or raise kernel.shmmax, kernel.shmall"
        case "semget":
            return "out of System V semaphores: remove unused sets or raise kernel.sem"
        case "shm_open", "ftruncate", "mmap", "sem_open":
            return code == ENOSPC
                ? "/dev/shm is full: remove unused segments or give the tmpfs more room"
                : "not enough memory to map it: free memory or use a smaller size"
        default:
            return code == ENOSPC ? "no space left on the file system: free some space" : "out of memory"
        }
    }

    /// Maps errno from an operation on a file the user named (a layout, a snapshot, `--from`, `--file`): the
    /// advice is about the path, never about Qt keys or kernel IPC limits.
    public static func fromFileErrno(
        _ code: Int32, operation: String, path: String, context: String
    ) -> ShmError {
        let kind: Kind
        let advice: String
        switch code {
        case ENOENT:
            kind = .notFound
            advice = "no such file: check the path"
        case ENOTDIR:
            kind = .notFound
            advice = "a part of the path is not a directory: check the path"
        case EACCES, EPERM:
            kind = .permissionDenied
            advice = "permission denied: check the file's and its directory's permissions"
        case EISDIR:
            kind = .keyError
            advice = "is a directory: give a file"
        case EEXIST:
            kind = .alreadyExists
            advice = "already exists: pick another name, or pass --force to replace it"
        case ELOOP:
            kind = .keyError
            advice = "is a symbolic link: shmscope does not follow links for files it writes; give the real path"
        case ENOSPC, EDQUOT:
            kind = .outOfResources
            advice = "the file system is full (or over quota): free some space"
        case EROFS:
            kind = .permissionDenied
            advice = "the file system is read-only: write somewhere else"
        case ENAMETOOLONG:
            kind = .keyError
            advice = "the path is too long"
        case EMFILE, ENFILE:
            kind = .outOfResources
            advice = "too many open files: close some, or raise the limit (ulimit -n)"
        default:
            kind = .unknown
            advice = "the system refused `\(operation)`"
        }
        return ShmError(kind, operation: operation, target: path, errno: code, message: "\(context): \(advice)")
    }
}
