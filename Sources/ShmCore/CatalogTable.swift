/// The `list` table: which columns there are, how each one prints a catalog entry, and how the table is fitted to
/// a width. Adding a column is one entry in `CatalogColumn.all`.
///
/// Fitting follows what this tool is for: the key, who is attached and who holds the lock are never dropped, and
/// are cut only after perms, owner and id are gone (the browser's order too); then, before they are cut short, the
/// attach count, size and kind go. Columns the user named with `-o` are never dropped, only cut.
public struct CatalogColumn: Sendable {
    /// The `-o` name and the heading.
    public let name: String
    /// One line for `list --help`.
    public let summary: String
    public let rightAligned: Bool
    /// The cell's text.
    let text: @Sendable (CatalogEntry, CatalogTable.Options) -> String
    /// The cell cut to `width` columns; nil: the text with an ellipsis at the end.
    let cut: (@Sendable (CatalogEntry, CatalogTable.Options, Int) -> String)?

    init(
        _ name: String, _ summary: String, right: Bool = false,
        text: @escaping @Sendable (CatalogEntry, CatalogTable.Options) -> String,
        cut: (@Sendable (CatalogEntry, CatalogTable.Options, Int) -> String)? = nil
    ) {
        self.name = name
        self.summary = summary
        self.rightAligned = right
        self.text = text
        self.cut = cut
    }

    /// Every column `-o` accepts, in the order `--help` lists them.
    public static let all: [CatalogColumn] = [
        CatalogColumn("KIND", "qt, qt-posix, qt6, qt6-sysv, sysv, posix, sysv-sem, posix-sem") {
            e, _ in e.kind.rawValue
        },
        CatalogColumn(
            "KEY", "Qt key (or letters and hash), POSIX name, System V key; [status]",
            text: { e, _ in e.label + statusSuffix(e) },
            // The status stays whole: a cut key that hides "[stale]" would tell a different story.
            cut: { e, _, width in
                let suffix = statusSuffix(e)
                guard width > suffix.count + 1 else { return ellipsized(e.label + suffix, width) }
                return ellipsized(e.label, width - suffix.count) + suffix
            }),
        CatalogColumn("ID", "shmid, or `sem N` for a semaphore set", right: true) { e, _ in
            let semaphoreID = e.kind == .sysvSemaphore ? e.semid.map { "sem \($0)" } : nil
            return e.shmid.map(String.init) ?? semaphoreID ?? "-"
        },
        CatalogColumn("SIZE", "size, human-readable (4 KiB) or in bytes with --bytes", right: true) { e, o in
            e.size.map { o.bytes ? String($0) : humanSize($0) } ?? "-"
        },
        CatalogColumn("PERMS", "permissions, rw-------") { e, _ in e.mode.map(permissionString) ?? "-" },
        CatalogColumn("OWNER", "owner's user name") { e, _ in e.owner ?? "-" },
        CatalogColumn("NATTCH", "attach count (the kernel's for System V, processes seen for POSIX)", right: true) {
            e, _ in String(e.nattch)
        },
        CatalogColumn("LOCK", "the lock's state: free, held by pid N (cmd), with waiters") { e, _ in
            e.lock.map { $0.summary + ($0.mechanism == .flock ? " (advisory)" : "") } ?? "-"
        },
        CatalogColumn(
            "ATTACHED", "attached processes, command(pid)",
            text: { e, _ in attachedText(e.attached.map(attachedName), width: .max) },
            cut: { e, _, width in attachedText(e.attached.map(attachedName), width: width) }),
        CatalogColumn("STATUS", "ok, stale, orphaned, removing or leftover") { e, _ in e.status.rawValue },
        CatalogColumn("UID", "owner's user id", right: true) { e, _ in e.uid.map(String.init) ?? "-" },
        CatalogColumn("CPID", "creator's pid (System V)", right: true) { e, _ in e.cpid.map(String.init) ?? "-" },
        CatalogColumn("LPID", "last attach/detach pid (System V)", right: true) { e, _ in
            e.lpid.map(String.init) ?? "-"
        },
        CatalogColumn("NATIVE", "the native key: key file path, POSIX name or 0x key") { e, _ in e.nativeKey },
    ]

    /// The columns `list` prints without `-o`.
    public static let defaultNames = ["KIND", "KEY", "ID", "SIZE", "PERMS", "OWNER", "NATTCH", "LOCK", "ATTACHED"]

    enum Fit {
        /// Leave the column out (never one the user named).
        case drop(String)
        /// Cut the column down to at most this many columns (never below its heading).
        case cut(String, Int)
    }

    /// What is done, in order, while the table is too wide.
    static let fitting: [Fit] = [
        .drop("PERMS"), .drop("OWNER"), .drop("ID"),
        .cut("KEY", 24), .cut("ATTACHED", 16), .cut("NATIVE", 24), .cut("LOCK", 24),
        .drop("NATTCH"), .drop("SIZE"), .drop("KIND"),
        .cut("KEY", 12), .cut("ATTACHED", 8), .cut("NATIVE", 12), .cut("LOCK", 12),
        .cut("ATTACHED", 3), .cut("KEY", 6), .cut("NATIVE", 6), .cut("LOCK", 4),
    ]
    /// Room left over after fitting goes back to cut columns, in this order.
    static let widenOrder = ["KEY", "ATTACHED", "LOCK", "NATIVE"]

    public static func named(_ name: String) -> CatalogColumn? {
        all.first { $0.name.caseInsensitiveEquals(name) }
    }

