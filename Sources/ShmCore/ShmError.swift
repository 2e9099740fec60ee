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
        case EMFILE, ENFILE, ENOMEM, ENOSPC, ERANGE:
            kind = .outOfResources
            advice = "out of resources: free memory or raise the kernel limits (sysctl kernel.shmmax, kernel.shmall)"
        case ENAMETOOLONG:
            kind = .keyError
            advice = "name too long: use a shorter key"
        case EFBIG:
            kind = .invalidSize
            advice = "size is larger than the system allows"
        default:
            kind = .unknown
            advice = "unexpected error \(code)"
        }
        let text = context.map { "\($0): \(advice)" } ?? advice
        return ShmError(kind, operation: operation, target: target, errno: code, message: text)
    }
}
