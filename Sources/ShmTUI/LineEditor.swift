/// One line typed at a prompt, edited the way a shell's readline edits it. Every prompt of the hex view and the
/// browser is one of these, so the keys behave the same everywhere: Left/Right (Ctrl-B/F), Home/End (Ctrl-A/E),
/// Backspace, Delete (Ctrl-D on a non-empty line), Ctrl-W (the word before the cursor), Ctrl-U (everything before
/// it), Ctrl-K (everything after it), Up/Down (the prompt's history), Tab (path completion, for prompts that take
/// a file).
package struct LineEditor: Equatable, Sendable {
    package private(set) var characters: [Character]
    /// Insertion point: 0 … characters.count.
    package private(set) var cursor: Int
    /// While Up/Down walk the history: the entry shown (0 is the newest), and the line typed before the walk.
    private var historyIndex: Int?
    private var draft: [Character] = []

    package init(_ text: String = "") {
        characters = Array(text)
        cursor = characters.count
    }

    package var text: String { String(characters) }
    package var isEmpty: Bool { characters.isEmpty }

    /// Replaces the whole line; the cursor goes to its end.
    package mutating func set(_ text: String) {
        characters = Array(text)
        cursor = characters.count
    }

    /// Applies one edit. `history` is the prompt's earlier lines, oldest first.
    package mutating func apply(_ edit: LineEdit, history: [String] = []) {
        switch edit {
        case .insert(let c):
            characters.insert(c, at: cursor)
            cursor += 1
        case .backspace:
            guard cursor > 0 else { return }
            characters.remove(at: cursor - 1)
            cursor -= 1
        case .deleteForward:
            guard cursor < characters.count else { return }
            characters.remove(at: cursor)
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(characters.count, cursor + 1)
        case .home: cursor = 0
        case .end: cursor = characters.count
        case .deleteWordBack:
            // As readline's Ctrl-W (unix-word-rubout): spaces before the cursor, then the word before them.
            var start = cursor
            while start > 0, characters[start - 1] == " " { start -= 1 }
            while start > 0, characters[start - 1] != " " { start -= 1 }
            characters.removeSubrange(start..<cursor)
            cursor = start
        case .deleteToStart:
            characters.removeSubrange(0..<cursor)
            cursor = 0
        case .deleteToEnd:
            characters.removeSubrange(cursor..<characters.count)
        case .historyBack:
            guard !history.isEmpty else { return }
            let next = historyIndex.map { min(history.count - 1, $0 + 1) } ?? 0
            if historyIndex == nil { draft = characters }
            historyIndex = next
            set(history[history.count - 1 - next])
        case .historyForward:
            guard let index = historyIndex else { return }
            if index == 0 {
                characters = draft
                cursor = characters.count
                historyIndex = nil
            } else {
                set(history[history.count - index])
                historyIndex = index - 1
            }
        }
        if edit.endsHistoryWalk { historyIndex = nil }
    }
}

/// What a key does to a prompt's line.
package enum LineEdit: Equatable, Sendable {
    case insert(Character)
    case backspace, deleteForward
    case left, right, home, end
    case deleteWordBack, deleteToStart, deleteToEnd
    case historyBack, historyForward

    /// Typing or deleting makes the line the user's own again: Up starts from the newest entry.
    var endsHistoryWalk: Bool {
        switch self {
        case .insert, .backspace, .deleteForward, .deleteWordBack, .deleteToStart, .deleteToEnd: true
        default: false
        }
    }

    /// The edit a key makes at a prompt, nil for keys the prompt handles itself (Enter, Esc, Tab) or ignores.
    package init?(_ key: Key) {
        switch key {
        case .char(let c): self = .insert(c)
        case .backspace: self = .backspace
        case .delete: self = .deleteForward
        case .left, .ctrl("b"): self = .left
        case .right, .ctrl("f"): self = .right
        case .home, .ctrl("a"): self = .home
        case .end, .ctrl("e"): self = .end
        case .ctrl("w"): self = .deleteWordBack
        case .ctrl("u"): self = .deleteToStart
        case .ctrl("k"): self = .deleteToEnd
        case .ctrl("d"): self = .deleteForward
        case .up, .ctrl("p"): self = .historyBack
        case .down, .ctrl("n"): self = .historyForward
        default: return nil
        }
    }
}

/// Each prompt's earlier lines, oldest first, newest last; a repeat moves to the end instead of appearing twice.
package struct PromptHistory: Equatable, Sendable {
    private var lines: [String: [String]] = [:]
    package static let limit = 100

    package init() {}

    package func lines(_ prompt: String) -> [String] { lines[prompt] ?? [] }

    package mutating func add(_ line: String, to prompt: String) {
        guard !line.trimmingSpaces().isEmpty else { return }
        var list = lines[prompt] ?? []
        list.removeAll { $0 == line }
        list.append(line)
        if list.count > Self.limit { list.removeFirst(list.count - Self.limit) }
        lines[prompt] = list
    }
}

/// `~` and `~/…` to the home directory (other text as is), as a shell expands a file name.
package func expandTilde(_ path: String, home: String?) -> String {
    guard let home, !home.isEmpty, path.hasPrefix("~") else { return path }
    if path == "~" { return home }
    if path.hasPrefix("~/") { return (home.hasSuffix("/") ? String(home.dropLast()) : home) + path.dropFirst() }
    return path
}

/// Tab at a file prompt: the line completed as far as every candidate agrees, and the candidates when more than
/// one remains (directories end in `/`). The directory is listed by the caller's `list`, so this stays pure.
package struct PathCompletion: Equatable, Sendable {
    package var text: String
    package var candidates: [String]

    /// `list(directory)` returns the names in a directory (nil: cannot be read) and whether each is a directory.
    package static func complete(
        _ text: String, home: String?, list: (String) -> [(name: String, isDirectory: Bool)]?
    ) -> PathCompletion {
        let slash = text.lastIndex(of: "/")
        let typedDirectory = slash.map { String(text[...$0]) } ?? ""
        let prefix = slash.map { String(text[text.index(after: $0)...]) } ?? text
        let directory = typedDirectory.isEmpty ? "." : expandTilde(typedDirectory, home: home)
        let entries = (list(directory) ?? [])
            .filter { $0.name.hasPrefix(prefix) && $0.name != "." && $0.name != ".." }
            // Hidden files only when asked for, as shells do.
            .filter { prefix.hasPrefix(".") || !$0.name.hasPrefix(".") }
            .sorted { $0.name < $1.name }
        guard let first = entries.first else { return PathCompletion(text: text, candidates: []) }
        if entries.count == 1 {
            return PathCompletion(
                text: typedDirectory + first.name + (first.isDirectory ? "/" : ""), candidates: [])
        }
        var common = Array(first.name)
        for e in entries.dropFirst() {
            let name = Array(e.name)
            var n = 0
            while n < common.count, n < name.count, common[n] == name[n] { n += 1 }
            common.removeLast(common.count - n)
        }
        return PathCompletion(
            text: typedDirectory + String(common),
            candidates: entries.map { $0.name + ($0.isDirectory ? "/" : "") })
    }
}
