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
    /// The runs of bytes that differ from the snapshot (`D`): offset, length, old → new.
    case diff

    package var title: String {
        switch self {
        case .who: "Who"
        case .activity: "Activity"
        case .inspector: "Inspector"
        case .layout: "Layout"
        case .breakpoints: "Breakpoints"
        case .diff: "Diff"
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
        case .diff: 8
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
        // A power of two blocks per cell (blocks are a power of two bytes): cells of 16 B, 4 KiB, 64 KiB, never 12 KiB,
        // so every cell and every row of the map starts at a round offset.
        var perCell = 1
        while perCell * cells < blocks { perCell *= 2 }
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

/// Where the activity map's cells go: each row starts with its offset in hex (`labelWidth` columns with the space
/// after it), then `columns` cells, a power of two so each row starts at a round offset too.
package struct ActivityGeometry: Equatable, Sendable {
    package var labelWidth: Int
    package var columns: Int

    package init(width: Int, size: Int) {
        var digits = 4
        while digits < 16 && max(0, size - 1) >> (4 * digits) > 0 { digits += 1 }
        labelWidth = digits + 1
        var c = 1
        while c * 2 <= max(1, width - 2 - labelWidth) { c *= 2 }
        columns = c
    }

    /// The x of a cell's column (the pane starts one column in).
    package func x(column: Int) -> Int { 1 + labelWidth + column }
}

/// Rows of cells in an activity pane of `panelRows` rows: less the title and the legend.
package func activityCellRows(panelRows: Int) -> Int { max(1, panelRows - 2) }

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
    case .layout:
        title = "Layout" + (s.structLayout.map { " (\($0.fields.count) fields); f jumps to a field" } ?? "")
    case .breakpoints: title = "Breakpoints (\(s.debug.breakpoints.count))"
    case .diff: title = diffPaneTitle(s)
    }
    buffer.put(String(repeating: "─", count: buffer.width), x: 0, y: y, style: theme.border)
    buffer.put(" \(title) ", x: 1, y: y, style: theme.heading)
    let body = rows - 1
    switch panel {
    case .who: drawWho(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .activity: drawActivity(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .inspector: drawInspector(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .layout: drawLayoutTable(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .diff: drawDiffRuns(s, theme: theme, into: &buffer, y: y + 1, rows: body)
    case .breakpoints:
        for (i, line) in breakpointLines(s.debug).prefix(body).enumerated() {
            buffer.put(line, x: 1, y: y + 1 + i, style: line.hasPrefix("last hit") ? theme.error : .plain)
        }
    }
}

/// A run of bytes that differs from the snapshot, with the first bytes of both sides for the diff pane.
package struct DiffRun: Equatable, Sendable {
    package var offset: Int
    package var length: Int
    /// Up to `previewBytes` of the snapshot's bytes and of the segment's now.
    package var old: [UInt8]
    package var new: [UInt8]

    package static let previewBytes = 8

    package init(offset: Int, length: Int, old: [UInt8], new: [UInt8]) {
        self.offset = offset
        self.length = length
        self.old = old
        self.new = new
    }

    package init(_ change: ByteChange) {
        self.init(
            offset: change.offset, length: change.length, old: Array((change.old ?? []).prefix(Self.previewBytes)),
            new: Array(change.new.prefix(Self.previewBytes)))
    }

    package var range: Range<Int> { offset..<(offset + length) }
}

/// `]` / `[`: the run after the one at `from` (forward), or the nearest run that starts before `from` (backward:
/// inside a run, its own start first, as vim's `[c`), wrapping round once. The index of the run, and whether it
/// wrapped.
package func nextDiffRun(_ runs: [DiffRun], from: Int, forward: Bool) -> (index: Int, wrapped: Bool)? {
    guard !runs.isEmpty else { return nil }
    if forward {
        if let i = runs.firstIndex(where: { $0.offset > from }) { return (i, false) }
        return (0, true)
    }
    if let i = runs.lastIndex(where: { $0.offset < from }) { return (i, false) }
    return (runs.count - 1, true)
}

/// The diff pane's rows: the runs, scrolled so the one at (or after) the cursor shows; that run is the selected one.
package func diffPaneSelection(_ s: HexViewState) -> Int? {
    guard !s.diffRuns.isEmpty else { return nil }
    return s.diffRuns.firstIndex { $0.offset + $0.length > s.cursor } ?? s.diffRuns.count - 1
}

/// The first run shown in a pane of `rows` rows: the selection stays in view.
package func diffPaneTop(_ s: HexViewState, rows: Int) -> Int {
    guard let selected = diffPaneSelection(s), rows > 0 else { return 0 }
    return max(0, min(selected - rows / 2, s.diffRuns.count - rows))
}

private func diffPaneTitle(_ s: HexViewState) -> String {
    guard s.snapshot != nil else { return "Diff: no snapshot (s takes one, O loads one)" }
    let n = s.diffRuns.count
    let bytes = s.diffRuns.reduce(0) { $0 + $1.length }
    let more = s.diffRunsTruncated ? "+" : ""
    return "Diff: \(n)\(more) run\(n == 1 ? "" : "s"), \(bytes)\(more) byte\(bytes == 1 ? "" : "s") differ; ] [ jump, click selects"
}

/// One line per run: `0x00000010  4  de ad be ef → 00 00 00 00` (old → new, the first 8 bytes of each).
package func diffRunLine(_ r: DiffRun) -> String {
    func hex(_ b: [UInt8], _ total: Int) -> String {
        b.map(hexByte).joined(separator: " ") + (total > b.count ? " …" : "")
    }
    return "0x\(hexPadded(r.offset, width: 8)) \(String(r.length).leftPadded(6))  \(hex(r.old, r.length)) → \(hex(r.new, r.length))"
}

private func drawDiffRuns(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int, rows: Int) {
    guard s.snapshot != nil else {
        buffer.put("no snapshot: press s to take one, or O to load one", x: 1, y: y)
        return
    }
    if s.diffRuns.isEmpty {
        buffer.put("no byte differs from the snapshot", x: 1, y: y)
        return
    }
    let top = diffPaneTop(s, rows: rows)
    let selected = diffPaneSelection(s)
    for (i, run) in s.diffRuns[top...].prefix(rows).enumerated() {
        let style = top + i == selected ? theme.selection : Style.plain
        buffer.put(diffRunLine(run), x: 1, y: y + i, style: style)
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
    let geometry = ActivityGeometry(width: buffer.width, size: s.size)
    let cellRows = rows >= 2 ? rows - 1 : rows
    let cursorCell = s.cursor / a.bytesPerCell
    for (i, last) in a.lastChange.enumerated() {
        let row = i / geometry.columns
        guard row < cellRows else { break }
        if i % geometry.columns == 0 {
            buffer.put(
                hexPadded(i * a.bytesPerCell, width: geometry.labelWidth - 1), x: 1, y: y + row, style: theme.heading)
        }
        var style = theme.activity(age: s.now - last)
        if i == cursorCell { style.reverse = true }
        buffer.put(
            String(ActivitySummary.glyph(count: a.counts[i])), x: geometry.x(column: i % geometry.columns), y: y + row,
            style: style)
    }
    if rows >= 2 { drawActivityLegend(theme: theme, into: &buffer, y: y + rows - 1) }
}

/// The map's legend, in the styles the cells use: glyphs count changes, colours say how long ago the last one was.
private func drawActivityLegend(theme: Theme, into buffer: inout ScreenBuffer, y: Int) {
    var x = buffer.put("· none  1-9 changes  * 10+  last change:", x: 1, y: y, style: theme.heading)
    for (text, age) in [("<1s", 0.5), ("<10s", 5.0), ("older", 60.0), ("never", Double.infinity)] {
        x = buffer.put(" ", x: x, y: y)
        x = buffer.put(text, x: x, y: y, style: theme.activity(age: age))
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

/// One row per member (arrays expand: `temps[0]`, `temps[1]`, …), scrolled to keep the member under the cursor in
/// view and highlighted; a value that just changed fades like a changed byte.
private func drawLayoutTable(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int, rows: Int) {
    guard let layout = s.structLayout else {
        buffer.put("no layout: start with --layout FILE", x: 1, y: y)
        return
    }
    let range = layoutRows(s, rows: rows)
    let members = range.compactMap { layout.member(ordinal: $0) }
    let here = s.structLayout?.ordinal(covering: s.cursor)
    let nameWidth = members.map(\.path.count).max() ?? 0
    let typeWidth = members.map(\.typeName.count).max() ?? 0
    for (i, m) in members.enumerated() {
        let age = s.layoutChangedAt[m.ordinal].map { s.now - $0 } ?? .infinity
        let level = age < 0 ? 3 : age < HexViewState.fadeSeconds ? 3 - Int(age / (HexViewState.fadeSeconds / 3)) : 0
        let text =
            "\(m.path.padding(nameWidth)) \(m.typeName.padding(typeWidth)) @0x\(hexPadded(m.offset, width: 4)) "
        let x = buffer.put(text, x: 1, y: y + i, style: m.ordinal == here ? theme.selection : .plain)
        let value = m.decode(s.layoutFrame.bytes, base: s.layoutFrame.offset).display
        buffer.put(value, x: x, y: y + i, style: level > 0 ? theme.changed(level: level) : .plain)
    }
}

/// The members the layout pane shows in `rows` rows: from the top, or scrolled so the one under the cursor (or the
/// next after it, in padding) sits a third of the way down.
package func layoutRows(_ s: HexViewState, rows: Int) -> Range<Int> {
    guard let layout = s.structLayout, rows > 0 else { return 0..<0 }
    let n = layout.memberCount
    guard n > rows else { return 0..<n }
    let focus =
        layout.ordinal(covering: s.cursor)
        ?? layout.nextFieldStart(after: s.cursor).flatMap { layout.ordinal(covering: $0) } ?? n - 1
    let first = max(0, min(n - rows, focus - rows / 3))
    return first..<(first + rows)
}

extension String {
    /// Right-aligned in `width` columns (never cut).
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    /// Left-aligned in `width` columns (never cut).
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
