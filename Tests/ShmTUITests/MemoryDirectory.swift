import ShmCore

@testable import ShmTUI

/// The browser's directory in memory: rows, info lines, removal under `rm`'s rule and Qt keys that name a row,
/// with every call recorded.
final class MemoryDirectory: SegmentDirectory {
    var segments: [BrowserRow]
    /// Qt keys that name a row's target (the real directory asks the catalog).
    var keys: [SegmentTarget: (key: String, named: SegmentTarget)] = [:]
    var removed: [(SegmentTarget, Bool)] = []
    var infoAsked: [SegmentTarget] = []
    /// Processes that attach between the confirmation and the removal.
    var attachLater = 0

    init(rows: [BrowserRow]) { segments = rows }

    func rows() -> [BrowserRow] { segments }

    func info(_ target: SegmentTarget) -> [String] {
        infoAsked.append(target)
        guard let row = segments.first(where: { $0.target == target }) else { return ["no such segment any more"] }
        return ["target      \(target)", "size        \(row.size) bytes"]
            + row.attached.enumerated().map { ($0.offset == 0 ? "attached    " : "            ") + $0.element }
    }

    func removal(_ target: SegmentTarget) throws -> RemovalPreview {
        guard let row = segments.first(where: { $0.target == target }) else { throw DirectoryError("gone") }
        return RemovalPreview(
            target: target, objects: ["segment \(row.key)"], attached: row.attached.map { "pid 1 \($0) (rw)" },
            attachedCount: row.nattch ?? row.attached.count)
    }

    func remove(_ target: SegmentTarget, force: Bool) throws -> String {
        guard let row = segments.first(where: { $0.target == target }) else { throw DirectoryError("gone") }
        if !force && (row.nattch ?? 0) + attachLater > 0 { throw DirectoryError("not removed: attached since") }
        removed.append((target, force))
        segments.removeAll { $0.target == target }
        return "removed \(target)"
    }

    func name(_ target: SegmentTarget, qtKey key: String) throws -> SegmentTarget {
        guard let match = keys[target], match.key == key else { throw DirectoryError("`\(key)` does not name \(target)") }
        if let i = segments.firstIndex(where: { $0.target == target }) {
            segments[i].target = match.named
            segments[i].key = key
            segments[i].unnamedQt = nil
        }
        return match.named
    }
}
