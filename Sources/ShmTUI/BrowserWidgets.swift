/// Where each browser column goes. Columns that do not fit are dropped, least useful first, so 40 columns still
/// show kind, key, size and lock.
package func browserColumns(width: Int, rows: [BrowserRow]) -> [(column: BrowserColumn, x: Int, width: Int)] {
    let longestKey = rows.map(\.key.count).max() ?? 0
    var widths: [BrowserColumn: Int] = [
        .kind: 7, .key: min(34, max(10, longestKey)), .id: 6, .size: 10, .perms: 5, .owner: 8, .nattch: 4,
        .lock: 16, .attached: 8,
    ]
    var shown = BrowserColumn.allCases
    func total() -> Int { shown.reduce(0) { $0 + widths[$1]! } + shown.count - 1 }
    for drop in [BrowserColumn.attached, .owner, .perms, .id, .nattch] where total() > width {
        shown.removeAll { $0 == drop }
    }
    if total() > width { widths[.key] = max(6, widths[.key]! - (total() - width)) }
    // The attached-commands column takes whatever is left over.
    if shown.contains(.attached) { widths[.attached]! += max(0, width - total()) }
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

    let columns = browserColumns(width: s.width, rows: s.rows)
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
