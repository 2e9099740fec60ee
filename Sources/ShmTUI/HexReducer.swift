import ShmCore

/// The hex view's reducer: the only place state changes. Pure: side effects come back as `HexEffect`s.
package func reduce(_ s: inout HexViewState, _ action: HexAction) -> [HexEffect] {
    // A count applies to the next key only (the key map already folded it into the action).
    if !action.isResult {
        if case .countDigit = action {} else { s.pendingCount = nil }
    }
    switch action {
    case .countDigit(let digit):
        s.pendingCount = min(1_000_000, (s.pendingCount ?? 0) * 10 + digit)
        return []
    case .halfPage(let halves):
        return moveCursor(&s, to: s.cursor + halves * max(1, s.visibleRows / 2) * s.bytesPerRow, keepInside: true)
    case .stepValue(let steps): return stepValue(&s, steps)
    case .move(let delta): return moveCursor(&s, to: s.cursor + delta)
    case .moveRows(let rows): return moveCursor(&s, to: s.cursor + rows * s.bytesPerRow, keepInside: true)
    case .page(let pages): return moveCursor(&s, to: s.cursor + pages * s.visibleRows * s.bytesPerRow, keepInside: true)
    case .rowStart: return moveCursor(&s, to: s.cursor - s.cursor % s.bytesPerRow)
    case .rowEnd: return moveCursor(&s, to: s.cursor - s.cursor % s.bytesPerRow + s.bytesPerRow - 1)
    case .start: return moveCursor(&s, to: 0)
    case .end: return moveCursor(&s, to: s.size - 1)
    case .switchPane:
        s.pane = s.pane == .hex ? .ascii : .hex
        s.midByte = false
        if s.pane == .ascii {
            s.message = .info(
                s.editing ? "text pane: typing stages characters; Tab returns, Esc leaves edit mode" : "text pane")
        } else {
            s.message = .info("hex pane")
        }
        return []
    case .click(let x, let y):
        if s.panel == .diff, s.panelRows > 1, !s.diffRuns.isEmpty {
            // The pane's title is at 1 + visibleRows; its runs start on the row below.
            let row = y - (2 + s.visibleRows)
            let top = diffPaneTop(s, rows: s.panelRows - 1)
            if row >= 0, row < s.panelRows - 1, top + row < s.diffRuns.count {
                let run = s.diffRuns[top + row]
                s.message = .info(
                    "diff run \(top + row + 1)/\(s.diffRuns.count) at 0x\(hexPadded(run.offset, width: 8)), \(run.length) byte\(run.length == 1 ? "" : "s")")
                return moveCursor(&s, to: run.offset)
            }
        }
        if s.panel == .activity, s.panelRows > 0, s.activity.bytesPerCell > 0 {
            // The pane's title is at 1 + visibleRows; its cells start on the row below, one column in.
            let row = y - (2 + s.visibleRows)
            let geometry = ActivityGeometry(width: s.width, size: s.size)
            let column = x - geometry.x(column: 0)
            let columns = geometry.columns
            if row >= 0, row < activityCellRows(panelRows: s.panelRows), column >= 0, column < columns {
                let cell = row * columns + column
                if cell < s.activity.lastChange.count {
                    let target = min(s.size - 1, cell * s.activity.bytesPerCell)
                    s.message = .info("block at 0x\(hexPadded(target, width: 8)): changed \(s.activity.counts[cell])x")
                    return moveCursor(&s, to: target)
                }
            }
        }
        guard y >= 1, y <= s.visibleRows, let hit = s.layout.hit(x: x) else { return [] }
        let offset = s.top + (y - 1) * s.bytesPerRow + hit.index
        guard offset < s.size else { return [] }
        s.pane = hit.pane
        return moveCursor(&s, to: offset)
    case .scroll(let rows): return scroll(&s, rows: rows)
    case .resize(let width, let height):
        s.width = width
        s.height = height
        s.top -= s.top % s.bytesPerRow
        ensureCursorVisible(&s)
        return [.refreshNow, .redraw]
    case .openPrompt(let kind):
        if kind == .value, let refusal = editRefusal(s) ?? (s.editing ? nil : "view mode: press e to edit first") {
            s.message = .error(refusal)
            return []
        }
        if kind == .field, s.structLayout == nil {
            s.message = .error("no layout: start with --layout FILE (or FILE.h --struct NAME)")
            return []
        }
        if kind == .saveSnapshot, s.snapshot == nil {
            s.message = .error("no snapshot to save: press s to take one")
            return []
        }
        s.mode = .prompt(Prompt(kind: kind))
        s.message = nil
        return []
    case .promptInput(let ch):
        return reduce(&s, .promptEdit(.insert(ch)))
    case .promptBackspace:
        guard case .prompt(let p) = s.mode else { return [] }
        // Backspace on an empty line closes the prompt, as in less and vim.
        if p.line.isEmpty { s.mode = .normal; return [] }
        return reduce(&s, .promptEdit(.backspace))
    case .promptEdit(let edit):
        guard case .prompt(var p) = s.mode else { return [] }
        p.line.apply(edit, history: p.kind.historyName.map { s.history.lines($0) } ?? [])
        p.candidates = []
        s.mode = .prompt(p)
        s.message = nil
        return []
    case .promptComplete:
        guard case .prompt(let p) = s.mode, p.kind.takesFile else { return [] }
        return [.completePath(p.text)]
    case .promptCompleted(let completion):
        guard case .prompt(var p) = s.mode, p.kind.takesFile else { return [] }
        let unchanged = completion.text == p.text
        if !unchanged { p.line.set(completion.text) }
        p.candidates = completion.candidates
        s.mode = .prompt(p)
        s.message =
            unchanged && completion.candidates.isEmpty
            ? .error("no file matches \(p.text.isEmpty ? "here" : p.text.terminalSafe())") : nil
        return []
    case .promptSubmit:
        guard case .prompt(let p) = s.mode else { return [] }
        s.mode = .normal
        if let name = p.kind.historyName { s.history.add(p.text, to: name) }
        return submit(&s, p)
    case .escape:
        switch s.mode {
        case .prompt, .help, .confirmQuit, .confirmDiscard:
            s.mode = .normal
        case .commitDialog:
            s.mode = .normal
            s.message = .info("commit cancelled: \(stagedText(s)) still staged")
        case .normal:
            if s.lockWait != nil {
                s.lockWait = nil
                s.message = .info("stopped waiting for the lock")
            } else if s.editing {
                // Leaving edit mode keeps what is staged: nothing is ever dropped without a confirmation.
                s.editing = false
                s.midByte = false
                s.message = .info(
                    s.staged.isEmpty ? "view mode" : "view mode: \(stagedText(s)) staged; F8 commits, X discards")
            } else {
                s.message = nil
                s.midByte = false
            }
        }
        return []
    case .help:
        s.mode = .help(scroll: 0)
        return []
    case .helpScroll(let delta):
        guard case .help(let scroll) = s.mode else { return [] }
        s.mode = .help(scroll: max(0, min(helpLines.count - 1, scroll + delta)))
        return []
    case .repeatSearch(let forward):
        guard let q = s.lastSearch else {
            s.message = .error("no search yet: press / to search")
            return []
        }
        let direction = forward == s.lastSearchForward
        return [.search(q, from: direction ? s.cursor + 1 : s.cursor - 1, forward: direction)]
    case .togglePause:
        s.paused.toggle()
        s.message = .info(s.paused ? "paused: showing a frozen snapshot; p resumes" : "live again")
        return [s.paused ? .snapshot : .refreshNow]
    case .redraw:
        return [.redraw]
    case .lock:
        if let refusal = lockRefusal(s) {
            s.message = .error(refusal)
            return []
        }
        if s.lock == .lockedByUs {
            s.message = .info("already locked by us: U releases it")
            return []
        }
        if !s.attachedReadWrite {
            // Locking is for writing: attach read-write now (Qt's lifecycle lock is taken then, not before).
            if s.removed {
                s.message = .error("segment removed by another process: there is nothing to lock")
                return []
            }
            return [.attachReadWrite(then: .lock)]
        }
        s.lockWait = .hold
        return [.tryLock]
    case .enterEdit:
        if let refusal = editRefusal(s) {
            s.message = .error(refusal)
            return []
        }
        if s.editing {
            s.message = .info("already in edit mode: Esc leaves it")
            return []
        }
        if s.removed {
            s.message = .error("segment removed by another process: edits could never be written")
            return []
        }
        guard s.attachedReadWrite else { return [.attachReadWrite(then: .edit)] }
        enterEditMode(&s)
        return []
    case .attachedReadWrite(let then, let error):
        if let error {
            s.message = .error("cannot attach read-write: \(error)")
            return []
        }
        s.attachedReadWrite = true
        switch then {
        case .edit:
            enterEditMode(&s)
            return [.refreshNow]
        case .lock:
            s.lockWait = .hold
            return [.refreshNow, .tryLock]
        }
    case .unlock:
        if s.lockWait == .hold {
            s.lockWait = nil
            s.message = .info("stopped waiting for the lock")
            return []
        }
        guard s.lock == .lockedByUs else {
            s.message = .error("not locked by us: nothing to release")
            return []
        }
        return [.unlock]
    case .typeHex(let nibble):
        if let refusal = editRefusal(s) ?? (s.editing ? nil : "view mode: press e to edit") {
            s.message = .error(refusal)
            return []
        }
        guard s.size > 0 else { return [] }
        let current = s.displayed(s.cursor) ?? 0
        if !s.midByte {
            s.undoStack.append(StagedEdit(offset: s.cursor, previous: s.staged[s.cursor]))
            s.staged[s.cursor] = nibble << 4 | current & 0x0f
            s.midByte = true
            return []
        }
        s.staged[s.cursor] = current & 0xf0 | nibble
        s.midByte = false
        return advanceAfterEdit(&s)
    case .typeChar(let byte):
        if let refusal = editRefusal(s) ?? (s.editing ? nil : "view mode: press e to edit") {
            s.message = .error(refusal)
            return []
        }
        guard s.size > 0 else { return [] }
        s.undoStack.append(StagedEdit(offset: s.cursor, previous: s.staged[s.cursor]))
        s.staged[s.cursor] = byte
        return advanceAfterEdit(&s)
    case .undoLast:
        guard let last = s.undoStack.popLast() else {
            s.message = .info("nothing to undo")
            return []
        }
        s.staged[last.offset] = last.previous
        s.midByte = false
        s.message = .info("undid the edit at 0x\(hexPadded(last.offset, width: 8)); \(s.staged.count) staged")
        return moveCursor(&s, to: last.offset)
    case .undoAll:
        let n = s.staged.count
        s.staged = [:]
        s.undoStack = []
        s.midByte = false
        s.message = .info(n == 0 ? "nothing to undo" : "dropped \(n) staged byte\(n == 1 ? "" : "s")")
        return []
    case .commit:
        if s.readOnly {
            s.message = .error("attached read-only: nothing can be written")
            return []
        }
        guard !s.staged.isEmpty else {
            s.message = .info("nothing staged: e enters edit mode, then type hex digits or text")
            return []
        }
        if s.removed {
            // A write would go into a copy no peer can see: refuse, and offer to keep the bytes in a file.
            s.mode = .prompt(Prompt(kind: .saveStaged))
            s.message = .error(
                "segment removed by another process: not written; save the staged bytes to a file (Esc keeps them)")
            return []
        }
        guard s.attachedReadWrite else {
            s.message = .error("attached read-only: e attaches read-write")
            return []
        }
        guard s.lockWait == nil else {
            s.message = .info("waiting for the lock: Esc stops")
            return []
        }
        s.midByte = false
        return [.prepareCommit(writeRuns(s.staged))]
    case .commitPlan(let plan):
        guard s.mode == .normal, !s.staged.isEmpty else { return [] }
        s.mode = .commitDialog(plan)
        return []
    case .commitConfirm(let withoutLock):
        guard case .commitDialog = s.mode else { return [] }
        if s.removed {
            s.mode = .normal
            return reduce(&s, .commit)
        }
        if s.noLock {
            // `--no-lock` was the explicit choice, made on the command line and shown in the dialog.
            s.mode = .normal
            return [.write(writeRuns(s.staged), unlockAfter: false)]
        }
        if s.lock == .none {
            // One rule with `write --no-lock`: writing without a lock is an explicit choice, never a default.
            guard withoutLock else {
                s.message = .error("no lock: ! writes without a lock, Esc cancels")
                return []
            }
            s.mode = .normal
            return [.write(writeRuns(s.staged), unlockAfter: false)]
        }
        if withoutLock {
            s.message = .error("this segment has a lock: y writes under it")
            return []
        }
        s.mode = .normal
        if s.lock == .lockedByUs { return [.write(writeRuns(s.staged), unlockAfter: false)] }
        s.lockWait = .commit
        return [.tryLock]
    case .undoCommit:
        if s.editing {
            s.message = .info("u undoes the last commit in view mode: Esc first (Backspace undoes a staged byte)")
            return []
        }
        guard let record = s.lastCommit else {
            s.message = .info("no commit to undo")
            return []
        }
        if s.removed {
            s.message = .error("segment removed by another process: the commit cannot be undone")
            return []
        }
        guard s.lockWait == nil else {
            s.message = .info("waiting for the lock: Esc stops")
            return []
        }
        if !record.underLock || s.lock == .lockedByUs { return [.revert(record, unlockAfter: false)] }
        s.lockWait = .undoCommit
        return [.tryLock]
    case .reverted(let count, let error):
        if let error {
            s.message = .error("not undone: \(error)")
            return []
        }
        s.lastCommit = nil
        s.message = .info("undid the last commit: wrote back \(count) byte\(count == 1 ? "" : "s")")
        return [.refreshNow]
    case .discard:
        guard !s.staged.isEmpty else {
            s.message = .info("nothing staged")
            return []
        }
        s.mode = .confirmDiscard
        return []
    case .confirmDiscard(let yes):
        s.mode = .normal
        return yes ? reduce(&s, .undoAll) : []
    case .stagedSaved(let path, let error):
        s.message =
            error.map { .error("cannot save: \($0)") }
            ?? .info("staged bytes saved as a snapshot to \(path) (O loads it); still staged")
        return []
    case .quit:
        if !s.staged.isEmpty {
            s.mode = .confirmQuit
            return []
        }
        return [.quit]
    case .confirmQuit(let yes):
        s.mode = .normal
        return yes ? [.quit] : []
    case .frame(let frame, let now):
        for (i, byte) in frame.bytes.enumerated() {
            if let old = s.frame.byte(at: frame.offset + i), old != byte { s.changedAt[frame.offset + i] = now }
        }
        s.frame = frame
        s.now = now
        return []
    case .lockAttempt(let acquired, let status):
        guard let wait = s.lockWait else { return acquired ? [.unlock] : [] }
        guard acquired else {
            s.lock = status
            return []
        }
        s.lockWait = nil
        s.lock = .lockedByUs
        switch wait {
        case .hold:
            s.message = .info("locked: peers that take this lock wait until you press U")
            return []
        case .commit:
            return [.write(writeRuns(s.staged), unlockAfter: true)]
        case .undoCommit:
            guard let record = s.lastCommit else { return [.unlock] }
            return [.revert(record, unlockAfter: true)]
        }
    case .lockStatus(let status):
        s.lock = status
        return []
    case .wrote(let count, let error, let previous):
        if let error {
            s.message = .error("write failed: \(error)")
            return []
        }
        s.lastCommit = CommitRecord(written: writeRuns(s.staged), previous: previous, underLock: s.lock != .none)
        s.staged = [:]
        s.undoStack = []
        s.midByte = false
        s.message = .info("wrote \(count) byte\(count == 1 ? "" : "s"); u (view mode) undoes")
        return [.refreshNow]
    case .unlocked(let error):
        if let error {
            s.message = .error("unlock failed: \(error)")
        } else {
            s.lock = .unlocked
            s.message = .info("unlocked")
        }
        return []
    case .searchResult(let query, let offset, let wrapped):
        s.lastSearch = query
        guard let offset else {
            s.message = .error("not found: \(query.display)")
            return []
        }
        // Where it is, and (as vim says "search hit BOTTOM, continuing at TOP") which way it wrapped.
        let wrap = !wrapped ? "" : offset <= s.cursor ? " (wrapped past the end to the start)" : " (wrapped past the start to the end)"
        s.message = .info("found \(query.display) at 0x\(hexPadded(offset, width: 8))\(wrap)")
        return moveCursor(&s, to: offset)
    case .togglePanel(let panel):
        if panel == .layout && s.structLayout == nil {
            s.message = .error("no layout: start with --layout FILE")
            return []
        }
        let effects = showPanel(&s, s.panel == panel ? nil : panel)
        return s.panel == .diff && s.snapshot != nil ? effects + [.compareWithSnapshot(jump: nil)] : effects
    case .cyclePanel:
        let order: [Panel?] =
            [nil, .who, .activity, .inspector] + (s.structLayout == nil ? [] : [.layout])
            + (s.snapshot == nil ? [] : [.diff])
            + (s.debug.breakpoints.isEmpty ? [] : [.breakpoints])
        let index = order.firstIndex(of: s.panel) ?? 0
        return showPanel(&s, order[(index + 1) % order.count])
    case .takeSnapshot:
        return [.takeSnapshot]
    case .toggleDiff:
        guard s.snapshot != nil else {
            s.message = .error("no snapshot: press s to take one, or O to load one")
            return []
        }
        s.diffMode.toggle()
        s.message = .info(
            s.diffMode ? "diff mode: bytes that differ from the snapshot are highlighted; ] [ jump" : "diff mode off")
        return []
    case .nextDifference(let forward):
        guard s.snapshot != nil else {
            s.message = .error("no snapshot: press s to take one, or O to load one")
            return []
        }
        return [.compareWithSnapshot(jump: DiffJump(from: s.cursor, forward: forward))]
    case .nextActiveBlock(let forward):
        let a = s.activity
        guard a.bytesPerCell > 0, !a.counts.isEmpty else {
            s.message = .error("no activity yet: the first scan is still running")
            return []
        }
        let here = min(a.counts.count - 1, s.cursor / a.bytesPerCell)
        for step in 1...a.counts.count {
            let cell = ((here + (forward ? step : -step)) % a.counts.count + a.counts.count) % a.counts.count
            if a.counts[cell] > 0 {
                let target = min(s.size - 1, cell * a.bytesPerCell)
                s.message = .info("block at 0x\(hexPadded(target, width: 8)): changed \(a.counts[cell])x")
                return moveCursor(&s, to: target)
            }
        }
        s.message = .info("no block has changed yet")
        return []
    case .who(let info):
        s.who = info
        return []
    case .activity(let summary, let counts):
        s.activity = summary
        s.byteChangeCounts = counts
        return []
    case .snapshotTaken(let bytes, let time, let origin):
        s.snapshot = bytes
        s.snapshotTime = time
        s.diffMode = true
        let size = bytes.count == s.size ? "" : " (snapshot is \(bytes.count) bytes, segment \(s.size))"
        s.message = .info("snapshot \(origin)\(size): diff on; ] [ jump, D lists runs, x toggles, S saves")
        s.diffRuns = []
        s.diffRunsTruncated = false
        return [.compareWithSnapshot(jump: nil)]
    case .snapshotSaved(let path, let error):
        s.message = error.map { .error("cannot save: \($0)") } ?? .info("snapshot saved to \(path)")
        return []
    case .snapshotExists(let path):
        s.mode = .prompt(Prompt(kind: .replaceSnapshot(path: path)))
        return []
    case .differenceRuns(let runs, let truncated, let jump):
        s.diffRuns = runs
        s.diffRunsTruncated = truncated
        guard let jump else { return [] }
        guard let (index, wrapped) = nextDiffRun(runs, from: jump.from, forward: jump.forward) else {
            s.message = .info("no differences from the snapshot")
            return []
        }
        let run = runs[index]
        let of = "\(runs.count)\(truncated ? "+" : "")"
        let wrap = wrapped ? (jump.forward ? " (wrapped to the start)" : " (wrapped to the end)") : ""
        s.message = .info(
            "diff run \(index + 1)/\(of) at 0x\(hexPadded(run.offset, width: 8)), \(run.length) byte\(run.length == 1 ? "" : "s")\(wrap)")
        return moveCursor(&s, to: run.offset)
    case .layoutBytes(let frame, let now):
        // Only the bytes that differ are looked up: a big layout costs a comparison, not a decode, per refresh.
        if let layout = s.structLayout, s.layoutFrame.offset == frame.offset {
            let old = s.layoutFrame.bytes
            for (i, byte) in frame.bytes.enumerated() where i < old.count && old[i] != byte {
                if let ordinal = layout.ordinal(covering: frame.offset + i) { s.layoutChangedAt[ordinal] = now }
            }
        }
        s.layoutFrame = frame
        return []
    case .segmentEvent(let event):
        switch event {
        case .removed:
            s.removed = true
            s.message = .error("segment removed by another process: showing the copy we still have mapped")
            return []
        case .resized(let from, let to):
            s.message = .info("segment resized by a peer from \(from) to \(to) bytes: mapped again")
            return followNewSize(&s, to)
        case .reattached(let size):
            s.message = .info("segment created again (\(size) bytes): attached to the new one")
            return followNewSize(&s, size)
        case .detached(let reason):
            s.message = .error("cannot attach again: \(reason)")
            return []
        case .change:
            return []
        }
    case .failed(let text):
        s.message = .error(text)
        return []
    case .lockFailed(let text):
        s.lockWait = nil
        s.message = .error("cannot lock: \(text)")
        return []
    case .debug(let debugAction):
        return reduceDebug(&s, debugAction)
    case .tick(let now):
        s.now = now
        s.changedAt = s.changedAt.filter { now - $0.value < HexViewState.fadeSeconds }
        return []
    }
}

