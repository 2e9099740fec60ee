import ShmCore

/// Draws the whole hex view for `s` (or the too-small notice).
package func renderHexScreen(_ s: HexViewState, theme: Theme) -> ScreenBuffer {
    var buffer = ScreenBuffer(width: s.width, height: s.height)
    if s.tooSmall {
        drawTooSmall(into: &buffer)
        return buffer
    }
    drawStatusLine(s, theme: theme, into: &buffer, y: 0)
    for row in 0..<s.visibleRows { drawHexRow(s, row: row, theme: theme, into: &buffer, y: 1 + row) }
    drawPanel(s, theme: theme, into: &buffer, y: 1 + s.visibleRows, rows: s.panelRows)
    drawMessageLine(s, theme: theme, into: &buffer, y: s.height - 2)
    if case .prompt(let p) = s.mode, !p.candidates.isEmpty {
        drawCandidates(p.candidates, theme: theme, into: &buffer, y: s.height - 1)
    } else if case .prompt = s.mode, let m = s.message, m.isError {
        buffer.put(m.text, x: 0, y: s.height - 1, style: theme.error)
    } else {
        drawKeyBar(keyBar(for: s), theme: theme, into: &buffer, y: s.height - 1)
    }
    switch s.mode {
    case .help(let scroll):
        drawOverlay(title: "Keys", lines: helpLines, scroll: scroll, theme: theme, into: &buffer)
    case .commitDialog(let plan):
        drawOverlay(title: "Commit", lines: commitDialogLines(plan), scroll: 0, theme: theme, into: &buffer)
    default:
        break
    }
    return buffer
}

/// The key bar of the view's mode: read-only, view or edit.
package func keyBar(for s: HexViewState) -> [KeyBarItem] {
    s.debug.timeline != nil ? replayKeyBar : s.readOnly ? readOnlyKeyBar : s.editing ? editKeyBar : hexKeyBar
}

/// A replay: stepping, seeking, playing and breakpoints first.
package let replayKeyBar: [KeyBarItem] = [
    KeyBarItem("F1", "Help "), KeyBarItem(".", "Next "), KeyBarItem(",", "Prev "), KeyBarItem("T", "Seek "),
    KeyBarItem("p", "Play "), KeyBarItem("P", "Speed "), KeyBarItem("B", "Break "), KeyBarItem("W", "Who "),
    KeyBarItem("F7", "Pane "), KeyBarItem("q", "Quit "),
]

/// The commit dialog's text: how many bytes at which offsets, under which lock, who has the segment attached,
/// and what `y` (or `!`) will do.
package func commitDialogLines(_ plan: CommitPlan) -> [String] {
    let n = plan.byteCount
    var lines = ["Write \(n) byte\(n == 1 ? "" : "s") in \(plan.runs.count) run\(plan.runs.count == 1 ? "" : "s"):"]
    let shown = 4
    for run in plan.runs.prefix(shown) {
        let k = run.bytes.count
        let preview = run.bytes.prefix(8).map { hexByte($0) }.joined(separator: " ") + (k > 8 ? " …" : "")
        lines.append("  0x\(hexPadded(run.offset, width: 8)) \(k) byte\(k == 1 ? "" : "s"): \(preview)")
    }
    if plan.runs.count > shown { lines.append("  … and \(plan.runs.count - shown) more runs") }
    if plan.noLock {
        lines.append("Lock: NOT TAKEN (--no-lock)" + (plan.lock.map { "; the segment's is \($0)" } ?? ""))
    } else {
        lines.append("Lock: " + (plan.lock ?? "none (no lock shmscope can take)"))
    }
    if let reason = plan.who.unavailable {
        lines.append("Attached: unknown (\(reason))")
    } else if plan.who.attached.isEmpty {
        lines.append("Attached: no process found")
    } else {
        lines.append("Attached:")
        for p in plan.who.attached.prefix(4) {
            lines.append("  pid \(p.pid) \(p.command) (\(p.access.rawValue))")
        }
        if plan.who.attached.count > 4 { lines.append("  … and \(plan.who.attached.count - 4) more") }
    }
    if plan.noLock {
        lines.append("y writes WITHOUT the lock (--no-lock)   Esc/n cancels")
    } else {
        lines.append(
            plan.lock == nil
                ? "! writes WITHOUT a lock   Esc/n cancels" : "y writes under the lock   Esc/n cancels")
    }
    return lines
}

/// ` qt:demo (Qt SysV) 4096 B VIEW │ (VIEW, EDIT, or RO when the view may never write) unlocked │ @0x00000010 │ 10 Hz`, then `│ PAUSED` and the staged count;
/// it fits 80 columns in every lock state.
/// The lock part is coloured when someone other than nobody holds it.
package func drawStatusLine(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int) {
    buffer.fill(y: y, style: theme.status)
    let lockText: String
    let lockStyle: Style
    switch (s.lockWait, s.lock) {
    case (.some, .heldBy):
        lockText = "waiting… " + s.lock.holderText
        lockStyle = theme.statusAlert
    case (.some, _):
        lockText = "waiting…"
        lockStyle = theme.statusAlert
    case (nil, .lockedByUs):
        lockText = s.lock.text
        lockStyle = theme.statusOurs
    case (nil, .heldBy):
        lockText = s.lock.text
        lockStyle = theme.statusAlert
    default:
        lockText = s.lock.text
        lockStyle = theme.status
    }
    let rate = 1000 % s.intervalMS == 0 ? "\(1000 / s.intervalMS) Hz" : "every \(s.intervalMS) ms"
    let mode = s.readOnly ? "RO" : s.editing ? "EDIT" : "VIEW"
    // What a narrow terminal gives up, in order: the rate, the kind, the size, the DIFF and PAUSED flags; then the
    // target is cut to a floor, the layout field's name goes, and the target and the lock are cut (to a floor, then
    // further). The mode, the staged count and the cursor offset stay to the last.
    var target = s.target
    var kind: String? = " (\(s.kind))"
    var size: String? = " \(s.size) B"
    // A replay has no lock: its place shows the timeline (position, time of day, change n of N).
    var lock = s.debug.timeline.map { $0.text + (s.debug.playing.map { " ▶ \(speedText($0))" } ?? "") } ?? lockText
    var rateText: String? = " │ \(rate)"
    var paused: String? = s.paused ? " │ PAUSED" : nil
    var diff: String? = s.diffMode ? " │ DIFF" : nil
    let removed = s.removed ? " │ REMOVED" : ""
    let staged = s.staged.isEmpty ? "" : " │ \(s.staged.count) staged"
    let cursor = " │ @0x\(hexPadded(s.cursor, width: 8))"
    // The layout field under the cursor; a long path keeps its end (`…items[3].x`), the part that tells fields apart.
    var field: String? = s.fieldAtCursor.map {
        " " + ($0.path.count > 28 ? "…" + $0.path.suffix(27) : $0.path).terminalSafe()
    }
    func total() -> Int {
        1 + target.count + (kind?.count ?? 0) + (size?.count ?? 0) + 1 + mode.count + 3 + lock.count + cursor.count
            + (field?.count ?? 0) + (rateText?.count ?? 0) + (paused?.count ?? 0) + (diff?.count ?? 0)
            + removed.count + staged.count
    }
    func cut(_ text: String, to floor: Int) -> String {
        let over = total() - buffer.width
        guard over > 0, text.count > floor else { return text }
        let keep = max(floor, text.count - over)
        return keep <= 1 ? String(text.prefix(keep)) : String(text.prefix(keep - 1)) + "…"
    }
    if total() > buffer.width { rateText = nil }
    if total() > buffer.width { kind = nil }
    if total() > buffer.width { size = nil }
    if total() > buffer.width { diff = nil }
    if total() > buffer.width { paused = nil }
    target = cut(target, to: 12)
    if total() > buffer.width { field = nil }
    lock = cut(lock, to: 12)
    target = cut(target, to: 1)
    lock = cut(lock, to: 0)
    var x = buffer.put(" \(target)\(kind ?? "")\(size ?? "") ", x: 0, y: y, style: theme.status)
    x = buffer.put(mode, x: x, y: y, style: s.editing ? theme.statusAlert : theme.status)
    x = buffer.put(" │ ", x: x, y: y, style: theme.status)
    x = buffer.put(lock, x: x, y: y, style: s.debug.timeline != nil ? theme.statusOurs : lockStyle)
    let tail = cursor + (field ?? "") + (rateText ?? "") + (paused ?? "") + (diff ?? "") + removed + staged
    buffer.put(tail, x: x, y: y, style: theme.status)
}

/// One row: offset, hex bytes, text column. Staged bytes show in their own style, recently changed bytes fade,
/// the cursor is reversed in the active pane and underlined in the other.
package func drawHexRow(_ s: HexViewState, row: Int, theme: Theme, into buffer: inout ScreenBuffer, y: Int) {
    let layout = s.layout
    let rowOffset = s.top + row * layout.bytesPerRow
    guard rowOffset < s.size else { return }
    buffer.put(hexPadded(rowOffset, width: 8), x: 0, y: y, style: theme.offset)
    buffer.put("|", x: layout.barX, y: y, style: theme.offset)
    let count = min(layout.bytesPerRow, s.size - rowOffset)
    buffer.put("|", x: layout.asciiX(count), y: y, style: theme.offset)
    for i in 0..<count {
        let offset = rowOffset + i
        guard let byte = s.displayed(offset) else {
            buffer.put("??", x: layout.hexX(i), y: y, style: Style(dim: true))
            buffer.put("?", x: layout.asciiX(i), y: y, style: Style(dim: true))
            continue
        }
        var style = theme.byte(byte)
        if let ordinal = s.structLayout?.ordinal(covering: offset) { style = theme.fieldTint(style, ordinal: ordinal) }
        if s.staged[offset] != nil {
            style = theme.staged
        } else if s.debug.hitCovers(offset) {
            style = theme.breakpointHit
        } else if s.differsFromSnapshot(offset) {
            style = theme.diff
        } else {
            let level = s.changeLevel(offset)
            if level > 0 { style = theme.changed(level: level) }
        }
        var hexStyle = style
        var asciiStyle = style
        if offset == s.cursor {
            if s.pane == .hex {
                hexStyle.reverse = true
                asciiStyle.underline = true
            } else {
                asciiStyle.reverse = true
                hexStyle.underline = true
            }
        }
        buffer.put(hexByte(byte), x: layout.hexX(i), y: y, style: hexStyle)
        // A field's tint runs through the gaps between its bytes, so it reads as one block.
        if let ordinal = s.structLayout?.ordinal(covering: offset), i + 1 < count,
            s.structLayout?.ordinal(covering: offset + 1) == ordinal
        {
            let gap = theme.fieldTint(.plain, ordinal: ordinal)
            for x in (layout.hexX(i) + 2)..<layout.hexX(i + 1) { buffer.put(" ", x: x, y: y, style: gap) }
        }
        buffer.put(String(ByteClass.glyph(byte)), x: layout.asciiX(i), y: y, style: asciiStyle)
    }
}

/// The line above the key bar: a prompt, the quit question, the lock wait, or the last message.
package func drawMessageLine(_ s: HexViewState, theme: Theme, into buffer: inout ScreenBuffer, y: Int) {
    switch s.mode {
    case .prompt(let p):
        let label: String
        switch p.kind {
        case .goto: label = "Go to (123, 0x7b, 4K, $, 0x40+8, +16): "
        case .command: label = ":"
        case .search: label = "Search (text, or x de ad): "
        case .searchBackward: label = "Search backward (text, or x de ad): "
        case .saveStaged: label = "Save staged bytes (a snapshot) to file: "
        case .value: label = "Write value (u32 7, i16be -2, f64 1.5): "
        case .saveSnapshot: label = "Save snapshot to file: "
        case .loadSnapshot: label = "Load snapshot from file: "
        case .field: label = "Field (hdr.state, items[2].x, counter[3]): "
        case .replaceSnapshot(let path): label = "\(path.terminalSafe()) exists. Replace it? (y/N, Enter): "
        case .breakpoint(let freeze):
            label = "Breakpoint [Tab: \(freeze ? "FREEZE on hit" : "no freeze")] (state == 3, changed(u32@0x40)): "
        case .seekTime: label = "Seek to (+12.5s from the start, or 2026-11-27T12:00:01.234Z): "
        case .playSpeed: label = "Play at speed (1 as recorded, 4, 0.5): "
        case .deleteBreakpoint: label = "Remove breakpoints (numbers, or * for all): "
        }
        drawPromptLine(label: label, line: p.line, theme: theme, into: &buffer, y: y)
        return
    case .confirmQuit:
        let n = s.staged.count
        buffer.put(
            "\(n) staged byte\(n == 1 ? "" : "s") not written. Quit anyway? (y/n)", x: 0, y: y, style: theme.error)
        return
    case .confirmDiscard:
        let n = s.staged.count
        buffer.put("Discard \(n) staged byte\(n == 1 ? "" : "s")? (y/n)", x: 0, y: y, style: theme.error)
        return
    case .commitDialog(let plan):
        if let m = s.message, m.isError {
            buffer.put(m.text, x: 0, y: y, style: theme.error)
        } else {
            buffer.put(
                plan.lock == nil ? "Commit without a lock? (!/n)" : "Commit? (y/n)", x: 0, y: y, style: theme.heading)
        }
        return
    default:
        break
    }
    if s.lockWait != nil {
        let who = s.lock.holderText.isEmpty ? "" : " held by " + s.lock.holderText
        buffer.put("waiting for lock\(who)… Esc cancels", x: 0, y: y, style: theme.error)
        return
    }
    if let m = s.message { buffer.put(m.text, x: 0, y: y, style: m.isError ? theme.error : .plain) }
}

/// A prompt: its label, the line being typed and the cursor in it. A line too long for the screen scrolls so the
/// cursor stays in view (the label goes first).
package func drawPromptLine(label: String, line: LineEditor, theme: Theme, into buffer: inout ScreenBuffer, y: Int) {
    let chars = line.characters.map { String($0).terminalSafe() }
    var labelText = label
    // Room for the text and the cursor cell after it: up to 10 columns are taken from the label's start.
    let want = min(10, chars.count + 1)
    if labelText.count + want > buffer.width {
        labelText = "…" + String(labelText.suffix(max(0, buffer.width - want - 1)))
    }
    let room = buffer.width - labelText.count - 1
    var first = 0
    if line.cursor > room { first = line.cursor - room }
    var x = buffer.put(labelText, x: 0, y: y, style: theme.heading)
    if first > 0 { x = buffer.put("…", x: x, y: y, style: theme.heading) ; first += 1 }
    for (i, c) in chars.enumerated().dropFirst(first) where x < buffer.width {
        x = buffer.put(c, x: x, y: y, style: i == line.cursor ? theme.cursor : theme.heading)
    }
    if line.cursor == chars.count, x < buffer.width { buffer.put(" ", x: x, y: y, style: theme.cursor) }
}

/// Tab's candidates at a file prompt, on the key bar's line while there are several.
package func drawCandidates(_ candidates: [String], theme: Theme, into buffer: inout ScreenBuffer, y: Int) {
    buffer.fill(y: y, style: .plain)
    var x = buffer.put("\(candidates.count) match: ", x: 0, y: y, style: theme.keyName)
    for (i, c) in candidates.enumerated() {
        let name = c.terminalSafe()
        let rest = candidates.count - i
        if x + name.count + 2 > buffer.width - (rest > 1 ? 8 : 0) {
            buffer.put("+\(rest) more", x: x, y: y, style: theme.keyName)
            return
        }
        x = buffer.put(name + "  ", x: x, y: y, style: .plain)
    }
}

/// htop's bottom bar: `F1` then its label with the letter alias.
package struct KeyBarItem: Equatable, Sendable {
    package var key: String
    package var label: String
    /// Where the bar is too narrow, the lowest priority goes first (Quit, at 9, last of all).
    package var priority: Int

    package init(_ key: String, _ label: String, priority: Int = 5) {
        self.key = key
        self.label = label
        self.priority = priority
    }

    var width: Int { key.count + label.count }
}

/// View mode: every key navigates or inspects; `e` enters edit mode. F-keys in F-number order, as htop's.
package let hexKeyBar: [KeyBarItem] = [
    KeyBarItem("F1", "Help ", priority: 8), KeyBarItem("e", "Edit ", priority: 7),
    KeyBarItem("F2", "Lock L ", priority: 3), KeyBarItem("F3", "Unlock U ", priority: 2),
    KeyBarItem("F4", "Goto : ", priority: 5), KeyBarItem("F5", "Pause p ", priority: 2),
    KeyBarItem("F6", "Find / ", priority: 5), KeyBarItem("F7", "Pane ", priority: 1),
    KeyBarItem("F8", "Commit ", priority: 6), KeyBarItem("F9", "Snap s ", priority: 1),
    KeyBarItem("F10", "Quit q ", priority: 9),
]