    /// The columns of an `-o` list: `KEY,SIZE` (names in any case), or `+LOCK,UID` for the default ones and those.
    /// Throws a message naming the unknown column and the known ones.
    public static func parseList(_ text: String) throws(CatalogTable.ColumnError) -> [CatalogColumn] {
        var body = Substring(text)
        var names: [String] = []
        if body.hasPrefix("+") {
            names = defaultNames
            body = body.dropFirst()
        }
        for part in body.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(part).trimmingCharacters(" ")
            guard let column = named(name) else {
                let known = all.map(\.name).joined(separator: ",")
                throw CatalogTable.ColumnError(
                    message: name.isEmpty
                        ? "-o: empty column name in `\(text)` (known: \(known))"
                        : "-o: unknown column `\(name)` (known: \(known))")
            }
            names.append(column.name)
        }
        return names.map { named($0)! }
    }
}

public enum CatalogTable {
    public struct Options: Sendable {
        /// Sizes in bytes instead of `4 KiB`.
        public var bytes: Bool
        public init(bytes: Bool = false) { self.bytes = bytes }
    }

    public struct ColumnError: Error, Sendable {
        public var message: String
    }

    /// The table's lines fitted to `width` columns: `columns` (the defaults unless `explicit`), dropped and cut in
    /// the documented order. Columns are separated by one space; the last one is not padded. A line is wider than
    /// `width` only when even the narrowest cut columns do not fit.
    public static func render(
        _ entries: [CatalogEntry], columns: [CatalogColumn] = CatalogColumn.defaultNames.map { CatalogColumn.named($0)! },
        explicit: Bool = false, options: Options = Options(), width: Int = .max, headings: Bool = true
    ) -> [String] {
        var shown = Array(columns.indices)
        let texts = entries.map { e in columns.map { $0.text(e, options).terminalSafe() } }
        let natural = columns.indices.map { i in
            max(headings ? columns[i].name.count : 0, texts.map { $0[i].count }.max() ?? 0)
        }
        var widths = natural
        func total() -> Int { shown.reduce(0) { $0 + widths[$1] } + max(0, shown.count - 1) }
        for step in CatalogColumn.fitting where total() > width {
            switch step {
            case .drop(let name):
                if !explicit { shown.removeAll { columns[$0].name == name } }
            case .cut(let name, let floor):
                for i in shown where columns[i].name == name {
                    let least = min(widths[i], max(floor, headings ? columns[i].name.count : 0))
                    widths[i] = max(least, widths[i] - (total() - width))
                }
            }
        }
        for name in CatalogColumn.widenOrder where total() < width {
            for i in shown where columns[i].name == name {
                widths[i] += max(0, min(width - total(), natural[i] - widths[i]))
            }
        }
        var lines: [String] = []
        if headings {
            lines.append(line(shown.map { (columns[$0].name, widths[$0], columns[$0].rightAligned) }))
        }
        for (row, e) in entries.enumerated() {
            lines.append(
                line(
                    shown.map { i in
                        var text = texts[row][i]
                        if text.count > widths[i] {
                            text = (columns[i].cut?(e, options, widths[i]) ?? ellipsized(text, widths[i]))
                                .terminalSafe()
                            if text.count > widths[i] { text = ellipsized(text, widths[i]) }
                        }
                        return (text, widths[i], columns[i].rightAligned)
                    }))
        }
        return lines
    }

    private static func line(_ cells: [(text: String, width: Int, right: Bool)]) -> String {
        var out = ""
        for (n, c) in cells.enumerated() {
            let pad = String(repeating: " ", count: max(0, c.width - c.text.count))
            if n > 0 { out += " " }
            if c.right {
                out += pad + c.text
            } else {
                out += n == cells.count - 1 ? c.text : c.text + pad
            }
        }
        return out
    }
}

/// ` [stale]` after a key whose status is not ok.
private func statusSuffix(_ e: CatalogEntry) -> String { e.status == .ok ? "" : " [\(e.status.rawValue)]" }

private func attachedName(_ p: AttachedProcess) -> String { "\(p.command)(\(p.pid))" }

/// `a(1),b(2)`; cut to `width`: as many whole entries as fit, then `+N` for the rest (`a(1),+2`).
func attachedText(_ names: [String], width: Int) -> String {
    if names.isEmpty { return "-" }
    let whole = names.joined(separator: ",")
    if whole.count <= width { return whole }
    var out = ""
    var taken = 0
    for name in names {
        let candidate = taken == 0 ? name : out + "," + name
        let rest = taken + 1 == names.count ? "" : ",+\(names.count - taken - 1)"
        if candidate.count + rest.count > width { break }
        out = candidate
        taken += 1
    }
    let text = taken == 0 ? "+\(names.count)" : out + ",+\(names.count - taken)"
    return text.count <= width ? text : ellipsized(whole, width)
}

/// `text` cut to `width` characters, the last one `…`.
public func ellipsized(_ text: String, _ width: Int) -> String {
    guard text.count > width else { return text }
    guard width > 0 else { return "" }
    return String(text.prefix(width - 1)) + "…"
}

/// `512 B`, `4 KiB`, `1.5 MiB`, `32 MiB`: powers of 1024, one decimal only when it is not a whole number. The TUI
/// and `list` print sizes this way.
public func humanSize(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    if unit == 0 || value == value.rounded() || value >= 100 { return "\(Int(value.rounded())) \(units[unit])" }
    let tenths = Int((value * 10).rounded())
    return tenths % 10 == 0 ? "\(tenths / 10) \(units[unit])" : "\(tenths / 10).\(tenths % 10) \(units[unit])"
}

extension String {
    fileprivate func caseInsensitiveEquals(_ other: String) -> Bool {
        count == other.count && zip(utf8, other.utf8).allSatisfy { a, b in asciiLower(a) == asciiLower(b) }
    }

    fileprivate func trimmingCharacters(_ c: Character) -> String {
        String(drop(while: { $0 == c }).reversed().drop(while: { $0 == c }).reversed())
    }
}

private func asciiLower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }
