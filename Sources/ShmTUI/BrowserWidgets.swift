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
        .lock: fit(.lock, 4, 48), .ns: fit(.ns, 2, 24),
    ]
    // The namespace column leads, and only when a row is in another namespace than ours.
    var shown = BrowserColumn.allCases.filter { $0 != .ns }
    if rows.contains(where: { $0.namespacePID != nil }) { shown.insert(.ns, at: 0) }
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
    let messageY = s.height - 2
    switch s.mode {
    case .prompt(let kind, let text):
        let label = kind == .filter ? "Filter: " : "Open (qt:KEY, /name, sysv:0xKEY, shmid:N): "
        let x = b.put(label + text, x: 0, y: messageY, style: theme.heading)
        b.put(" ", x: x, y: messageY, style: theme.cursor)
    default:
        if let m = s.message { b.put(m.text, x: 0, y: messageY, style: m.isError ? theme.error : .plain) }
    }
    drawKeyBar(browserKeyBar, theme: theme, into: &b, y: s.height - 1)
    if case .help(let scroll) = s.mode {
        drawOverlay(title: "Keys", lines: browserHelpLines, scroll: scroll, theme: theme, into: &b)
    }
    return b
}

/// Pads or cuts `text` to exactly `width` columns; a cut shows `…`.
func aligned(_ text: String, width: Int, right: Bool) -> String {
    if text.count > width { return String(text.prefix(max(0, width - 1))) + "…" }
    let pad = String(repeating: " ", count: width - text.count)
    return right ? pad + text : text + pad
}