private func lockRefusal(_ s: HexViewState) -> String? {
    if s.readOnly { return "attached read-only (--read-only, watch): locking is for editing; use open" }
    if s.lock == .none { return "this segment has no lock shmscope can take" }
    return nil
}

private func editRefusal(_ s: HexViewState) -> String? {
    s.readOnly ? "attached read-only (--read-only, watch): no edit mode; use open to edit" : nil
}

private func enterEditMode(_ s: inout HexViewState) {
    s.editing = true
    s.midByte = false
    s.message = .info(
        s.pane == .ascii
            ? "EDIT: characters stage bytes; Backspace undoes; F8 commits; Esc leaves"
            : "EDIT: hex digits stage bytes; Backspace undoes; F8 commits; Esc leaves")
}

private func stagedText(_ s: HexViewState) -> String {
    "\(s.staged.count) byte\(s.staged.count == 1 ? "" : "s")"
}

/// `w` / `b`: to the start of the next/previous value of the inspector's width, or field (each element of an array)
/// when the layout pane is shown, in offset order.
private func stepValue(_ s: inout HexViewState, _ steps: Int) -> [HexEffect] {
    if s.panel == .layout, let layout = s.structLayout, !layout.fields.isEmpty {
        // Member starts: each field's, and each element's of an array (found by arithmetic, not listed).
        func next(after offset: Int) -> Int? {
            layout.fields.compactMap { f -> Int? in
                guard f.isArray, f.elementSize > 0, offset >= f.offset else { return f.offset > offset ? f.offset : nil }
                let candidate = f.offset + ((offset - f.offset) / f.elementSize + 1) * f.elementSize
                return candidate < f.offset + f.size ? candidate : nil
            }.min()
        }
        func previous(before offset: Int) -> Int? {
            layout.fields.compactMap { f -> Int? in
                guard f.offset < offset else { return nil }
                guard f.isArray, f.elementSize > 0 else { return f.offset }
                let last = min(offset - 1, f.offset + f.size - 1)
                return f.offset + (last - f.offset) / f.elementSize * f.elementSize
            }.max()
        }
        var target = s.cursor
        for _ in 0..<abs(steps) {
            guard let t = steps > 0 ? next(after: target) : previous(before: target) else { break }
            target = t
        }
        return moveCursor(&s, to: min(target, s.size - 1))
    }
    let w = max(1, s.valueWidth)
    let here = s.cursor - s.cursor % w
    let target = steps > 0 ? here + steps * w : (s.cursor % w != 0 ? here + (steps + 1) * w : here + steps * w)
    return moveCursor(&s, to: max(0, target))
}

