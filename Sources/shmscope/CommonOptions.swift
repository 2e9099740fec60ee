import ArgumentParser
import ShmCore

/// The TARGET argument and the options that change how it is resolved; shared by every command that opens one.
struct TargetOptions: ParsableArguments {
    @Argument(help: "The segment: KEY, qt:KEY, qt-posix:KEY, qt6:KEY, qt6-sysv:KEY, /name, posix:/name, sysv:0xKEY or shmid:N.")
    var target: String

    @Option(name: .long, help: "Qt's temp dir for key files (default: $TMPDIR resolved, or /tmp).")
    var tmpdir: String?

    @Option(
        name: .long,
        help: "The lock of a raw System V segment: a semaphore set as key:0x…, id:N, optionally with @INDEX.")
    var sem: String?

    func parsedTarget() throws -> SegmentTarget {
        do { return try SegmentTarget.parse(target) } catch {
            throw ValidationError(error.message)
        }
    }

    func options(detach: SharedMemory.DetachPolicy = .keep) throws -> SharedMemory.Options {
        var options = SharedMemory.Options(detachPolicy: detach, temporaryDirectory: resolvedTmpdir)
        if let sem { options.semaphore = try Self.parseSemaphore(sem) }
        return options
    }

    var resolvedTmpdir: String? { tmpdir.map { QtNaming.tempPath(environment: ["TMPDIR": $0]) } }

    /// Opens the target (not attached yet) and remembers its Qt key.
    func memory(lockTimeout: Duration? = nil) throws -> SharedMemory {
        let target = try parsedTarget()
        if case .qt(let key, _) = target { KnownKeys.remember(key) }  // native keys need no remembering
        var options = try options()
        if let lockTimeout { options = options.lifecycleLockTimeout(lockTimeout) }
        return SharedMemory(target, options: options)
    }

    static func parseSemaphore(_ text: String) throws -> SharedMemory.SemaphoreReference {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let number =
            try parts.count == 2
            ? usage { () throws(NumberSyntaxError) in
                UInt16(try NumberParser.count(String(parts[1]), label: "--sem index", in: 0...Int(UInt16.max)))
            } : 0
        let body = String(parts[0])
        if let rest = body.dropPrefixString("id:") {
            let id = try usage { () throws(NumberSyntaxError) in
                Int32(try NumberParser.count(rest, label: "--sem id", in: 0...Int(Int32.max)))
            }
            return .id(id, number: number)
        }
        let keyText = body.dropPrefixString("key:") ?? body
        let key = try usage { () throws(NumberSyntaxError) in try NumberParser.key32(keyText, label: "--sem key") }
        return .key(key, number: number)
    }
}

/// One `NumberParser` call for an option: a bad value is a usage error (status 2, one line) in the parser's
/// wording. Commands call it in `validate()` and again in `run()`, where it cannot fail any more.
func usage<T>(_ parse: () throws(NumberSyntaxError) -> T) throws(ValidationError) -> T {
    do { return try parse() } catch { throw ValidationError(error.message) }
}

/// The longest a lock wait or hold may be asked for: a day is surely a typo already, and it keeps every
/// duration far from overflowing a clock.
let longestWait = Duration.seconds(86_400)

extension String {
    func dropPrefixString(_ prefix: String) -> String? { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil }
}

/// `rw-r-----` for a mode.
func permissionString(_ mode: UInt32) -> String {
    let chars: [Character] = ["r", "w", "x"]
    var out = ""
    for shift in stride(from: 6, through: 0, by: -3) {
        for (i, c) in chars.enumerated() { out.append(mode >> UInt32(shift) & (4 >> UInt32(i)) != 0 ? c : "-") }
    }
    return out
}
