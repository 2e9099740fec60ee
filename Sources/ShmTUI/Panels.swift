import ShmCore

/// The panes that can open under the hex rows, one at a time.
package enum Panel: Equatable, Sendable, CaseIterable {
    /// Attached processes and the lock's state (`W`).
    case who
    /// The whole segment as a grid of blocks coloured by how recently they changed (`m`).
    case activity
    /// The value at the cursor as every numeric type, both byte orders (`i`).
    case inspector
    /// The `--layout` fields as a live table (`t`).
    case layout
    /// Data breakpoints and their hits (F7 once one is set).
    case breakpoints

    package var title: String {
        switch self {
        case .who: "Who"
        case .activity: "Activity"
        case .inspector: "Inspector"
        case .layout: "Layout"
        case .breakpoints: "Breakpoints"
        }
    }

    /// Rows including the title row.
    package func wantedRows(fields: Int) -> Int {
        switch self {
        case .who: 6
        case .activity: 6
        case .inspector: 13
        case .layout: max(3, min(12, fields + 1))
        case .breakpoints: 6
        }
    }
}

/// Who has the segment attached, and its lock, as the catalog sees it.
package struct WhoInfo: Equatable, Sendable {
    package var attached: [AttachedProcess]
    package var lock: LockInfo?
    /// The catalog no longer lists the segment (removed, or not visible to us).
    package var found: Bool
    /// Why this view has no one to ask (a replayed recording, a segment of another machine); shown instead.
    package var unavailable: String?
    /// A replay's Who: when it was recorded, the lock and last pid as recorded (shown first).
    package var recorded: String?

    package init(attached: [AttachedProcess], lock: LockInfo?, found: Bool = true) {
        self.attached = attached
        self.lock = lock
        self.found = found
    }

    package init(unavailable reason: String) {
        self.init(attached: [], lock: nil, found: false)
        unavailable = reason
    }

    package init(entry: CatalogEntry?) {
        self.init(attached: entry?.attached ?? [], lock: entry?.lock, found: entry != nil)
    }
}

/// The activity map's data: the segment in cells of `bytesPerCell` bytes, each with when it last changed and how
/// many scans saw it change.
package struct ActivitySummary: Equatable, Sendable {
    package var bytesPerCell = 0
    package var lastChange: [Double] = []
    package var counts: [UInt32] = []

    package init(bytesPerCell: Int = 0, lastChange: [Double] = [], counts: [UInt32] = []) {
        self.bytesPerCell = bytesPerCell
        self.lastChange = lastChange
        self.counts = counts
    }

    /// Groups a tracker's blocks into at most `cells` cells (whole blocks per cell).
    package init(tracker: ChangeTracker, cells: Int) {
        let blocks = tracker.blockCount
        guard blocks > 0, cells > 0 else {
            self.init()
            return
        }
        let perCell = (blocks + cells - 1) / cells
        var last: [Double] = []
        var counts: [UInt32] = []
        var b = 0
        while b < blocks {
            let end = min(blocks, b + perCell)
            var l = -Double.infinity
            var c: UInt32 = 0
            for i in b..<end {
                l = max(l, tracker.lastChange[i])
                c &+= tracker.changeCount[i]
            }
            last.append(l)
            counts.append(c)
            b = end
        }
        self.init(bytesPerCell: perCell * tracker.blockSize, lastChange: last, counts: counts)
    }

    /// The glyph for a cell: `·` never changed, `1`…`9` changes, `*` ten or more.
    package static func glyph(count: UInt32) -> Character {
        switch count {
        case 0: "·"
        case 1...9: Character(String(count))
        default: "*"
        }
    }
}

/// Cells per row of the activity pane: the width less one column on each side.
package func activityColumns(width: Int) -> Int { max(1, width - 2) }

