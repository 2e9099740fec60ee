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
    /// A Qt segment whose key is not known: its Qt name (`letters "abc", sha1 …`), for `K` (name its key).
    package var unnamedQt: String?

    package init(
        kind: String, key: String, id: String, size: Int, perms: String, owner: String, nattch: Int?,
        attached: [String], lock: String, target: SegmentTarget, unnamedQt: String? = nil
    ) {
        self.unnamedQt = unnamedQt
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
    /// `K`: the Qt key of an unnamed Qt segment (its row's target and Qt name).
    case qtKey(SegmentTarget, name: String)
    /// `d`: how often the table is rescanned.
    case interval

    /// The history a prompt keeps (Up/Down).
    var historyName: String {
        switch self {
        case .filter: "filter"
        case .open: "open"
        case .qtKey: "qtKey"
        case .interval: "interval"
        }
    }

    var label: String {
        switch self {
        case .filter: "Filter: "
        case .open: "Open (qt:KEY, /name, sysv:0xKEY, shmid:N): "
        // The letters Qt kept of the key help to recall it; the hash does not.
        case .qtKey(let target, let name): "Qt key for \(target) (\(name.split(separator: ",").first ?? "")): "
        case .interval: "Rescan every (250ms, 2s; a bare number is seconds): "
        }
    }
}

package struct BrowserPrompt: Equatable, Sendable {
    package var kind: BrowserPromptKind
    package var line: LineEditor

    package init(_ kind: BrowserPromptKind, text: String = "") {
        self.kind = kind
        line = LineEditor(text)
    }

    package var text: String { line.text }
}

/// What the remove key (F9, `D`) will do, shown before anything is removed: the objects `shmscope rm` would remove
/// and the processes attached (who keep their mapping until they detach).
package struct RemovalPreview: Equatable, Sendable {
    package var target: SegmentTarget
    package var objects: [String]
    /// `pid N command (access)`, one per process found in /proc.
    package var attached: [String]
    /// The larger of the kernel's attach count and the processes found.
    package var attachedCount: Int

    package init(target: SegmentTarget, objects: [String], attached: [String], attachedCount: Int) {
        self.target = target
        self.objects = objects
        self.attached = attached
        self.attachedCount = attachedCount
    }
}

package enum BrowserMode: Equatable, Sendable {
    case normal
    case prompt(BrowserPrompt)
    case help(scroll: Int)
    /// F9 / `D`: remove this? `y` when nobody is attached, `!` (as `rm --force`) when someone is.
    case confirmRemove(RemovalPreview)
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
    /// The table is rescanned this often (`d` changes it).
    package var intervalMS = 1000
    /// F2 / `i`: the info pane under the table, with what `shmscope info` prints about the selected segment.
    package var showInfo = false
    /// The info pane's lines and the segment they describe (filled in by the session).
    package var infoTarget: SegmentTarget?
    package var infoLines: [String] = []
    /// Each prompt's earlier lines (Up/Down).
    package var history = PromptHistory()

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

    /// Rows the info pane takes (its title included): as many as its lines need, leaving the table at least
    /// `minTableRows`; 0 when it is closed.
    package var infoRows: Int {
        guard showInfo else { return 0 }
        let room = max(0, height - 4 - Self.minTableRows)
        return min(room, 1 + max(1, infoLines.count))
    }
    package static let minTableRows = 5

    /// Table rows on screen: everything but the title, header, message line, key bar and the info pane.
    package var tableRows: Int { max(1, height - 4 - infoRows) }
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
    /// A line-editing key at a prompt (cursor, Ctrl-A/E/W/U/K, history).
    case promptEdit(LineEdit)
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
    /// F2 / `i`: show or hide the info pane.
    case toggleInfo
    /// The info pane's lines for a segment (from the session).
    case info(SegmentTarget, [String])
    /// F9 / `D`: ask to remove the selected segment.
    case remove
    /// What removing would do (from the session): opens the confirmation.
    case removalPlanned(RemovalPreview)
    /// In the confirmation: `y` (false) or `!` (true: remove although processes are attached, as `rm --force`).
    case confirmRemove(force: Bool)
    /// `K`: type the Qt key of the selected unnamed Qt segment.
    case nameKey
    /// A typed Qt key matched (from the session): the segment is now known as `target`.
    case named(SegmentTarget, key: String)
    /// A result to report on the message line (removed, or why not).
    case report(Message)
}

