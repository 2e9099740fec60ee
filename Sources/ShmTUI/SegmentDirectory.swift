import ShmCore

/// What the browser asks about segments: its rows, what `info` prints about one, what removing one would do and
/// doing it, and whether a typed Qt key names an unnamed Qt segment. `CatalogDirectory` answers from the system;
/// tests give an in-memory one.
package protocol SegmentDirectory: AnyObject {
    func rows() -> [BrowserRow]
    /// What `shmscope info` prints about `target`.
    func info(_ target: SegmentTarget) -> [String]
    /// What removing `target` would remove and who is attached. Throws when it cannot be resolved.
    func removal(_ target: SegmentTarget) throws -> RemovalPreview
    /// Removes `target` under `rm`'s rule (nobody attached unless `force`); returns the message to show.
    func remove(_ target: SegmentTarget, force: Bool) throws -> String
    /// The target `key` names when it is the Qt key of the unnamed segment `target` (the key is then remembered);
    /// throws with a message when it is not.
    func name(_ target: SegmentTarget, qtKey key: String) throws -> SegmentTarget
}

/// A failure to show on the browser's message line.
package struct DirectoryError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// The browser's segments from the system catalog: the same scan `shmscope list` prints, with the browser's temp
/// dir and keys (and the keys named with `K` in this session, so they work even where the key store cannot be
/// written).
package final class CatalogDirectory: SegmentDirectory {
    package let context: TargetContext
    /// Keys named with `K` in this session.
    package private(set) var namedKeys: [String] = []

    package init(context: TargetContext) { self.context = context }

    /// The context a row's target resolves in. A row named by its Qt key resolves with every key known (so its
    /// entry carries the key); a row without one (a plain System V or POSIX segment, or a Qt segment whose key
    /// nobody named) tries no key, as the catalog already found none that names it.
    private func rowContext(_ target: SegmentTarget) -> TargetContext {
        var c = context
        c.keys = target.isUnnamed ? [] : context.keys + namedKeys
        return c
    }

    /// Entries that cannot be opened (stale Qt key files, semaphores) are left out; a Qt segment whose key is
    /// unknown opens by shmid.
    package func rows() -> [BrowserRow] {
        let catalog = Catalog.scan(context.catalogSources(knownKeys: KnownKeys.load(extra: context.keys + namedKeys)))
        return catalog.entries.compactMap { e in
            guard let target = e.target, e.size != nil else { return nil }
            let label = e.status == .ok ? e.label : "\(e.label) [\(e.status.rawValue)]"
            var unnamed: String?
            if e.qtKey == nil, let letters = e.qtLetters, let hash = e.qtHash {
                unnamed = "letters \"\(letters)\", sha1 \(hash)"
            }
            return BrowserRow(
                kind: e.kind.rawValue, key: label, id: e.shmid.map(String.init) ?? "-", size: e.size ?? 0,
                perms: e.mode.map(permissionString) ?? "-", owner: e.owner ?? "-",
                nattch: e.kind == .posix || e.kind == .qtPosix || e.kind == .qt6 ? e.attached.count : e.nattch,
                attached: e.attached.map { "\($0.command)(\($0.pid))" }, lock: e.lock?.summary ?? "-", target: target,
                unnamedQt: unnamed)
        }
    }

    package func info(_ target: SegmentTarget) -> [String] {
        do {
            let (entry, catalog) = try ResolvedTarget.resolve(target, context: rowContext(target)).scanEntry()
            guard let entry else { return ["no such segment any more: F5 rescans"] }
            return entry.infoLines(unreadablePIDs: catalog.unreadablePIDs)
        } catch {
            return ["cannot look it up: \(error.message)"]
        }
    }

    package func removal(_ target: SegmentTarget) throws -> RemovalPreview {
        let removal = try plan(target)
        guard removal.entry != nil else { throw DirectoryError("\(target) is gone already: F5 rescans") }
        return RemovalPreview(
            target: removal.resolved.target, objects: removal.objects,
            attached: removal.attached.map { "pid \($0.pid) \($0.command) (\($0.access.rawValue))" },
            attachedCount: removal.attachedCount)
    }

    package func remove(_ target: SegmentTarget, force: Bool) throws -> String {
        // Looked at again: someone may have attached since the confirmation was shown.
        let removal = try plan(target)
        guard removal.allowed(force: force) else {
            let n = removal.attachedCount
            throw DirectoryError(
                "not removed: \(n) process\(n == 1 ? " has" : "es have") attached since; D asks again")
        }
        do { try removal.perform() } catch { throw DirectoryError("cannot remove \(target): \(error.message)") }
        return "removed \(removal.resolved.target)"
    }

    package func name(_ target: SegmentTarget, qtKey key: String) throws -> SegmentTarget {
        var trial = rowContext(target)
        trial.keys = [key]
        // The `--key` route: the catalog is asked which key names the segment; the key is saved to the key store
        // only when it matched.
        guard let resolved = try? ResolvedTarget.resolve(target, context: trial), resolved.matchedKey == key else {
            throw DirectoryError("`\(key)` does not name \(target) (its Qt name differs): not remembered")
        }
        if !namedKeys.contains(key) { namedKeys.append(key) }
        return resolved.target
    }

    private func plan(_ target: SegmentTarget) throws -> SegmentRemoval {
        do { return SegmentRemoval(try ResolvedTarget.resolve(target, context: rowContext(target))) } catch {
            throw DirectoryError("cannot remove \(target): \(error.message)")
        }
    }
}