private func advanceAfterEdit(_ s: inout HexViewState) -> [HexEffect] {
    s.message = .info("\(s.staged.count) staged: F8 commits, Backspace undoes, Esc leaves edit mode")
    return s.cursor + 1 < s.size ? moveCursor(&s, to: s.cursor + 1, keepMidByte: false) : []
}

private func submit(_ s: inout HexViewState, _ p: Prompt) -> [HexEffect] {
    switch p.kind {
    case .command:
        switch p.text.trimmingSpaces() {
        case "q": return reduce(&s, .quit)
        case "q!": return [.quit]
        case "w": return reduce(&s, .commit)
        case "wq", "x":
            s.message = .error(":\(p.text.trimmingSpaces()) is not supported: :w commits (through the dialog), then :q")
            return []
        default: return goto(&s, p.text)
        }
    case .goto:
        return goto(&s, p.text)
    case .search, .searchBackward:
        let query: SearchQuery?
        do { query = try SearchQuery.parse(p.text) } catch {
            s.message = .error(error.message)
            return []
        }
        guard let q = query else {
            s.message = .error("nothing to search for: type text, or x and hex bytes (x de ad)")
            return []
        }
        let forward = p.kind == .search
        s.lastSearch = q
        s.lastSearchForward = forward
        return [.search(q, from: forward ? s.cursor + 1 : s.cursor - 1, forward: forward)]
    case .saveStaged:
        let path = p.text.trimmingSpaces()
        guard !path.isEmpty else {
            s.message = .error("no file name given: the staged bytes are kept")
            return []
        }
        return [.saveStaged(path: path, runs: writeRuns(s.staged))]
    case .value:
        return stageValue(&s, p.text)
    case .saveSnapshot, .loadSnapshot:
        let path = p.text.trimmingSpaces()
        guard !path.isEmpty else {
            s.message = .error("no file name given")
            return []
        }
        return [p.kind == .saveSnapshot ? .saveSnapshot(path: path, replace: false) : .loadSnapshot(path: path)]
    case .field:
        return jumpToField(&s, p.text)
    case .replaceSnapshot(let path):
        guard p.text.trimmingSpaces().lowercased() == "y" else {
            s.message = .info("kept \(path); snapshot not saved")
            return []
        }
        return [.saveSnapshot(path: path, replace: true)]
    case .breakpoint, .seekTime, .playSpeed, .deleteBreakpoint:
        return submitDebug(&s, p)
    }
}

