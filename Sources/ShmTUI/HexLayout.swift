/// Where each part of a hex row goes, hexdump -C style:
/// `00000010  68 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |hello⋄⋄⋄⋄⋄⋄⋄⋄⋄⋄⋄|`
/// (8-digit offset, two spaces, bytes with an extra space after every 8, two spaces, the text column in bars).
package struct HexLayout: Equatable, Sendable {
    package static let choices = [32, 16, 8, 4]
    package let bytesPerRow: Int

    package init(bytesPerRow: Int) { self.bytesPerRow = bytesPerRow }

    /// The widest row that fits, from 32/16/8 bytes; 4 below 45 columns so 40 columns stay usable.
    package static func fitting(width: Int) -> HexLayout {
        for n in choices where HexLayout(bytesPerRow: n).totalWidth <= width { return HexLayout(bytesPerRow: n) }
        return HexLayout(bytesPerRow: 4)
    }

    package var hexStart: Int { 10 }
    package var hexWidth: Int { bytesPerRow * 3 - 1 + max(0, bytesPerRow / 8 - 1) }
    package func hexX(_ index: Int) -> Int { hexStart + index * 3 + index / 8 }
    /// Column of the opening `|` of the text column.
    package var barX: Int { hexStart + hexWidth + 2 }
    package func asciiX(_ index: Int) -> Int { barX + 1 + index }
    package var totalWidth: Int { barX + bytesPerRow + 2 }

    /// The byte index and pane under screen column `x`, for mouse clicks.
    package func hit(x: Int) -> (index: Int, pane: Pane)? {
        if x >= asciiX(0), x < asciiX(bytesPerRow) { return (x - asciiX(0), .ascii) }
        for i in 0..<bytesPerRow where x == hexX(i) || x == hexX(i) + 1 { return (i, .hex) }
        return nil
    }
}

package enum Pane: Equatable, Sendable {
    case hex, ascii
}
