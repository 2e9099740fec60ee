import CNcurses
import Glibc
import ShmCore
import ShmTUI

/// The one owner of the curses screen: sets it up, paints ScreenBuffers (only the cells that changed), reads keys,
/// and restores the terminal. `restore()` is idempotent and runs on every exit path the process can catch.
package final class Terminal {
    private var screen: OpaquePointer?
    private var painted: ScreenBuffer?
    private var restored = false
    private let useColor: Bool
    private var pairs: [Int: Int16] = [:]

    package struct SetupError: Error, CustomStringConvertible {
        package var description: String
    }

    package init(useColor: Bool) throws {
        // Exit signals only set a flag from here on; the loop restores the terminal and exits (see CNcurses.h).
        nc_install_exit_signal_handlers()
        setlocale(LC_ALL, "")
        // newterm, unlike initscr, returns nil on an unknown TERM instead of exiting the process.
        guard let out = fdopen(1, "w"), let input = fdopen(0, "r"), let s = newterm(nil, out, input) else {
            throw SetupError(
                description: "cannot start the terminal UI: is TERM set to a terminal type this system knows?")
        }
        screen = s
        raw()  // Ctrl-S, Ctrl-C and Ctrl-U reach us as keys, not as flow control or signals.
        noecho()
        nonl()
        keypad(nc_stdscr(), true)
        curs_set(0)
        // A lone Esc would otherwise arrive a full second late (ESCDELAY defaults to 1000 ms).
        set_escdelay(25)
        mousemask(nc_wanted_mouse_events(), nil)
        mouseinterval(0)
        var colorOK = false
        if useColor, has_colors() {
            start_color()
            use_default_colors()
            colorOK = true
        }
        self.useColor = colorOK
    }

    deinit { restore() }

    package var size: (width: Int, height: Int) {
        var y: Int32 = 0
        var x: Int32 = 0
        nc_getmaxyx(nc_stdscr(), &y, &x)
        return (Int(x), Int(y))
    }

    /// The exit signal caught so far (SIGINT, SIGTERM, SIGHUP), or nil.
    package var caughtSignal: Int32? {
        let sig = nc_caught_exit_signal()
        return sig == 0 ? nil : sig
    }

    package func restore() {
        guard !restored else { return }
        restored = true
        endwin()
        if let screen { delscreen(screen) }
        screen = nil
    }

    /// Waits up to `timeoutMS` for a key, mouse event or resize.
    package func readKey(timeoutMS: Int) -> Key? {
        wtimeout(nc_stdscr(), Int32(timeoutMS))
        var wch: wint_t = 0
        let rc = wget_wch(nc_stdscr(), &wch)
        if rc == ERR { return nil }
        if rc == KEY_CODE_YES { return functionKey(Int32(wch)) }
        switch wch {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(Unicode.Scalar(UInt8(wch) + 0x60)))
        default:
            guard let scalar = Unicode.Scalar(UInt32(wch)) else { return nil }
            return .char(Character(scalar))
        }
    }

    private func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_BTAB: return .backTab
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_IC: return .insert
        case KEY_RESIZE:
            painted = nil
            let s = size
            return .resize(width: s.width, height: s.height)
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            if event.bstate & nc_button4_pressed() != 0 { return .wheelUp }
            if event.bstate & nc_button5_pressed() != 0 { return .wheelDown }
            if event.bstate & (nc_button1_pressed() | nc_button1_clicked()) != 0 {
                return .click(x: Int(event.x), y: Int(event.y))
            }
            return nil
        default:
            for n in 1...12 where code == nc_key_f(Int32(n)) { return .function(n) }
            return nil
        }
    }

    /// Sends the cells that differ from the last painted frame, then one refresh (ncurses diffs again).
    package func paint(_ buffer: ScreenBuffer, full: Bool = false) {
        if buffer.bell { beep() }
        if full || painted?.width != buffer.width || painted?.height != buffer.height {
            painted = nil
            wclear(nc_stdscr())
        }
        for y in 0..<buffer.height {
            for x in 0..<buffer.width {
                let cell = buffer[x, y]
                if let old = painted, old[x, y] == cell { continue }
                var cc = cchar_t()
                let scalar = cell.character.unicodeScalars.first?.value ?? 32
                _ = nc_setcchar1(&cc, wchar_t(bitPattern: scalar), attributes(cell.style), pair(cell.style))
                mvwadd_wchnstr(nc_stdscr(), Int32(y), Int32(x), &cc, 1)
            }
        }
        painted = buffer
        wrefresh(nc_stdscr())
    }

    private func attributes(_ style: Style) -> attr_t {
        var a = nc_a_normal()
        if style.bold { a |= nc_a_bold() }
        if style.reverse { a |= nc_a_reverse() }
        if style.underline { a |= nc_a_underline() }
        if style.dim { a |= nc_a_dim() }
        // Bright black needs 16 colours; on 8-colour terminals black + bold is the usual stand-in.
        if useColor, style.fg == .brightBlack, nc_colors() < 16 { a |= nc_a_bold() }
        return a
    }

    /// Colour pairs are made on first use, one per (fg, bg) combination.
    private func pair(_ style: Style) -> Int16 {
        guard useColor, style.fg != .default || style.bg != .default else { return 0 }
        let id = Int(style.fg.rawValue) * 16 + Int(style.bg.rawValue)
        if let p = pairs[id] { return p }
        let p = Int16(pairs.count + 1)
        guard Int32(p) < nc_color_pairs() else { return 0 }
        init_pair(p, curses(style.fg), curses(style.bg))
        pairs[id] = p
        return p
    }

    private func curses(_ color: Color) -> Int16 {
        switch color {
        case .default: -1
        case .black: Int16(COLOR_BLACK)
        case .red: Int16(COLOR_RED)
        case .green: Int16(COLOR_GREEN)
        case .yellow: Int16(COLOR_YELLOW)
        case .blue: Int16(COLOR_BLUE)
        case .magenta: Int16(COLOR_MAGENTA)
        case .cyan: Int16(COLOR_CYAN)
        case .white: Int16(COLOR_WHITE)
        case .brightBlack: nc_colors() >= 16 ? 8 : Int16(COLOR_BLACK)
        case .tintA: nc_colors() >= 256 ? 236 : nc_colors() >= 16 ? 8 : Int16(COLOR_BLACK)
        case .tintB: nc_colors() >= 256 ? 17 : Int16(COLOR_BLUE)
        }
    }
}

/// Runs `program` until it finishes or an exit signal arrives. Returns the exit code: 0, or 128+signal.
/// The program's `shutdown` (unlock, detach) and the terminal restore run on every path out of here.
package func runTUI(_ program: any TUIProgram, useColor: Bool) throws -> Int32 {
    let terminal = try Terminal(useColor: useColor)
    defer {
        program.shutdown()
        terminal.restore()
    }
    let s = terminal.size
    program.send(.resize(width: s.width, height: s.height), now: monotonicSeconds())
    while !program.isFinished {
        if let sig = terminal.caughtSignal { return 128 + sig }
        program.tick(now: monotonicSeconds())
        let full = program.wantsFullRedraw
        program.wantsFullRedraw = false
        terminal.paint(program.render(), full: full)
        if let key = terminal.readKey(timeoutMS: program.pollIntervalMS) {
            program.send(key, now: monotonicSeconds())
        }
    }
    return 0
}
