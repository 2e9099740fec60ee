/// `watch --log`, `diff`: which member of a layout a changed run belongs to, by name as a user reads it:
/// `counter`, `temps[2]`, `hdr.state`, `items[1].x` (`StructLayout.member(covering:)`). Bitfields that share a byte
/// are named together (`a,b`) unless the old bytes show which of them changed.
extension StructLayout {
    /// `change` cut where one member ends and the next begins (gaps between fields are their own pieces, unnamed).
    public func split(_ change: ByteChange) -> [(change: ByteChange, field: String?)] {
        var pieces: [(ByteChange, String?)] = []
        var start = change.offset
        let end = change.offset + change.length
        while start < end {
            let found = member(covering: start)
            var stop = end
            if let found {
                stop = min(end, found.range.upperBound)
            } else if let next = nextFieldStart(after: start) {
                stop = min(end, next)
            }
            let a = start - change.offset
            let b = stop - change.offset
            let piece = ByteChange(
                offset: start, old: change.old.map { Array($0[a..<b]) }, new: Array(change.new[a..<b]))
            pieces.append((piece, found.map { name(of: $0, piece) }))
            start = stop
        }
        return pieces
    }

    /// A bitfield's name, or the names of the bitfields in the same bytes whose bits differ.
    private func name(of member: StructLayout.Member, _ piece: ByteChange) -> String {
        guard member.field.bits != nil else { return member.path }
        let sharing = members(overlapping: member.range).filter { $0.field.bits != nil && $0.range == member.range }
        guard sharing.count > 1 else { return member.path }
        guard let old = piece.old, piece.offset == member.offset, piece.length == member.size else {
            return sharing.map(\.path).joined(separator: ",")
        }
        let changed = sharing.filter { $0.decode(old, base: piece.offset) != $0.decode(piece.new, base: piece.offset) }
        return (changed.isEmpty ? sharing : changed).map(\.path).joined(separator: ",")
    }
}

