/// Removing a segment the way `shmscope rm` does, for `rm` and the browser's remove key alike: what will be
/// removed, who is attached, and the one rule (nobody attached, or the user's explicit `force`).
public struct SegmentRemoval: Sendable {
    public let resolved: ResolvedTarget
    /// The catalog's entry, nil when the catalog does not list the target (`remove()` then says what it finds).
    public let entry: CatalogEntry?

    /// Looks the target up in the catalog (no attach, no lock taken).
    public init(_ resolved: ResolvedTarget) {
        self.resolved = resolved
        entry = resolved.entry(in: Catalog.scan(resolved.catalogSources()))
    }

    /// Processes attached: the larger of the kernel's count and the processes found in /proc.
    public var attachedCount: Int { entry.map { max($0.nattch, $0.attached.count) } ?? 0 }
    public var attached: [AttachedProcess] { entry?.attached ?? [] }

    /// `rm`'s rule: while processes are attached, only an explicit `force` removes.
    public func allowed(force: Bool) -> Bool { force || attachedCount == 0 }

    /// What `perform()` removes, one object a line: the segment, and for Qt keys its key file and lock.
    public var objects: [String] {
        let target = resolved.target
        let memory = resolved.memory()
        var out: [String] = []
        switch target {
        case .posix(let name):
            out.append("POSIX object \(name)")
        case .qt(_, .posix), .qtNative(_, .posix):
            out.append("POSIX object \(memory.nativeKey)")
        case .qt(_, .systemV), .qtNative(_, .systemV), .sysvKey, .sysvID:
            var text = "System V segment"
            if let id = entry?.shmid { text += " shmid \(id)" }
            if let key = entry?.sysvKey { text += " (key \(hex32(key)))" }
            out.append(text)
        }
        switch target {
        case .qt(_, .systemV), .qtNative(_, .systemV): out.append("key file \(memory.nativeKey)")
        default: break
        }
        if let lock = memory.lockRemovedWithSegment { out.append("lock \(lock.mechanism.rawValue) \(lock.nativeName)") }
        return out
    }

    /// Removes the segment (and for Qt keys its key files and lock). Processes still attached keep their mapping
    /// until they detach.
    public func perform() throws(ShmError) {
        try resolved.memory().remove()
    }
}