/// Edit mode: the bar says EDIT first; keys stage bytes, Esc returns to view mode.
package let editKeyBar: [KeyBarItem] = [
    KeyBarItem("EDIT", " ", priority: 10), KeyBarItem("Esc", "View ", priority: 8),
    KeyBarItem("BS", "Undo ", priority: 6), KeyBarItem("Tab", "Pane ", priority: 3),
    KeyBarItem("F1", "Help ", priority: 5), KeyBarItem("F2", "Lock ", priority: 2),
    KeyBarItem("F4", "Goto ", priority: 4), KeyBarItem("F8", "Commit ", priority: 7),
    KeyBarItem("F10", "Quit ", priority: 9),
]

/// Read-only (`watch`, `open --read-only`): no Edit, Lock, Unlock or Commit; those keys answer "read-only".
package let readOnlyKeyBar: [KeyBarItem] = [
    KeyBarItem("F1", "Help ", priority: 8), KeyBarItem("F4", "Goto : ", priority: 5),
    KeyBarItem("F5", "Pause p ", priority: 3), KeyBarItem("F6", "Find / ", priority: 5),
    KeyBarItem("F7", "Pane ", priority: 2), KeyBarItem("F9", "Snap s ", priority: 2),
    KeyBarItem("F10", "Quit q ", priority: 9),
]

/// The items that fit `width`, in their order: while too wide, the lowest priority goes (the rightmost of equals).
package func fittingKeyBar(_ items: [KeyBarItem], width: Int) -> [KeyBarItem] {
    var shown = items
    while !shown.isEmpty, shown.reduce(0, { $0 + $1.width }) > width {
        let lowest = shown.map(\.priority).min()!
        shown.remove(at: shown.lastIndex { $0.priority == lowest }!)
    }
    return shown
}

package func drawKeyBar(_ items: [KeyBarItem], theme: Theme, into buffer: inout ScreenBuffer, y: Int) {
    var x = 0
    // Only whole items: a cut-off label reads as a different key.
    for item in fittingKeyBar(items, width: buffer.width) {
        x = buffer.put(item.key, x: x, y: y, style: theme.keyName)
        x = buffer.put(item.label, x: x, y: y, style: theme.keyLabel)
    }
}

/// A bordered box in the middle of the screen; `scroll` skips lines when it does not fit.
package func drawOverlay(
    title: String, lines: [String], scroll: Int, theme: Theme, into buffer: inout ScreenBuffer
) {
    let innerWidth = min(buffer.width - 4, max(title.count + 4, lines.map(\.count).max() ?? 0))
    let innerHeight = min(buffer.height - 2, lines.count)
    guard innerWidth > 0, innerHeight > 0 else { return }
    let left = (buffer.width - innerWidth - 4) / 2
    let topY = (buffer.height - innerHeight - 2) / 2
    let first = max(0, min(scroll, lines.count - innerHeight))
    let horizontal = String(repeating: "─", count: innerWidth + 2)
    buffer.put("┌" + horizontal + "┐", x: left, y: topY, style: theme.border)
    buffer.put(" \(title) ", x: left + 2, y: topY, style: theme.heading)
    for i in 0..<innerHeight {
        let y = topY + 1 + i
        buffer.put("│", x: left, y: y, style: theme.border)
        buffer.fill(y: y, x: left + 1, count: innerWidth + 2, style: .plain)
        buffer.put(lines[first + i], x: left + 2, y: y, limit: innerWidth)
        buffer.put("│", x: left + innerWidth + 3, y: y, style: theme.border)
    }
    buffer.put("└" + horizontal + "┘", x: left, y: topY + innerHeight + 1, style: theme.border)
    if first + innerHeight < lines.count {
        buffer.put(" more: j/↓ ", x: left + 2, y: topY + innerHeight + 1, style: theme.heading)
    }
}

/// Shown instead of everything else below 40×10.
package func drawTooSmall(into buffer: inout ScreenBuffer) {
    let lines = ["terminal too small", "need \(HexViewState.minWidth)x\(HexViewState.minHeight)"]
    for (i, line) in lines.enumerated() {
        let y = buffer.height / 2 - 1 + i
        buffer.put(line, x: max(0, (buffer.width - line.count) / 2), y: y, style: Style(bold: i == 0))
    }
}