/// `f` then a field's name: its path (`hdr.state`, `items[2].x`, `counter[3]`), or a unique last part (`state`,
/// `x` when only one field is called that), in any case.
private func jumpToField(_ s: inout HexViewState, _ text: String) -> [HexEffect] {
    guard let layout = s.structLayout else { return [] }
    let name = text.trimmingSpaces()
    guard !name.isEmpty else {
        s.message = .error("no field name given")
        return []
    }
    var found = layout.member(named: name)
    if found == nil {
        // `state` for `hdr.state`; `count[2]` for `stats.count[2]`: the same last part, when only one field has it.
        var base = name.lowercased()
        var element = ""
        if base.hasSuffix("]"), let open = base.lastIndex(of: "[") {
            element = String(base[open...])
            base = String(base[..<open])
        }
        let matches = layout.fields.filter {
            let n = $0.name.lowercased()
            return n == base || n.hasSuffix("." + base)
        }
        if matches.count > 1 {
            let names = matches.prefix(4).map(\.name).joined(separator: ", ")
            s.message = .error("`\(name)` is ambiguous: \(names)\(matches.count > 4 ? ", …" : "")")
            return []
        }
        found = matches.first.flatMap { layout.member(named: $0.name + element) }
    }
    guard let member = found else {
        let close = layout.closeNames(to: name)
        s.message = .error(
            "no field `\(name)`" + (close.isEmpty ? "" : ": did you mean \(close.joined(separator: ", "))?"))
        return []
    }
    guard member.offset < s.size else {
        s.message = .error("\(member.path) is at 0x\(hexPadded(member.offset, width: 8)), past the end of the segment")
        return []
    }
    let bytes = "\(member.size) byte\(member.size == 1 ? "" : "s")"
    s.message = .info("\(member.path): \(member.typeName) at 0x\(hexPadded(member.offset, width: 8)), \(bytes)")
    return moveCursor(&s, to: member.offset)
}

