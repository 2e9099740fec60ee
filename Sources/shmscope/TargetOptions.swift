import ArgumentParser
import ShmCore

/// The options that change how a target resolves: Qt's temp dir, a raw System V segment's semaphore set, and Qt
/// keys to try. Every command that takes a TARGET has them (through `TargetOptions`), and so has the browser.
struct TargetContextOptions: ParsableArguments {
    @Option(
        name: .long, help: "Qt's temp dir for key files (default: $TMPDIR resolved, or /tmp).",
        completion: .directory)
    var tmpdir: String?

    @Option(
        name: .long,
        help: "The lock of a raw System V segment: a semaphore set as key:0x…, id:N, optionally with @INDEX.")
    var sem: String?

    @Option(
        name: .customLong("key"),
        help: ArgumentHelp(
            "A Qt key to try for a segment given by id, System V key or POSIX name (repeatable); a key that names it gives it its Qt name and lock, and is remembered.",
            valueName: "KEY"))
    var keys: [String] = []

    @Flag(
        name: .customLong("no-lock"),
        help: "Write without taking the segment's lock (needed where it has none, e.g. a raw System V segment without --sem).")
    var noLock = false

    func validate() throws {
        if let tmpdir, tmpdir.isEmpty { throw ValidationError("--tmpdir must not be empty") }
        if keys.contains(where: \.isEmpty) { throw ValidationError("--key must not be empty") }
        if let sem { _ = try Self.parseSemaphore(sem) }
    }

    /// The context every route resolves its target in.
    func context() throws -> TargetContext {
        TargetContext(
            temporaryDirectory: tmpdir, semaphore: try sem.map(Self.parseSemaphore), keys: keys, noLock: noLock)
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

/// The TARGET argument and the options that change how it resolves; shared by every command that opens one.
/// An option that would not take effect for the target is refused (exit 2, one line saying why).
struct TargetOptions: ParsableArguments {
    @Argument(
        help: "The segment: KEY, qt:KEY, qt-posix:KEY, qt6:KEY, qt6-sysv:KEY, /name, posix:/name, sysv:0xKEY or shmid:N.",
        completion: .custom(targetCompletions))
    var target: String

    @OptionGroup var resolution: TargetContextOptions

    func validate() throws {
        let parsed = try parsedTarget()
        if let reason = try resolution.context().inapplicability(to: parsed) { throw ValidationError(reason) }
    }

    func parsedTarget() throws -> SegmentTarget {
        do { return try SegmentTarget.parse(target) } catch {
            throw ValidationError(error.message)
        }
    }

    func context() throws -> TargetContext { try resolution.context() }

    /// The target resolved in its context (a `--key` that names an unnamed segment makes it that Qt key).
    /// A Qt key is remembered (so `list` shows it by name) only when it names a segment: a mistyped key changes
    /// nothing, not even the key store.
    func resolved() throws -> ResolvedTarget {
        let parsed = try parsedTarget()
        // Before resolving, so the catalog it loads already knows the key; native keys need no remembering.
        // The presence check needs no key store: give it an empty one rather than reading the store twice.
        if case .qt = parsed {
            rememberIfPresent(ResolvedTarget(target: parsed, context: try context(), knownKeys: KnownKeys()))
        }
        return try ResolvedTarget.resolve(parsed, context: try context())
    }

    /// Opens the target (not attached yet); detaching keeps the segment.
    func memory(lockTimeout: Duration? = nil) throws -> SharedMemory {
        let resolved = try resolved()
        var options = resolved.options(detachPolicy: .keep)
        if let lockTimeout { options = options.lifecycleLockTimeout(lockTimeout) }
        return SharedMemory(resolved.target, options: options)
    }

    /// For commands that never lock: `--sem` would be ignored there, and so would `--no-lock`; both are refused.
    func refuseLock(in command: String) throws {
        if resolution.sem != nil {
            throw ValidationError("--sem names a lock, and `\(command)` takes none (it only reads or removes)")
        }
        try refuseNoLock(in: command)
    }

    /// For commands that never write bytes: `--no-lock` would be ignored there, so it is refused.
    func refuseNoLock(in command: String) throws {
        if resolution.noLock {
            throw ValidationError("--no-lock is for writing, and `\(command)` never writes: leave it out")
        }
    }
}

/// Saves a Qt key to the key store when its segment exists (looked up without attaching: that would change it).
func rememberIfPresent(_ resolved: ResolvedTarget) {
    guard case .qt(let key, _) = resolved.target,
        SharedMemory(resolved.target, options: resolved.options(detachPolicy: .keep)).exists()
    else { return }
    KnownKeys.remember(key)
}