/// Draws the open pane into rows `y ..< y + rows`.
package func drawPanel(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int, rows: Int) {
    guard let panel = s.panel, rows > 0 else { return }
    for row in y..<(y + rows) { buffer.fill(y: row, style: .plain) }
    let title: String
    switch panel {
    case .who: title = "Who"
    case .activity:
        title =
            s.activity.bytesPerCell > 0
            ? "Activity: 1 cell = \(byteCountText(s.activity.bytesPerCell)); > < next/prev active" : "Activity"
    case .inspector:
        let n = s.byteChangeCounts[s.cursor] ?? 0
        title = "Inspector @0x\(hexPadded(s.cursor, width: 8)) changed \(n)x │ LE │ BE"
    case .layout: title = "Layout" + (s.structLayout.map { " (\($0.fields.count) fields)" } ?? "")
    case .breakpoints: title = "Breakpoints (\(s.debug.breakpoints.count))"
    }
    buffer.put(String(repeating: "─", count: buffer.width), x: 0, y: y, style: theme.border)
    buffer.put(" \(title) ", x: 1, y: y, style: theme.heading)
    let body = rows - 1
    switch panel {
    case .who: drawWho(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .activity: drawActivity(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .inspector: drawInspector(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .layout: drawLayoutTable(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .breakpoints:
        for (i, line) in breakpointLines(s.debug).prefix(body).enumerated() {
            buffer.put(line, x: 1, y: y + 1 + i, style: line.hasPrefix("last hit") ? theme.error : .plain)
        }
    }
}

/// `4096 B`, `64 KiB`, `1 MiB`.
package func byteCountText(_ n: Int) -> String {
    if n >= 1 << 20, n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
    if n >= 1 << 10, n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
    return "\(n) B"
}

/// The lock's state, then one line per attached process: `pid 1234 qtpeer uid 0 (root) rw`.
package func whoLines(_ who: WhoInfo?) -> [String] {
    guard let who else { return ["looking…"] }
    if let reason = who.unavailable { return [reason] }
    var lines: [String] = []
    if let recorded = who.recorded {
        lines.append(recorded)
    } else if !who.found {
        return ["not in the catalog: removed, or not visible to us"]
    } else if let lock = who.lock {
        // Waiters get their own field (always shown when known), so they are left out of the summary.
        var state = lock
        state.waiters = nil
        var text = "lock \(lock.mechanism.displayName): \(state.summary)"
        if let value = lock.value { text += "; value \(value)" }
        if lock.value.map({ $0 > 0 }) == true, let pid = lock.lastPID {
            text += "; last pid \(pid)" + (lock.lastCommand.map { " (\($0))" } ?? "")
        }
        if let waiters = lock.waiters { text += "; waiters \(waiters)" }
        lines.append(text)
    } else {
        lines.append("lock: none")
    }
    if who.attached.isEmpty { lines.append("no process has it attached") }
    for p in who.attached {
        lines.append("pid \(p.pid) \(p.command) uid \(p.uid) (\(Accounts.userName(p.uid))) \(p.access.rawValue)")
    }
    return lines
}

private func drawWho(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int, rows: Int) {
    // A breakpoint's hit comes first: who was attached when it held is what the user wants to see next to it.
    let hit = s.debug.hit.map {
        "breakpoint \($0.id) hit \(iso8601($0.time)): " + $0.values.map(\.display).joined(separator: " ")
    }
    let lines = (hit.map { [$0] } ?? []) + whoLines(s.who)
    for (i, line) in lines.prefix(rows).enumerated() {
        let held =
            (hit != nil && i == 0) || (i == (hit == nil ? 0 : 1) && s.who?.lock.map { $0.value == 0 || $0.stuck } == true)
        buffer.put(line, x: 1, y: y + i, style: held ? theme.error : .plain)
    }
    if lines.count > rows {
        buffer.put("+\(lines.count - rows) more", x: max(0, buffer.width - 12), y: y + rows - 1, style: theme.heading)
    }
}

private func drawActivity(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int, rows: Int) {
    let a = s.activity
    guard a.bytesPerCell > 0 else {
        buffer.put("scanning…", x: 1, y: y)
        return
    }
    let columns = activityColumns(width: buffer.width)
    let cursorCell = s.cursor / a.bytesPerCell
    for (i, last) in a.lastChange.enumerated() {
        let row = i / columns
        guard row < rows else { break }
        var style = theme.activity(age: s.now - last)
        if i == cursorCell { style.reverse = true }
        buffer.put(String(ActivitySummary.glyph(count: a.counts[i])), x: 1 + i % columns, y: y + row, style: style)
    }
}

private func drawInspector(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int, rows: Int) {
    var bytes: [UInt8] = []
    var offset = s.cursor
    while bytes.count < 64, let b = s.displayed(offset) {
        bytes.append(b)
        offset += 1
    }
    var lines: [String] = []
    for row in ValueInspector.rows(bytes[...]) {
        let name = row.type.rawValue.padding(4)
        lines.append(
            row.type.size == 1 ? "\(name)\(row.little)" : "\(name)\(row.little.padding(22)) \(row.big)")
    }
    lines.append("bin \(ValueInspector.binary(bytes[...]))")
    lines.append("str \(ValueInspector.cString(bytes[...], limit: 48))")
    for (i, line) in lines.prefix(rows).enumerated() { buffer.put(line, x: 1, y: y + i) }
}

private func drawLayoutTable(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int, rows: Int) {
    guard s.structLayout != nil else {
        buffer.put("no layout: start with --layout FILE", x: 1, y: y)
        return
    }
    let nameWidth = s.layoutFields.map(\.field.name.count).max() ?? 0
    let typeWidth = s.layoutFields.map(\.field.typeName.count).max() ?? 0
    for (i, d) in s.layoutFields.prefix(rows).enumerated() {
        let age = s.layoutChangedAt[d.field.name].map { s.now - $0 } ?? .infinity
        let level = age < 0 ? 3 : age < HexViewState.fadeSeconds ? 3 - Int(age / (HexViewState.fadeSeconds / 3)) : 0
        let inField = s.cursor >= d.field.offset && s.cursor < d.field.offset + d.field.size
        let text =
            "\(d.field.name.padding(nameWidth)) \(d.field.typeName.padding(typeWidth)) @0x\(hexPadded(d.field.offset, width: 4)) "
        let x = buffer.put(text, x: 1, y: y + i, style: inField ? theme.selection : .plain)
        buffer.put(d.display, x: x, y: y + i, style: level > 0 ? theme.changed(level: level) : .plain)
    }
}

extension String {
    /// Left-aligned in `width` columns (never cut).
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
