/// A key press, mouse event or resize, independent of the terminal library that read it.
package enum Key: Equatable, Sendable {
    case char(Character)
    /// Ctrl plus a letter, lower-cased (`.ctrl("g")` is Ctrl-G).
    case ctrl(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case tab, backTab, enter, escape, backspace, delete, insert
    /// F1…F12.
    case function(Int)
    /// A left click at a screen cell.
    case click(x: Int, y: Int)
    case wheelUp, wheelDown
    case resize(width: Int, height: Int)
}
