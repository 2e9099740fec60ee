/// What changes how a target resolves beyond its name: Qt's temp dir, the semaphore set that guards a raw System V
/// segment, and Qt keys to try for segments known only by id, key or POSIX name. Every command that takes a
/// TARGET, and the browser, carry one of these, so a target resolves the same way through every route.
public struct TargetContext: Sendable, Equatable {
    /// Qt's temp dir for key files, as given (resolved like Qt does, with realpath, when used); nil: `$TMPDIR`.
    public var temporaryDirectory: String?
    /// The lock of a raw System V segment, when the user names one.
    public var semaphore: SharedMemory.SemaphoreReference?
    /// Qt keys to try for unnamed segments (and to label segments in the catalog).
    public var keys: [String]
    /// The user chose to write without a lock (`--no-lock`). Nothing else may write unlocked: where no lock can
    /// be found, writing is refused unless this is set (the command line and the TUI alike).
    public var noLock: Bool
    /// The IPC namespace (and root) targets are in (`--ns`): ours, a process's, or, for listing, all of them.
    public var namespace: NamespaceSelection

    public init(
        temporaryDirectory: String? = nil, semaphore: SharedMemory.SemaphoreReference? = nil, keys: [String] = [],
        noLock: Bool = false, namespace: NamespaceSelection = .current
    ) {
        self.temporaryDirectory = temporaryDirectory
        self.semaphore = semaphore
        self.keys = keys
        self.noLock = noLock
        self.namespace = namespace
    }

    /// Where the catalog looks in this context: the same temp dir, keys and namespaces the targets resolve with.
    /// `includeMappings`: memfd objects and anonymous shared mappings too (`browse --all`, and a target that
    /// names one).
    public func catalogSources(
        knownKeys: KnownKeys, includeSemaphores: Bool = false, includeMappings: Bool = false
    ) -> Catalog.Sources {
        var sources = Catalog.Sources(
            temporaryDirectory: resolvedTemporaryDirectory, knownKeys: knownKeys, includeSemaphores: includeSemaphores)
        sources.namespaces = namespace
        sources.givenTemporaryDirectory = temporaryDirectory
        sources.includeMappings = includeMappings
        return sources
    }

    /// The pid whose namespaces a target opens in (`--ns PID`); nil for ours.
    public var namespacePID: Int32? {
        if case .process(let pid) = namespace { return pid }
        return nil
    }

    /// Qt's temp dir with `--tmpdir` resolved the way Qt resolves `TMPDIR` (nil: this process's `TMPDIR`). In
    /// another process's namespace the directory is inside its root and is taken as given.
    public var resolvedTemporaryDirectory: String? {
        if namespacePID != nil { return temporaryDirectory }
        return temporaryDirectory.map { QtNaming.tempPath(environment: ["TMPDIR": $0]) }
    }

    /// Why an option does not apply to `target`, as one line for a usage error; nil when every option given takes
    /// effect. An option that would be silently ignored is refused instead.
    public func inapplicability(to target: SegmentTarget) -> String? {
        let named = "`\(target)`"
        if semaphore != nil && !keys.isEmpty {
            return "--sem and --key both name a lock: give one of them"
        }
        if noLock && semaphore != nil {
            return "--no-lock writes without a lock and --sem names one: give one of them"
        }
        if namespace == .all {
            return "--ns all is for listing; to open \(named), give the pid of a process in its namespace (--ns PID)"
        }
        switch target {
        case .sysvKey, .sysvID:
            if temporaryDirectory != nil && keys.isEmpty {
                return "--tmpdir locates Qt key files: give it with --key KEY, or name the target as qt:KEY"
            }
        case .posix:
            if semaphore != nil {
                return "--sem names the lock of a raw System V segment; \(named) is a POSIX object"
            }
            if temporaryDirectory != nil {
                return "--tmpdir locates Qt System V key files; POSIX object \(named) has none"
            }
        case .qt(_, .systemV):
            if semaphore != nil { return "--sem names the lock of a raw System V segment; \(named) uses Qt's own semaphore" }
            if !keys.isEmpty { return "--key names Qt keys to try for segments given by id, key or name; \(named) already names its key" }
        case .qt(_, .posix), .qtNative(_, .posix):
            if semaphore != nil { return "--sem names the lock of a raw System V segment; \(named) uses Qt's own semaphore" }
            if !keys.isEmpty { return "--key names Qt keys to try for segments given by id, key or name; \(named) already names its key" }
            if temporaryDirectory != nil { return "--tmpdir locates Qt System V key files; \(named) is a POSIX object with no key file" }
        case .memfd, .mapping:
            if semaphore != nil || !keys.isEmpty {
                return "\(named) is a memfd or shared mapping: it has no lock (--sem) and no Qt key (--key); write with --no-lock"
            }
            if temporaryDirectory != nil { return "--tmpdir locates Qt key files; \(named) has none" }
            if case .process = namespace {
                return "--ns does not apply: the pid in \(named) already names the process (any namespace)"
            }
        case .qtNative(let key, .systemV):
            if semaphore != nil { return "--sem names the lock of a raw System V segment; \(named) uses Qt's own semaphore" }
            if !keys.isEmpty { return "--key names Qt keys to try for segments given by id, key or name; \(named) already names its key" }
            if temporaryDirectory != nil && key.hasPrefix("/") {
                return "--tmpdir does not apply: \(named) names its key file by absolute path"
            }
        }
        return nil
    }
}