/// `:` / Ctrl-G / F4 with an offset or expression (`0x40+8`, `4K`, `$`, `+16`).
private func goto(_ s: inout HexViewState, _ text: String) -> [HexEffect] {
    let target: Int
    do { target = try parseGoto(text, cursor: s.cursor, size: s.size) } catch {
        s.message = .error(error.message)
        return []
    }
    // The parser reports what is malformed; a well-formed offset past either end goes as far as it can
    // (decisions: "the goto prompt clamps with a message").
    let last = max(0, s.size - 1)
    let clamped = min(max(0, target), last)
    let effects = moveCursor(&s, to: clamped)
    if clamped != target {
        s.message = .info("offset \(target) is outside the segment (0…\(last)): went to \(clamped)")
    }
    return effects
}

/// `=` then `TYPE VALUE` (`u32 1234`, `i16be -2`, `f64 1.5`) in edit mode: the value's bytes are staged at the
/// cursor and the commit dialog opens, the same path as F8.
private func stageValue(_ s: inout HexViewState, _ text: String) -> [HexEffect] {
    let parts = text.trimmingSpaces().split(separator: " ", maxSplits: 1).map(String.init)
    guard parts.count == 2, let (type, order) = parseScalarType(parts[0]) else {
        s.message = .error("type TYPE VALUE, e.g. u32 1234, i16be -2, f64 1.5 (types u8…u64 i8…i64 f32 f64, +le/be)")
        return []
    }
    let bytes: [UInt8]
    do { bytes = try ValueInspector.encode(type, parts[1], order: order) } catch {
        s.message = .error(error.message)
        return []
    }
    guard s.cursor + bytes.count <= s.size else {
        s.message = .error("\(parts[0]) needs \(bytes.count) bytes; only \(s.size - s.cursor) left at the cursor")
        return []
    }
    for (i, b) in bytes.enumerated() {
        s.undoStack.append(StagedEdit(offset: s.cursor + i, previous: s.staged[s.cursor + i]))
        s.staged[s.cursor + i] = b
    }
    s.midByte = false
    return reduce(&s, .commit)
}

