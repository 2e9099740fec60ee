/// The eight ANSI colours plus bright black (hexyl's colour for NUL and offsets) and the terminal's default, and
/// two dark background tints for layout fields (256-colour grey 236 and navy 17; bright black and blue on terminals
/// with fewer colours).
package enum Color: UInt8, CaseIterable, Sendable {
    case `default`, black, red, green, yellow, blue, magenta, cyan, white, brightBlack, tintA, tintB
}

/// How one cell looks. Backends map it to their attributes; tests compare it directly.
package struct Style: Equatable, Hashable, Sendable {
    package var fg: Color
    package var bg: Color
    package var bold: Bool
    package var reverse: Bool
    package var underline: Bool
    package var dim: Bool

    package init(
        fg: Color = .default, bg: Color = .default, bold: Bool = false, reverse: Bool = false,
        underline: Bool = false, dim: Bool = false
    ) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
        self.dim = dim
    }

    package static let plain = Style()
}

package struct Cell: Equatable, Sendable {
    package var character: Character
    package var style: Style

    package init(_ character: Character, _ style: Style = .plain) {
        self.character = character
        self.style = style
    }
}

/// A whole frame drawn off-screen (the ratatui model): widgets write into it, tests read it back, and the curses
/// backend sends only the cells that differ from the last painted frame. Every character is one column wide:
/// widgets only draw ASCII and a few single-width symbols (⋄ • × │ ─).
package struct ScreenBuffer: Equatable, Sendable {
    package let width: Int
    package let height: Int
    package private(set) var cells: [Cell]
    /// Ring the terminal's bell when this frame is painted (a breakpoint hit).
    package var bell = false

    package init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(" "), count: self.width * self.height)
    }

    package subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            cells[y * width + x] = newValue
        }
    }

    /// Writes `text` from column `x`, clipped at the right edge (or at `x + limit`); returns the column after it.
    @discardableResult
    package mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, limit: Int? = nil) -> Int {
        guard y >= 0, y < height else { return x }
        let end = min(width, limit.map { x + $0 } ?? width)
        var col = x
        for ch in text {
            if col >= end { break }
            if col >= 0 { cells[y * width + col] = Cell(ch, style) }
            col += 1
        }
        return col
    }

    /// Paints `count` cells of row `y` from `x` with spaces in `style`.
    package mutating func fill(y: Int, x: Int = 0, count: Int? = nil, style: Style) {
        guard y >= 0, y < height else { return }
        let end = min(width, x + (count ?? width))
        for col in max(0, x)..<max(max(0, x), end) { cells[y * width + col] = Cell(" ", style) }
    }

    package mutating func setStyle(x: Int, y: Int, _ style: Style) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        cells[y * width + x].style = style
    }

    /// Row `y` as text, trailing spaces removed (what a reader of the screen sees).
    package func line(_ y: Int) -> String {
        var s = String(cells[(y * width)..<(y * width + width)].map(\.character))
        while s.last == " " { s.removeLast() }
        return s
    }

    /// Every row as text, trailing spaces removed.
    package var lines: [String] { (0..<height).map(line) }

    package func style(x: Int, y: Int) -> Style { self[x, y].style }
}
