import ShmCore

/// One segment in the browser table. The executable fills these from whatever catalog it has; the TUI only shows,
/// filters, sorts and opens them.
package struct BrowserRow: Equatable, Sendable {
    package var kind: String
    package var key: String
    package var id: String
    package var size: Int
    package var perms: String
    package var owner: String
    /// Attach count, nil where the kind has none (POSIX objects).
    package var nattch: Int?
    package var attached: [String]
    package var lock: String
    package var target: SegmentTarget

    package init(
        kind: String, key: String, id: String, size: Int, perms: String, owner: String, nattch: Int?,
        attached: [String], lock: String, target: SegmentTarget
    ) {
        self.kind = kind
        self.key = key
        self.id = id
        self.size = size
        self.perms = perms
        self.owner = owner
        self.nattch = nattch
        self.attached = attached
        self.lock = lock
        self.target = target
    }
}

package enum BrowserColumn: Int, CaseIterable, Sendable {
    case kind, key, id, size, perms, owner, nattch, attached, lock

    package var title: String {
        switch self {
        case .kind: "KIND"
        case .key: "KEY"
        case .id: "ID"
        case .size: "SIZE"
        case .perms: "PERMS"
        case .owner: "OWNER"
        case .nattch: "NATT"
        case .attached: "ATTACHED"
        case .lock: "LOCK"
        }
    }

    var rightAligned: Bool { self == .size || self == .nattch || self == .id }

    func text(_ row: BrowserRow) -> String {
        switch self {
        case .kind: row.kind
        case .key: row.key
        case .id: row.id
        case .size: humanSize(row.size)
        case .perms: row.perms
        case .owner: row.owner
        case .nattch: row.nattch.map(String.init) ?? "-"
        case .attached: row.attached.isEmpty ? "-" : row.attached.joined(separator: ",")
        case .lock: row.lock
        }
    }

    func less(_ a: BrowserRow, _ b: BrowserRow) -> Bool {
        switch self {
        case .size: a.size < b.size
        case .nattch: (a.nattch ?? -1) < (b.nattch ?? -1)
        case .id: (Int(a.id) ?? -1) < (Int(b.id) ?? -1)
        default: text(a).lowercased() < text(b).lowercased()
        }
    }
}

package enum BrowserPromptKind: Equatable, Sendable {
    case filter, open
}

package enum BrowserMode: Equatable, Sendable {
    case normal
    case prompt(BrowserPromptKind, String)
    case help(scroll: Int)
}

package struct BrowserState: Equatable, Sendable {
    package var rows: [BrowserRow] = []
    package var filter = ""
    package var sortColumn: BrowserColumn = .kind
    package var ascending = true
    /// Index into `visible`.
    package var selection = 0
    package var top = 0
    package var width = 80
    package var height = 24
    package var mode: BrowserMode = .normal
    package var message: Message?

    package init(rows: [BrowserRow] = []) { self.rows = rows }

    /// Rows matching the filter (case-insensitive, any column), sorted; ties keep key order.
    package var visible: [BrowserRow] {
        let needle = filter.lowercased()
        let matching =
            needle.isEmpty
            ? rows
            : rows.filter { row in BrowserColumn.allCases.contains { $0.text(row).lowercased().contains(needle) } }
        let sorted = matching.sorted { a, b in
            if sortColumn.less(a, b) { return true }
            if sortColumn.less(b, a) { return false }
            return a.key < b.key
        }
        return ascending ? sorted : sorted.reversed()
    }

    /// Table rows on screen: everything but the title, header, message line and key bar.
    package var tableRows: Int { max(1, height - 4) }
    package var selected: BrowserRow? {
        let v = visible
        return selection < v.count ? v[selection] : nil
    }
}

package enum BrowserAction: Equatable, Sendable {
    case move(Int)
    case page(Int)
    case first, last
    case attach(readOnly: Bool)
    case openPrompt(BrowserPromptKind)
    case promptInput(Character)
    case promptBackspace
    case promptSubmit
    case escape
    case sortNext
    case reverseSort
    case sortBy(BrowserColumn)
    case reload
    case rows([BrowserRow])
    case quit
    case help
    case helpScroll(Int)
    case click(x: Int, y: Int)
    case scroll(Int)
    case resize(width: Int, height: Int)
    case openFailed(String)
}

package enum BrowserEffect: Equatable, Sendable {
    case open(SegmentTarget, readOnly: Bool)
    case reload
    case quit
}