/// `u32`, `u32le`, `f64be` → type and byte order (little-endian unless `be`).
package func parseScalarType(_ text: String) -> (ScalarType, ByteOrder)? {
    ScalarType.withByteOrder(text.lowercased())
}

/// The segment has a new size (or is a new segment): keep the cursor and the view inside it, drop staged bytes
/// past its end, and read again.
private func followNewSize(_ s: inout HexViewState, _ size: Int) -> [HexEffect] {
    s.removed = false
    // A different segment (or a different size): the last commit's old bytes no longer describe it.
    s.lastCommit = nil
    s.size = size
    s.staged = s.staged.filter { $0.key < size }
    s.undoStack = s.undoStack.filter { $0.offset < size }
    s.cursor = max(0, min(s.cursor, size - 1))
    // As far down as the old view was, but no further than a full screen before the new end.
    let n = s.bytesPerRow
    let lastRowStart = max(0, size - 1) - max(0, size - 1) % n
    s.top = max(0, min(s.top, lastRowStart - (s.visibleRows - 1) * n))
    s.top -= s.top % n
    ensureCursorVisible(&s)
    s.frame = Frame(offset: s.top, bytes: [])
    return [.refreshNow]
}

/// Opens (or closes, with nil) the pane under the hex rows; the rows left for data shrink or grow with it.
private func showPanel(_ s: inout HexViewState, _ panel: Panel?) -> [HexEffect] {
    s.panel = panel
    if let panel {
        s.message = s.panelRows == 0 ? .error("\(panel.title) pane hidden: the terminal is too small") : nil
    } else {
        s.message = nil
    }
    ensureCursorVisible(&s)
    return [.refreshNow]
}

