/// Where each browser column goes. What this tool is for decides the order of sacrifice: the key, who is attached
/// and who holds the lock are never dropped, and are cut only when every other column is gone and they still do not
/// fit (the lock last). Perms, owner, id, attach count, size and kind go first, in that order. Widths fit the rows
/// given (the ones the filter shows), so a hidden row with a long key takes no room.
package func browserColumns(width: Int, rows: [BrowserRow]) -> [(column: BrowserColumn, x: Int, width: Int)] {
    func fit(_ c: BrowserColumn, _ lo: Int, _ hi: Int) -> Int {
        let longest = rows.map { c.text($0).count }.max() ?? 0
        return min(hi, max(lo, c.title.count, longest))
    }
    var widths: [BrowserColumn: Int] = [
        .kind: fit(.kind, 4, 9), .key: fit(.key, 10, 40), .id: fit(.id, 2, 10), .size: fit(.size, 4, 10),
        .perms: fit(.perms, 5, 10), .owner: fit(.owner, 5, 12), .nattch: 4, .attached: fit(.attached, 8, 32),
        .lock: fit(.lock, 4, 48),
    ]
    var shown = BrowserColumn.allCases
    func total() -> Int { shown.reduce(0) { $0 + widths[$1]! } + shown.count - 1 }
    for drop in [BrowserColumn.perms, .owner, .id, .nattch, .size, .kind] where total() > width {
        shown.removeAll { $0 == drop }
    }
    // Still too wide: cut the key and the attached list in turns, the lock only after both are short.
    let cuts: [(BrowserColumn, Int)] = [
        (.key, 24), (.attached, 13), (.key, 12), (.attached, 8), (.lock, 12), (.attached, 3), (.key, 6), (.lock, 4),
    ]
    for (column, floor) in cuts where total() > width {
        widths[column] = max(floor, widths[column]! - (total() - width))
    }
    // Room to spare goes to the attached list, then the key, so neither is cut while space is left.
    for column in [BrowserColumn.attached, .key] where total() < width {
        let want = rows.map { column.text($0).count }.max() ?? 0
        widths[column]! += max(0, min(width - total(), want - widths[column]!))
    }
    var x = 0
    var out: [(BrowserColumn, Int, Int)] = []
    for c in shown {
        out.append((c, x, widths[c]!))
        x += widths[c]! + 1
    }
    return out
}

package func renderBrowserScreen(_ s: BrowserState, theme: Theme) -> ScreenBuffer {
    var b = ScreenBuffer(width: s.width, height: s.height)
    if s.width < HexViewState.minWidth || s.height < HexViewState.minHeight {
        drawTooSmall(into: &b)
        return b
    }
    let visible = s.visible
    b.fill(y: 0, style: theme.status)
    var title = " shmscope │ \(s.rows.count) segment\(s.rows.count == 1 ? "" : "s")"
    if !s.filter.isEmpty { title += " │ \(visible.count) match \"\(s.filter)\"" }
    title += " │ sorted by \(s.sortColumn.title.lowercased()) \(s.ascending ? "↑" : "↓")"
    if s.intervalMS != BrowserState().intervalMS { title += " │ rescan every \(rescanText(s.intervalMS))" }
    b.put(title, x: 0, y: 0, style: theme.status)

    let columns = browserColumns(width: s.width, rows: visible)
    for (column, x, w) in columns {
        var style = theme.heading
        style.underline = column == s.sortColumn
        b.put(aligned(column.title, width: w, right: column.rightAligned), x: x, y: 1, style: style)
    }
    if visible.isEmpty {
        let lines =
            s.rows.isEmpty
            ? [
                "No shared-memory segments found.", "",
                "o opens one by name: qt:KEY, /name, sysv:0xKEY, shmid:N", "F5 rescans, q quits.",
            ]
            : ["No segment matches \"\(s.filter)\".", "Esc clears the filter."]
        for (i, line) in lines.enumerated() {
            b.put(line, x: max(0, (s.width - line.count) / 2), y: 3 + i, style: i == 0 ? theme.heading : .plain)
        }
    }
    for i in 0..<s.tableRows {
        let index = s.top + i
        guard index < visible.count else { break }
        let row = visible[index]
        let y = 2 + i
        let rowStyle = index == s.selection ? theme.selection : Style.plain
        if index == s.selection { b.fill(y: y, style: rowStyle) }
        for (column, x, w) in columns {
            var style = rowStyle
            if column == .lock, index != s.selection, row.lock.hasPrefix("held") { style = theme.error }
            b.put(aligned(column.text(row), width: w, right: column.rightAligned), x: x, y: y, style: style)
        }
    }
    if s.infoRows > 0 { drawInfoPane(s, theme: theme, into: &b, y: 2 + s.tableRows, rows: s.infoRows) }
    let messageY = s.height - 2
    switch s.mode {
    case .prompt(let p):
        drawPromptLine(label: p.kind.label.terminalSafe(), line: p.line, theme: theme, into: &b, y: messageY)
    case .confirmRemove(let plan):
        if let m = s.message, m.isError {
            b.put(m.text, x: 0, y: messageY, style: theme.error)
        } else {
            b.put(
                plan.attachedCount > 0 ? "Remove although attached? (!/n)" : "Remove? (y/n)", x: 0, y: messageY,
                style: theme.error)
        }
    default:
        if let m = s.message { b.put(m.text, x: 0, y: messageY, style: m.isError ? theme.error : .plain) }
    }
    drawKeyBar(browserKeyBar, theme: theme, into: &b, y: s.height - 1)
    switch s.mode {
    case .help(let scroll):
        drawOverlay(title: "Keys", lines: browserHelpLines, scroll: scroll, theme: theme, into: &b)
    case .confirmRemove(let plan):
        drawOverlay(title: "Remove", lines: removalLines(plan), scroll: 0, theme: theme, into: &b)
    default:
        break
    }
    return b
}

/// The info pane: a title rule naming the segment, then what `shmscope info` prints (cut to the rows it has).
func drawInfoPane(_ s: BrowserState, theme: Theme, into b: inout ScreenBuffer, y: Int, rows: Int) {
    var name = s.infoTarget.map { "\($0)".terminalSafe() } ?? "…"
    let lines = s.selected == nil ? ["no segment selected"] : s.infoLines.isEmpty ? ["looking…"] : s.infoLines
    let hidden = max(0, lines.count - (rows - 1))
    var rest = hidden > 0 ? "(\(hidden) more line\(hidden == 1 ? "" : "s")) " : ""
    rest += "─ i closes "
    // A long name is cut, never how to close the pane.
    let room = s.width - "─ info:  ".count - rest.count - 2
    if name.count > room { name = String(name.prefix(max(1, room - 1))) + "…" }
    let title = "─ info: \(name) " + rest
    b.put(title + String(repeating: "─", count: max(0, s.width - title.count)), x: 0, y: y, style: theme.border)
    for (i, line) in lines.prefix(rows - 1).enumerated() {
        b.put(line.terminalSafe(), x: 1, y: y + 1 + i, limit: s.width - 1)
    }
}

/// The remove confirmation: what goes, who is attached, and which key removes.
package func removalLines(_ plan: RemovalPreview) -> [String] {
    var lines = ["Remove \(plan.target)? This removes:"]
    lines += plan.objects.map { "  " + $0 }
    let n = plan.attachedCount
    if n == 0 {
        lines.append("Attached: no process")
        lines.append("y removes   Esc/n keeps it")
        return lines.map { $0.terminalSafe() }
    }
    lines.append("Attached: \(n) process\(n == 1 ? "" : "es") (they keep their mapping until they detach)")
    let shown = 6
    lines += plan.attached.prefix(shown).map { "  " + $0 }
    if plan.attached.count > shown { lines.append("  … and \(plan.attached.count - shown) more") }
    lines.append("! removes anyway (as rm --force)   Esc/n keeps it")
    return lines.map { $0.terminalSafe() }
}

/// Pads or cuts `text` to exactly `width` columns; a cut shows `…`.
func aligned(_ text: String, width: Int, right: Bool) -> String {
    if text.count > width { return String(text.prefix(max(0, width - 1))) + "…" }
    let pad = String(repeating: " ", count: width - text.count)
    return right ? pad + text : text + pad
}
