import ShmCore
import ShmTUI

/// The browser's rows: the same catalog `shmscope list` prints. Entries that cannot be opened (stale Qt key files,
/// semaphores) are left out; a Qt segment whose key is unknown opens by shmid.
/// The catalog is scanned with the browser's temp dir and keys, the same ones its views resolve targets with.
func scanBrowserRows(_ context: TargetContext) -> [BrowserRow] {
    let catalog = Catalog.scan(context.catalogSources(knownKeys: KnownKeys.load(extra: context.keys)))
    return catalog.entries.compactMap { e in
        guard let target = e.target, e.size != nil else { return nil }
        let label = e.status == .ok ? e.label : "\(e.label) [\(e.status.rawValue)]"
        var row = BrowserRow(
            kind: e.kind.rawValue, key: label, id: e.shmid.map(String.init) ?? "-", size: e.size ?? 0,
            perms: e.mode.map(permissionString) ?? "-", owner: e.owner ?? "-",
            nattch: e.kind == .posix || e.kind == .qtPosix || e.kind == .qt6 ? e.attached.count : e.nattch,
            attached: e.attached.map { "\($0.command)(\($0.pid))" }, lock: e.lock?.summary ?? "-", target: target)
        row.namespace = e.namespace?.name ?? ""
        row.namespacePID = e.namespacePID
        return row
    }
}