/// Moves the cursor (clamped to the segment) and scrolls so it stays on screen. Row moves that would leave the
/// segment stay put rather than jumping to the last byte, as in less/hexedit.
private func moveCursor(
    _ s: inout HexViewState, to target: Int, keepInside: Bool = false, keepMidByte: Bool = false
) -> [HexEffect] {
    guard s.size > 0 else { return [] }
    if keepInside, target < 0 || target >= s.size {
        if target < 0 { return moveCursor(&s, to: s.cursor % s.bytesPerRow) }
        let lastRowStart = (s.size - 1) - (s.size - 1) % s.bytesPerRow
        if s.cursor >= lastRowStart { return [] }
        return moveCursor(&s, to: min(s.size - 1, lastRowStart + s.cursor % s.bytesPerRow))
    }
    s.cursor = max(0, min(s.size - 1, target))
    if !keepMidByte { s.midByte = false }
    let oldTop = s.top
    ensureCursorVisible(&s)
    return s.top != oldTop && !s.paused ? [.refreshNow] : []
}

private func ensureCursorVisible(_ s: inout HexViewState) {
    let n = s.bytesPerRow
    let rowStart = s.cursor - s.cursor % n
    if rowStart < s.top { s.top = rowStart }
    let lastVisible = s.top + (s.visibleRows - 1) * n
    if rowStart > lastVisible { s.top = rowStart - (s.visibleRows - 1) * n }
    s.top = max(0, s.top - s.top % n)
}

