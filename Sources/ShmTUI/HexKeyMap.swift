/// Maps a key to the hex view's action in the current mode. Pure, so every binding is testable.
///
/// View mode (the default) never stages or writes a byte: every key navigates or inspects, with vim/less habits
/// (counts, `0` `$`, `w` `b`, Ctrl-D/U/F/B, Space). Edit mode (`e` or Insert) is the only place keys stage bytes:
/// hex digits in the hex pane, every printable character in the text pane; other keys keep their view meaning
/// (in the text pane commands go through F-keys, Ctrl keys, Tab and Esc).
package func hexAction(for key: Key, in s: HexViewState) -> HexAction? {
    if case .resize(let w, let h) = key { return .resize(width: w, height: h) }
    switch s.mode {
    case .prompt(let p):
        switch key {
        case .enter: return .promptSubmit
        case .escape, .ctrl("c"), .ctrl("g"): return .escape
        case .tab:
            // A breakpoint's prompt has no file to complete: Tab toggles freezing on a hit there.
            if case .breakpoint = p.kind { return .debug(.toggleFreeze) }
            return p.kind.takesFile ? .promptComplete : nil
        case .backspace where p.line.isEmpty: return .promptBackspace
        default: return LineEdit(key).map(HexAction.promptEdit)
        }
    case .help:
        // Scroll keys scroll; any other key closes the overlay (as less's help does) and does nothing else.
        switch key {
        case .up, .char("k"), .wheelUp: return .helpScroll(-1)
        case .down, .char("j"), .wheelDown: return .helpScroll(1)
        case .pageUp, .ctrl("b"): return .helpScroll(-8)
        case .pageDown, .char(" "), .ctrl("f"): return .helpScroll(8)
        default: return .escape
        }
    case .confirmQuit:
        switch key {
        case .char("y"), .char("Y"): return .confirmQuit(true)
        case .char("n"), .char("N"), .escape: return .confirmQuit(false)
        default: return nil
        }
    case .confirmDiscard:
        switch key {
        case .char("y"), .char("Y"): return .confirmDiscard(true)
        case .char("n"), .char("N"), .escape: return .confirmDiscard(false)
        default: return nil
        }
    case .commitDialog:
        switch key {
        case .char("y"), .char("Y"): return .commitConfirm(withoutLock: false)
        case .char("!"): return .commitConfirm(withoutLock: true)
        case .char("n"), .char("N"), .escape, .ctrl("c"): return .escape
        default: return nil
        }
    case .normal:
        break
    }
    if s.editing {
        switch key {
        case .backspace: return .undoLast
        case .char(let c) where s.pane == .ascii:
            guard let ascii = c.asciiValue, ascii >= 0x20, ascii < 0x7f else { return nil }
            return .typeChar(ascii)
        case .char(let c) where c.isASCII && c.hexDigitValue != nil:
            return .typeHex(UInt8(c.hexDigitValue!))
        default:
            break
        }
    }
    let n = s.pendingCount ?? 1
    switch key {
    case .left: return .move(-n)
    case .right: return .move(n)
    case .up: return .moveRows(-n)
    case .down: return .moveRows(n)
    case .pageUp: return .page(-n)
    case .pageDown: return .page(n)
    case .home: return .rowStart
    case .end: return .rowEnd
    case .tab, .backTab: return .switchPane
    case .enter: return .moveRows(n)
    case .escape: return .escape
    case .insert: return .enterEdit
    case .function(1): return .help
    case .function(2): return .lock
    case .function(3): return .unlock
    case .function(4): return .openPrompt(.goto)
    case .function(5): return .togglePause
    case .function(6): return .openPrompt(.search)
    case .function(7): return .cyclePanel
    case .function(8): return .commit
    case .function(9): return .takeSnapshot
    case .function(10): return .quit
    case .ctrl("g"): return .openPrompt(.goto)
    case .ctrl("s"): return .commit
    case .ctrl("f"): return .page(n)
    case .ctrl("b"): return .page(-n)
    case .ctrl("d"): return .halfPage(n)
    case .ctrl("u"): return .halfPage(-n)
    case .ctrl("c"): return .quit
    case .ctrl("l"): return .redraw
    case .click(let x, let y): return .click(x: x, y: y)
    case .wheelUp: return .scroll(rows: -3)
    case .wheelDown: return .scroll(rows: 3)
    case .char(let c):
        if let digit = c.wholeNumberValue, c.isASCII, digit > 0 || s.pendingCount != nil { return .countDigit(digit) }
        switch c {
        case "0": return .rowStart
        case "$": return .rowEnd
        case "h": return .move(-n)
        case "l": return .move(n)
        case "k": return .moveRows(-n)
        case "j": return .moveRows(n)
        case " ": return .page(n)
        case "w": return .stepValue(n)
        case "b": return .stepValue(-n)
        case "g": return .start
        case "G": return .end
        case ":": return .openPrompt(.command)
        case "/": return .openPrompt(.search)
        case "?": return .openPrompt(.searchBackward)
        case "n": return .repeatSearch(forward: true)
        case "N": return .repeatSearch(forward: false)
        case "p": return s.debug.timeline != nil ? .debug(.togglePlay) : .togglePause
        case "P": return .debug(.openSpeedPrompt)
        case "B": return .debug(.openBreakpointPrompt)
        case "R": return .debug(.openDeletePrompt)
        case "T": return .debug(.openSeekPrompt)
        case ".": return .debug(.step(n))
        case ",": return .debug(.step(-n))
        case "L": return .lock
        case "U": return .unlock
        case "e": return .enterEdit
        case "u": return .undoCommit
        case "X": return .discard
        case "q": return .quit
        case "W": return .togglePanel(.who)
        case "m": return .togglePanel(.activity)
        case "i": return .togglePanel(.inspector)
        case "t": return .togglePanel(.layout)
        case "D": return .togglePanel(.diff)
        case "f": return .openPrompt(.field)
        case "s": return .takeSnapshot
        case "x": return .toggleDiff
        case "]": return .nextDifference(forward: true)
        case "[": return .nextDifference(forward: false)
        case "S": return .openPrompt(.saveSnapshot)
        case "O": return .openPrompt(.loadSnapshot)
        case "=": return .openPrompt(.value)
        case ">": return .nextActiveBlock(forward: true)
        case "<": return .nextActiveBlock(forward: false)
        default: return nil
        }
    default: return nil
    }
}