package enum BrowserEffect: Equatable, Sendable {
    case open(SegmentTarget, readOnly: Bool)
    case reload
    case quit
    /// Work out what removing `target` would remove and who is attached, then report `.removalPlanned`.
    case planRemoval(SegmentTarget)
    /// Remove `target` under `rm`'s rule (nobody attached unless `force`), then report and rescan.
    case remove(SegmentTarget, force: Bool)
    /// Try `key` as the Qt key of `target`: remembered (and reported with `.named`) only when it matches.
    case nameSegment(SegmentTarget, key: String)
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
        s.mode = .prompt(BrowserPrompt(kind, text: kind == .filter ? s.filter : ""))
        s.message = nil
    case .promptInput(let ch):
        return reduce(&s, .promptEdit(.insert(ch)))
    case .promptBackspace:
        guard case .prompt(let p) = s.mode else { return [] }
        // Backspace on an empty line closes the prompt, as in less and vim.
        if p.line.isEmpty {
            s.mode = .normal
            return []
        }
        return reduce(&s, .promptEdit(.backspace))
    case .promptEdit(let edit):
        guard case .prompt(var p) = s.mode else { return [] }
        p.line.apply(edit, history: s.history.lines(p.kind.historyName))
        s.mode = .prompt(p)
        if p.kind == .filter { setFilter(&s, p.text) }
    case .promptSubmit:
        guard case .prompt(let p) = s.mode else { return [] }
        s.mode = .normal
        s.history.add(p.text, to: p.kind.historyName)
        return submit(&s, p)
    case .escape:
        switch s.mode {
        case .prompt(let p) where p.kind == .filter:
            s.mode = .normal
            setFilter(&s, "")
        case .confirmRemove(let plan):
            s.mode = .normal
            s.message = .info("kept \(plan.target)")
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
    case .toggleInfo:
        s.showInfo.toggle()
        if !s.showInfo {
            s.infoTarget = nil
            s.infoLines = []
        }
        // The table shrinks or grows: keep the selection on screen.
        select(&s, s.selection, count: count)
    case .info(let target, let lines):
        s.infoTarget = target
        s.infoLines = lines
        select(&s, s.selection, count: count)
    case .remove:
        guard let row = s.selected else {
            s.message = .error("no segment selected")
            return []
        }
        return [.planRemoval(row.target)]
    case .removalPlanned(let plan):
        s.mode = .confirmRemove(plan)
        s.message = nil
    case .confirmRemove(let force):
        guard case .confirmRemove(let plan) = s.mode else { return [] }
        if !force && plan.attachedCount > 0 {
            let n = plan.attachedCount
            s.message = .error("\(n) process\(n == 1 ? " is" : "es are") attached: ! removes anyway, Esc keeps it")
            return []
        }
        s.mode = .normal
        return [.remove(plan.target, force: force)]
    case .nameKey:
        guard let row = s.selected else {
            s.message = .error("no segment selected")
            return []
        }
        guard let name = row.unnamedQt else {
            s.message = .error("K names the key of a Qt segment whose key is unknown; \(row.key) needs none")
            return []
        }
        s.mode = .prompt(BrowserPrompt(.qtKey(row.target, name: name)))
    case .named(let target, let key):
        s.message = .info("\(target): key matches, remembered in the key store")
        // The row's KEY column becomes the key: a filter that found it by its hash would hide it now.
        if !s.filter.isEmpty { setFilter(&s, key) }
        return [.reload]
    case .report(let m):
        s.message = m
    }
    return []
}

private func submit(_ s: inout BrowserState, _ p: BrowserPrompt) -> [BrowserEffect] {
    switch p.kind {
    case .filter:
        return []
    case .open:
        do {
            return [.open(try SegmentTarget.parse(p.text), readOnly: false)]
        } catch {
            s.message = .error(error.message)
        }
    case .qtKey(let target, _):
        guard !p.text.isEmpty else {
            s.message = .error("no key given")
            return []
        }
        return [.nameSegment(target, key: p.text)]
    case .interval:
        do {
            let d = try NumberParser.duration(
                p.text, label: "rescan interval", defaultUnit: .seconds, in: .milliseconds(100) ... .seconds(3600))
            s.intervalMS = Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
            s.message = .info("rescanning every \(rescanText(s.intervalMS))")
        } catch {
            s.message = .error(error.message)
        }
    }
    return []
}