private func scroll(_ s: inout HexViewState, rows: Int) -> [HexEffect] {
    let n = s.bytesPerRow
    guard s.size > 0 else { return [] }
    let lastRowStart = (s.size - 1) - (s.size - 1) % n
    let maxTop = max(0, lastRowStart - (s.visibleRows - 1) * n)
    let oldTop = s.top
    s.top = max(0, min(maxTop, s.top + rows * n))
    // Keep the cursor on screen, in the same column.
    let bottom = s.top + (s.visibleRows - 1) * n
    if s.cursor < s.top { s.cursor = min(s.size - 1, s.top + s.cursor % n) }
    if s.cursor >= bottom + n { s.cursor = min(s.size - 1, bottom + s.cursor % n) }
    return s.top != oldTop && !s.paused ? [.refreshNow] : []
}

/// Staged bytes grouped into contiguous runs, in offset order.
package func writeRuns(_ staged: [Int: UInt8]) -> [WriteRun] {
    var runs: [WriteRun] = []
    for offset in staged.keys.sorted() {
        if var last = runs.last, last.offset + last.bytes.count == offset {
            last.bytes.append(staged[offset]!)
            runs[runs.count - 1] = last
        } else {
            runs.append(WriteRun(offset: offset, bytes: [staged[offset]!]))
        }
    }
    return runs
}
