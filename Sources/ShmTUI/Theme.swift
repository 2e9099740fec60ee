/// hexyl's byte classes (src/lib.rs): each gets a colour and, in the text column, a glyph.
package enum ByteClass: Equatable, Sendable {
    case null, printable, whitespace, otherASCII, nonASCII

    package init(_ byte: UInt8) {
        switch byte {
        case 0: self = .null
        case 0x09, 0x0a, 0x0c, 0x0d, 0x20: self = .whitespace
        case 0x21...0x7e: self = .printable
        case 0x01...0x7f: self = .otherASCII
        default: self = .nonASCII
        }
    }

    /// The text-column glyph, as hexyl draws it: the character itself when printable, space as space.
    package static func glyph(_ byte: UInt8) -> Character {
        switch ByteClass(byte) {
        case .null: "⋄"
        case .printable: Character(Unicode.Scalar(byte))
        case .whitespace: byte == 0x20 ? " " : "_"
        case .otherASCII: "•"
        case .nonASCII: "×"
        }
    }
}

/// Every style the widgets use, in colour or (with `NO_COLOR`) in attributes only.
package struct Theme: Equatable, Sendable {
    package let useColor: Bool

    package init(useColor: Bool) { self.useColor = useColor }

    /// `NO_COLOR` set to anything non-empty turns colour off (no-color.org, as hexyl, hx and xxd do).
    package static func from(environment: [String: String]) -> Theme {
        Theme(useColor: (environment["NO_COLOR"] ?? "").isEmpty)
    }

    package func byte(_ byte: UInt8) -> Style {
        guard useColor else { return .plain }
        switch ByteClass(byte) {
        case .null: return Style(fg: .brightBlack)
        case .printable: return Style(fg: .cyan)
        case .whitespace, .otherASCII: return Style(fg: .green)
        case .nonASCII: return Style(fg: .yellow)
        }
    }

    package var offset: Style { useColor ? Style(fg: .brightBlack) : .plain }
    /// Bytes typed but not yet written.
    package var staged: Style { useColor ? Style(fg: .magenta, bold: true) : Style(bold: true, underline: true) }

    /// A byte a peer changed, `level` 3 (just now) fading to 1 (about a second ago).
    package func changed(level: Int) -> Style {
        switch (useColor, level) {
        case (true, 3...): Style(fg: .white, bg: .red, bold: true)
        case (true, 2): Style(fg: .red, bold: true)
        case (true, _): Style(fg: .red)
        case (false, 2...): Style(bold: true)
        case (false, _): Style(dim: true)
        }
    }

    /// The prompt cursor. (The byte cursor is reversed in the active pane and underlined in the other.)
    package var cursor: Style { Style(reverse: true) }
    package var status: Style { Style(reverse: true) }
    package var statusAlert: Style { useColor ? Style(fg: .white, bg: .red, bold: true) : Style(bold: true) }
    package var statusOurs: Style { useColor ? Style(fg: .black, bg: .green, bold: true) : Style(bold: true) }
    /// htop's bottom bar: the key name plain, its label black on cyan.
    package var keyName: Style { Style(bold: true) }
    package var keyLabel: Style { useColor ? Style(fg: .black, bg: .cyan) : Style(reverse: true) }
    package var error: Style { useColor ? Style(fg: .red, bold: true) : Style(bold: true) }
    package var border: Style { useColor ? Style(fg: .cyan) : .plain }
    package var heading: Style { Style(bold: true) }
    package var selection: Style { useColor ? Style(fg: .black, bg: .cyan) : Style(reverse: true) }

    /// An activity-map cell by how long ago it last changed: under a second, under ten, longer ago, never.
    package func activity(age: Double) -> Style {
        switch (useColor, age) {
        case (_, .infinity): useColor ? Style(fg: .brightBlack) : Style(dim: true)
        case (true, ..<1): Style(fg: .white, bg: .red, bold: true)
        case (true, ..<10): Style(fg: .yellow, bold: true)
        case (true, _): Style(fg: .green)
        case (false, ..<1): Style(bold: true)
        case (false, ..<10): Style(underline: true)
        case (false, _): .plain
        }
    }

    /// A byte of a layout field, on top of its class colour: fields alternate between two dark background tints so
    /// each one's extent shows (without colour, every other field is underlined). Padding gets none.
    package func fieldTint(_ style: Style, ordinal: Int) -> Style {
        var tinted = style
        if useColor {
            tinted.bg = ordinal % 2 == 0 ? .tintA : .tintB
        } else if ordinal % 2 == 0 {
            tinted.underline = true
        }
        return tinted
    }

    /// A byte that differs from the snapshot (diff mode).
    package var diff: Style { useColor ? Style(fg: .black, bg: .yellow) : Style(bold: true, reverse: true) }

    /// The bytes a breakpoint's condition read, at its hit: apart from the red of fresh changes.
    package var breakpointHit: Style {
        useColor ? Style(fg: .white, bg: .magenta, bold: true) : Style(bold: true, underline: true)
    }
}