/// `1 s`, `250 ms`, `2.5 s`.
package func rescanText(_ ms: Int) -> String {
    ms < 1000 ? "\(ms) ms" : NumberParser.format(.milliseconds(ms), .seconds) + " s"
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
    case .prompt(let p):
        switch key {
        case .enter: return .promptSubmit
        case .escape, .ctrl("c"), .ctrl("g"): return .escape
        case .backspace where p.line.isEmpty: return .promptBackspace
        default: return LineEdit(key).map(BrowserAction.promptEdit)
        }
    case .help:
        // Scroll keys scroll; any other key closes the overlay (as less's help does).
        switch key {
        case .up, .char("k"), .wheelUp: return .helpScroll(-1)
        case .down, .char("j"), .wheelDown: return .helpScroll(1)
        case .pageUp: return .helpScroll(-8)
        case .pageDown, .char(" "): return .helpScroll(8)
        default: return .escape
        }
    case .confirmRemove:
        switch key {
        case .char("y"), .char("Y"): return .confirmRemove(force: false)
        case .char("!"): return .confirmRemove(force: true)
        case .char("n"), .char("N"), .escape, .ctrl("c"), .char("q"): return .escape
        default: return nil
        }
    case .normal:
        break
    }
    switch key {
    case .up, .char("k"): return .move(-1)
    case .down, .char("j"): return .move(1)
    case .pageUp, .ctrl("b"): return .page(-1)
    case .pageDown, .ctrl("f"), .char(" "): return .page(1)
    case .ctrl("d"): return .move(max(1, s.tableRows / 2))
    case .ctrl("u"): return .move(-max(1, s.tableRows / 2))
    case .home, .char("g"): return .first
    case .end, .char("G"): return .last
    case .enter: return .attach(readOnly: false)
    case .char("r"): return .attach(readOnly: true)
    case .char("i"), .function(2): return .toggleInfo
    case .char("/"), .function(3): return .openPrompt(.filter)
    case .char("o"), .function(4): return .openPrompt(.open)
    case .char("s"), .function(6): return .sortNext
    case .char("S"): return .reverseSort
    case .char("d"): return .openPrompt(.interval)
    case .char("K"): return .nameKey
    case .char("D"), .function(9): return .remove
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
    "Move        arrows  j k  PgUp PgDn  Space Ctrl-F Ctrl-B",
    "Half page   Ctrl-D  Ctrl-U",
    "First/last  g G  Home End",
    "Attach      Enter (read-only until e or L in the view)",
    "Read-only   r     (never writes)",
    "Info        i  F2  (what shmscope info prints)",
    "Filter      /  F3   (Esc clears)",
    "Open name   o  F4   (qt:KEY /name sysv:0x… shmid:N)",
    "Sort        s  F6   next column;  S reverses",
    "Rescan      F5  Ctrl-L    every…  d  (250ms, 2s)",
    "Qt key      K  names an unnamed Qt segment",
    "Remove      D  F9  asks first (! if attached)",
    "Prompts     ← → Home End  Ctrl-A E W U K  ↑ ↓ history",
    "Mouse       click: select, header: sort",
    "Help        ?  F1     Quit  q  F10",
    "In the hex view, q comes back here.",
]

/// Enter first (the main action), then the F-keys in F-number order; `priority` decides what a narrow terminal
/// drops first (Quit last).
package let browserKeyBar: [KeyBarItem] = [
    KeyBarItem("Enter", "Attach ", priority: 7), KeyBarItem("F1", "Help ", priority: 6),
    KeyBarItem("F2", "Info i ", priority: 4), KeyBarItem("F3", "Filter / ", priority: 5),
    KeyBarItem("F4", "Open o ", priority: 2), KeyBarItem("F5", "Rescan ", priority: 1),
    KeyBarItem("F6", "Sort s ", priority: 2), KeyBarItem("F9", "Remove D ", priority: 3),
    KeyBarItem("F10", "Quit q ", priority: 9),
]