package func reduce(_ s: inout BrowserState, _ action: BrowserAction) -> [BrowserEffect] {
    let count = s.visible.count
    switch action {
    case .move(let d): select(&s, s.selection + d, count: count)
    case .page(let p): select(&s, s.selection + p * s.tableRows, count: count)
    case .first: select(&s, 0, count: count)
    case .last: select(&s, count - 1, count: count)
    case .attach(let readOnly):
        guard let row = s.selected else {
            s.message = .error("no segment selected: o opens one by name")
            return []
        }
        return [.open(row.target, readOnly: readOnly)]
    case .openPrompt(let kind):
        s.mode = .prompt(kind, kind == .filter ? s.filter : "")
    case .promptInput(let ch):
        guard case .prompt(let kind, let text) = s.mode else { return [] }
        s.mode = .prompt(kind, text + String(ch))
        if kind == .filter { setFilter(&s, text + String(ch)) }
    case .promptBackspace:
        guard case .prompt(let kind, var text) = s.mode else { return [] }
        if text.isEmpty {
            s.mode = .normal
            return []
        }
        text.removeLast()
        s.mode = .prompt(kind, text)
        if kind == .filter { setFilter(&s, text) }
    case .promptSubmit:
        guard case .prompt(let kind, let text) = s.mode else { return [] }
        s.mode = .normal
        if kind == .open {
            do {
                return [.open(try SegmentTarget.parse(text), readOnly: false)]
            } catch {
                s.message = .error(error.message)
            }
        }
    case .escape:
        switch s.mode {
        case .prompt(.filter, _):
            s.mode = .normal
            setFilter(&s, "")
        case .prompt, .help:
            s.mode = .normal
        case .normal:
            if !s.filter.isEmpty { setFilter(&s, "") } else { s.message = nil }
        }
    case .sortNext:
        let all = BrowserColumn.allCases
        s.sortColumn = all[(s.sortColumn.rawValue + 1) % all.count]
        s.message = .info("sorted by \(s.sortColumn.title.lowercased())")
    case .reverseSort:
        s.ascending.toggle()
    case .sortBy(let column):
        if s.sortColumn == column { s.ascending.toggle() } else { s.sortColumn = column; s.ascending = true }
    case .reload:
        return [.reload]
    case .rows(let rows):
        let keep = s.selected?.target
        s.rows = rows
        let v = s.visible
        select(&s, keep.flatMap { t in v.firstIndex { $0.target == t } } ?? s.selection, count: v.count)
    case .quit:
        return [.quit]
    case .help:
        s.mode = .help(scroll: 0)
    case .helpScroll(let d):
        guard case .help(let scroll) = s.mode else { return [] }
        s.mode = .help(scroll: max(0, min(browserHelpLines.count - 1, scroll + d)))
    case .click(let x, let y):
        if y == 1 {
            if let column = browserColumns(width: s.width, rows: s.visible).last(where: { $0.x <= x })?.column {
                return reduce(&s, .sortBy(column))
            }
            return []
        }
        let index = s.top + y - 2
        if y >= 2, y < 2 + s.tableRows, index < count { select(&s, index, count: count) }
    case .scroll(let d):
        let maxTop = max(0, count - s.tableRows)
        s.top = max(0, min(maxTop, s.top + d))
        s.selection = max(s.top, min(s.selection, s.top + s.tableRows - 1, count - 1))
        s.selection = max(0, s.selection)
    case .resize(let w, let h):
        s.width = w
        s.height = h
        select(&s, s.selection, count: count)
    case .openFailed(let m):
        s.message = .error(m)
    }
    return []
}

private func setFilter(_ s: inout BrowserState, _ text: String) {
    s.filter = text
    s.selection = 0
    s.top = 0
}

private func select(_ s: inout BrowserState, _ index: Int, count: Int) {
    s.selection = max(0, min(count - 1, index))
    if s.selection < s.top { s.top = s.selection }
    if s.selection >= s.top + s.tableRows { s.top = s.selection - s.tableRows + 1 }
    s.top = max(0, min(s.top, max(0, count - s.tableRows)))
}

package func browserAction(for key: Key, in s: BrowserState) -> BrowserAction? {
    if case .resize(let w, let h) = key { return .resize(width: w, height: h) }
    switch s.mode {
    case .prompt:
        switch key {
        case .char(let c): return .promptInput(c)
        case .backspace, .delete: return .promptBackspace
        case .enter: return .promptSubmit
        case .escape, .ctrl("c"): return .escape
        default: return nil
        }
    case .help:
        switch key {
        case .escape, .enter, .char("q"), .char("?"), .function(1), .function(10): return .escape
        case .up, .char("k"), .wheelUp: return .helpScroll(-1)
        case .down, .char("j"), .wheelDown: return .helpScroll(1)
        default: return nil
        }
    case .normal:
        break
    }
    switch key {
    case .up, .char("k"): return .move(-1)
    case .down, .char("j"): return .move(1)
    case .pageUp: return .page(-1)
    case .pageDown: return .page(1)
    case .home, .char("g"): return .first
    case .end, .char("G"): return .last
    case .enter: return .attach(readOnly: false)
    case .char("r"): return .attach(readOnly: true)
    case .char("/"), .function(3): return .openPrompt(.filter)
    case .char("o"), .function(4): return .openPrompt(.open)
    case .char("s"), .function(6): return .sortNext
    case .char("S"): return .reverseSort
    case .function(5), .ctrl("l"): return .reload
    case .char("q"), .function(10), .ctrl("c"): return .quit
    case .char("?"), .function(1): return .help
    case .escape: return .escape
    case .click(let x, let y): return .click(x: x, y: y)
    case .wheelUp: return .scroll(-3)
    case .wheelDown: return .scroll(3)
    default: return nil
    }
}

package let browserHelpLines: [String] = [
    "Move        arrows  j k  PgUp PgDn",
    "First/last  g G  Home End",
    "Attach      Enter (read-write)",
    "Read-only   r",
    "Filter      /  F3   (Esc clears)",
    "Open name   o  F4   (qt:KEY /name sysv:0x… shmid:N)",
    "Sort        s  F6   next column;  S reverses",
    "Rescan      F5  Ctrl-L",
    "Mouse       click: select, header: sort",
    "Help        ?  F1     Quit  q  F10",
    "In the hex view, q comes back here.",
]

package let browserKeyBar: [KeyBarItem] = [
    KeyBarItem("F1", "Help ? "), KeyBarItem("F3", "Filter / "), KeyBarItem("F4", "Open o "),
    KeyBarItem("F5", "Rescan "), KeyBarItem("F6", "Sort s "), KeyBarItem("Enter", "Attach "),
    KeyBarItem("r", "Read-only "), KeyBarItem("F10", "Quit q "),
]