/// The help overlay's text: every key of the hex view.
package let helpLines: [String] = [
    "View mode (default): no key writes",
    "Move        arrows  h j k l   counts: 16j 3w",
    "Row         0 start  $ end   (Home End)",
    "Value       w next  b prev (4 bytes; field in t)",
    "Page        Space Ctrl-F  Ctrl-B  PgDn PgUp",
    "Half page   Ctrl-D  Ctrl-U",
    "Top/bottom  g G",
    "Go to       :  Ctrl-G F4  (0x40+8 4K $ +16)",
    "Search      /  F6   backward ?  (text, x de ad)",
    "  any case  \\c in the text (/hello\\c)",
    "Next/prev   n N  (N: the other way)",
    "Switch pane Tab (never edits)",
    "Lock        L  F2     Unlock  U  F3",
    "Pause       p  F5",
    "Who         W  (attached processes, lock)",
    "Activity    m  (block map)  > < next/prev",
    "Inspector   i     Layout  t (--layout FILE)",
    "Field       f  jump to a layout field by name",
    "Panes       F7 cycles who/map/inspector/layout/diff",
    "Snapshot    s  F9   Save  S   Load  O",
    "Diff        x  toggle   Next/prev run  ] [",
    "Diff runs   D  (pane: offset, length, old -> new)",
    "Undo commit u  (if the bytes are unchanged)",
    "Discard     X  (every staged byte, asks)",
    "Edit mode   e  Insert   (status: EDIT)",
    "  stage     hex digits; text pane: characters",
    "  undo      Backspace (last staged byte)",
    "  value     =  (u32 7, f64be 1.5)",
    "  leave     Esc (keeps what is staged)",
    "Commit      F8 Ctrl-S :w  dialog: y writes,",
    "            ! without a lock, Esc/n cancels",
    "Commands    :q  :q! (discard)  :w",
    "Redraw      Ctrl-L   Mouse: click, wheel",
    "Prompts     ← → Ctrl-A E W U K  ↑ ↓ history",
    "            Tab completes file names, ~ is home",
    "Breakpoint  B (Tab: freeze)  R remove  F7 pane",
    "Replay      . , change  T seek  p play  P speed",
    "Help        F1     Quit  q  F10",
]