/// A target with everything needed to open it, name its lock and ask the catalog about it: the one value that
/// every route into a segment (the commands, the hex view, the browser) works from.
public struct ResolvedTarget: Sendable {
    /// The target to open: as named, or the Qt key a `--key` matched for a segment given by id, key or name.
    public let target: SegmentTarget
    public let context: TargetContext
    /// The key store with the keys given on the command line.
    public let knownKeys: KnownKeys
    /// The `--key` that named the segment, when one did.
    public let matchedKey: String?
    /// The lock of a target named without its Qt key: the semaphore named with `--sem`, or Qt's own lock found
    /// next to a Qt System V segment opened by id or key (its `qipc_systemsem_…` key file). POSIX objects opened
    /// by name get Qt's lock from their name (`SegmentPlan`).
    public let lock: SharedMemory.SemaphoreReference?

    /// Resolves `target`: when it names a segment only by id, System V key or POSIX name and `context` has Qt keys
    /// to try, the catalog is asked which key names it, and the target becomes that Qt key (with its lock).
    /// A key is saved to the key store only when it matched a segment.
    public static func resolve(_ target: SegmentTarget, context: TargetContext) throws(ShmError) -> ResolvedTarget {
        // Another process's namespace: say at once (one line) when it cannot be entered.
        if let pid = context.namespacePID { _ = try NamespaceAccess.of(pid: pid) }
        let known = KnownKeys.load(extra: context.keys)
        guard !context.keys.isEmpty, target.isUnnamed else {
            // A Qt segment whose key we do not know still has Qt's lock: the peer's, never "no lock".
            let lock =
                context.semaphore
                ?? Catalog.qtSemaphore(for: target, sources: context.catalogSources(knownKeys: known))
            return ResolvedTarget(target: target, context: context, knownKeys: known, matchedKey: nil, lock: lock)
        }
        let catalog = Catalog.scan(context.catalogSources(knownKeys: known))
        guard let entry = catalog.entry(for: target), let key = entry.qtKey, context.keys.contains(key),
            let named = entry.target
        else {
            let tried = context.keys.map { "`\($0)`" }.joined(separator: ", ")
            throw ShmError(
                .notFound, operation: "resolve", target: target.description,
                message: "no key given with --key (\(tried)) names this segment in \(catalog.temporaryDirectory): check the key and --tmpdir")
        }
        KnownKeys.remember(key)
        return ResolvedTarget(target: named, context: context, knownKeys: known, matchedKey: key)
    }

    /// A resolved target as is, for routes that already know their target and context (the demo, tests).
    /// `lock` defaults to the context's `--sem`; `resolve` also finds Qt's lock for Qt segments named by id or key.
    public init(
        target: SegmentTarget, context: TargetContext = .init(), knownKeys: KnownKeys? = nil, matchedKey: String? = nil,
        lock: SharedMemory.SemaphoreReference? = nil
    ) {
        self.target = target
        self.context = context
        self.knownKeys = knownKeys ?? KnownKeys.load(extra: context.keys)
        self.matchedKey = matchedKey
        self.lock = lock ?? context.semaphore
    }

    /// Options for `SharedMemory`: Qt's temp dir, the lock, and `detachPolicy`.
    public func options(detachPolicy: SharedMemory.DetachPolicy) -> SharedMemory.Options {
        SharedMemory.Options(
            detachPolicy: detachPolicy, temporaryDirectory: context.resolvedTemporaryDirectory, semaphore: lock,
            namespace: context.namespacePID)
    }

    /// The segment, not attached yet.
    public func memory(detachPolicy: SharedMemory.DetachPolicy = .keep) -> SharedMemory {
        SharedMemory(target, options: options(detachPolicy: detachPolicy))
    }

    /// Where the catalog looks for this target: the same temp dir and keys.
    public func catalogSources(includeSemaphores: Bool = false) -> Catalog.Sources {
        context.catalogSources(
            knownKeys: knownKeys, includeSemaphores: includeSemaphores, includeMappings: target.isSharedMapping)
    }

    /// The catalog's entry for this target, with the lock this target really has: a semaphore set named with
    /// `--sem` (or Qt's lock found next to the segment) replaces the catalog's guess.
    public func entry(in catalog: Catalog) -> CatalogEntry? {
        guard var entry = catalog.entry(for: target) else { return nil }
        // The catalog found Qt's semaphore itself (with its semid): keep its reading.
        if case .qtKeyFile(let path) = lock, entry.lock?.nativeName == path { return entry }
        if lock != nil {
            entry.lock = memory().lockState().map(LockInfo.init(state:))
        }
        return entry
    }

    /// Scans the catalog and returns this target's entry (for `info` and the Who pane).
    public func scanEntry() -> (entry: CatalogEntry?, catalog: Catalog) {
        let catalog = Catalog.scan(catalogSources())
        return (entry(in: catalog), catalog)
    }
}

extension SegmentTarget {
    /// A memfd or another shared mapping of a process (no name of its own).
    public var isSharedMapping: Bool {
        switch self {
        case .memfd, .mapping: true
        default: false
        }
    }

    /// True when the target names a segment without a Qt key: by System V key or id, or by POSIX name.
    public var isUnnamed: Bool {
        switch self {
        case .sysvKey, .sysvID, .posix: true
        case .qt, .qtNative, .memfd, .mapping: false
        }
    }
}

extension LockInfo {
    /// The catalog's view of a lock read through its `SegmentLock` (value, last pid and whether that pid lives).
    public init(state: LockState) {
        let alive = state.lastPID.map(ProcessInfoReader.isAlive) ?? false
        self.init(
            mechanism: state.mechanism, nativeName: state.nativeName, semid: nil, value: state.value,
            lastPID: state.lastPID, lastCommand: state.lastPID.flatMap { alive ? ProcessInfoReader.command(pid: $0) : nil },
            waiters: state.waiters, stuck: state.value == 0 && state.lastPID != nil && !alive)
    }
}
