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
    func memory(lockTimeout: Double? = nil) throws -> SharedMemory {
        let target = try parsedTarget()
        if case .qt(let key, _) = target { KnownKeys.remember(key) }  // native keys need no remembering
        var options = try options()
        if let lockTimeout { options = options.lifecycleLockTimeout(.milliseconds(Int64(lockTimeout * 1000))) }
        return SharedMemory(target, options: options)
    }

    static func parseSemaphore(_ text: String) throws -> SharedMemory.SemaphoreReference {
        let parts = text.split(separator: "@", maxSplits: 1)
        let index = parts.count == 2 ? UInt16(parts[1]) : 0
        guard let number = index else { throw ValidationError("--sem index `\(parts[1])` is not a number") }
        let body = String(parts[0])
        if let rest = body.dropPrefixString("id:"), let id = Int32(rest), id >= 0 { return .id(id, number: number) }
        let keyText = body.dropPrefixString("key:") ?? body
        if let key = parseSignedOrHex(keyText) { return .key(key, number: number) }
        throw ValidationError("--sem `\(text)` is not key:0x1234, id:N or a key")
    }
}

func parseSignedOrHex(_ text: String) -> Int32? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") {
        return UInt32(text.dropFirst(2), radix: 16).map { Int32(bitPattern: $0) }
    }
    return Int32(text)
}

/// Parses sizes and offsets: `4096`, `0x1000`, `4K`, `1M`, `2G` (powers of 1024).
func parseSize(_ text: String) -> Int? {
    var s = text.trimmingSpaces()
    var multiplier = 1
    if let last = s.last, "kKmMgG".contains(last) {
        multiplier = "kK".contains(last) ? 1 << 10 : "mM".contains(last) ? 1 << 20 : 1 << 30
        s.removeLast()
        if s.hasSuffix("i") || s.hasSuffix("I") { s.removeLast() }
    }
    let value: Int?
    if s.hasPrefix("0x") || s.hasPrefix("0X") { value = Int(s.dropFirst(2), radix: 16) } else { value = Int(s) }
    guard let v = value else { return nil }
    let (product, overflow) = v.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : product
}

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
