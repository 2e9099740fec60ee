/// Maps a key to the hex view's action in the current mode. Pure, so every binding is testable.
///
/// In the hex pane hex digits edit and letters are commands (none of the command letters is a hex digit). In the
/// text pane every printable character is an edit, as in hexedit; commands there go through F-keys, Ctrl keys and
/// Tab.
package func hexAction(for key: Key, in s: HexViewState) -> HexAction? {
    if case .resize(let w, let h) = key { return .resize(width: w, height: h) }
    switch s.mode {
    case .prompt:
        switch key {
        case .char(let c): return .promptInput(c)
        case .backspace, .delete: return .promptBackspace
        case .enter: return .promptSubmit
        case .escape, .ctrl("c"), .ctrl("g"): return .escape
        default: return nil
        }
    case .help:
        switch key {
        case .escape, .enter, .char("q"), .char("?"), .function(1), .function(10): return .escape
        case .up, .char("k"), .wheelUp: return .helpScroll(-1)
        case .down, .char("j"), .wheelDown: return .helpScroll(1)
        case .pageUp: return .helpScroll(-8)
        case .pageDown, .char(" "): return .helpScroll(8)
        default: return nil
        }
    case .confirmQuit:
        switch key {
        case .char("y"), .char("Y"): return .confirmQuit(true)
        case .char("n"), .char("N"), .escape: return .confirmQuit(false)
        default: return nil
        }
    case .normal:
        break
    }
    switch key {
    case .left: return .move(-1)
    case .right: return .move(1)
    case .up: return .moveRows(-1)
    case .down: return .moveRows(1)
    case .pageUp: return .page(-1)
    case .pageDown: return .page(1)
    case .home: return .rowStart
    case .end: return .rowEnd
    case .tab, .backTab: return .switchPane
    case .enter: return .moveRows(1)
    case .escape: return .escape
    case .backspace: return .undoLast
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
    case .ctrl("u"): return .undoAll
    case .ctrl("c"): return .quit
    case .ctrl("l"): return .redraw
    case .click(let x, let y): return .click(x: x, y: y)
    case .wheelUp: return .scroll(rows: -3)
    case .wheelDown: return .scroll(rows: 3)
    case .char(let c):
        if s.pane == .ascii {
            guard let ascii = c.asciiValue, ascii >= 0x20, ascii < 0x7f else { return nil }
            return .typeChar(ascii)
        }
        if let nibble = c.hexDigitValue, c.isASCII { return .typeHex(UInt8(nibble)) }
        switch c {
        case "h": return .move(-1)
        case "l": return .move(1)
        case "k": return .moveRows(-1)
        case "j": return .moveRows(1)
        case "g": return .start
        case "G": return .end
        case ":": return .openPrompt(.goto)
        case "/": return .openPrompt(.search)
        case "n": return .repeatSearch(forward: true)
        case "N": return .repeatSearch(forward: false)
        case "p": return .togglePause
        case "L": return .lock
        case "U": return .unlock
        case "w": return .commit
        case "u": return .undoLast
        case "?": return .help
        case "q": return .quit
        case "W": return .togglePanel(.who)
        case "m": return .togglePanel(.activity)
        case "i": return .togglePanel(.inspector)
        case "t": return .togglePanel(.layout)
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
    "Move        arrows  h j k l",
    "Page        PgUp PgDn",
    "Row start   Home    Row end  End",
    "Top/bottom  g G",
    "Go to       :  Ctrl-G  F4  (123 0x7b +16 -16)",
    "Search      /  F6  (text, or x de ad)",
    "Next/prev   n N",
    "Switch pane Tab",
    "Edit        hex digits / text (staged)",
    "Write       w  Ctrl-S  F8",
    "Undo        u  Backspace   all: Ctrl-U",
    "Lock        L  F2     Unlock  U  F3",
    "Pause       p  F5",
    "Cancel      Esc (prompt, lock wait, text pane)",
    "Redraw      Ctrl-L",
    "Mouse       click: cursor  wheel: scroll",
    "Who         W  (attached processes, lock)",
    "Activity    m  (block map)  > < next/prev",
    "Inspector   i  Type value  =  (u32 7, f64be 1.5)",
    "Layout      t  (--layout FILE)",
    "Panes       F7 cycles who/map/inspector/layout",
    "Snapshot    s  F9   Save  S   Load  O",
    "Diff        x  toggle   Next/prev diff  ] [",
    "Help        ?  F1     Quit  q  F10",
    "In the text pane typing edits: use Tab or",
    "Esc, F-keys and Ctrl keys there.",
]
