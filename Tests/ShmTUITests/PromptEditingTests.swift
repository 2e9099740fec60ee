import Glibc
import ShmTestSupport
import Testing

@testable import ShmCore
@testable import ShmTUI

/// The one prompt line editor (every prompt of the hex view and the browser), and the hex view's habits from the
/// key table: help closing on any key but scroll keys, key bars in F-number order cut by priority, and a status
/// line that keeps the cursor offset to the last.
@Suite struct PromptEditingTests {
    // MARK: LineEditor

    func edited(_ text: String, _ edits: LineEdit..., history: [String] = []) -> LineEditor {
        var line = LineEditor(text)
        for e in edits { line.apply(e, history: history) }
        return line
    }

    @Test func cursorMovesAndTypingInserts() {
        let line = edited("0x48", .left, .left, .insert("4"), .home, .insert("+"), .end, .insert("8"))
        #expect(line.text == "+0x4488")
        #expect(line.cursor == 7)
        #expect(edited("ab", .left, .left, .left, .insert("<")).text == "<ab")
        #expect(edited("ab", .right, .insert(">")).text == "ab>")
        #expect(edited("abc", .left, .backspace).text == "ac")
        #expect(edited("abc", .home, .backspace).text == "abc")
        #expect(edited("abc", .home, .deleteForward).text == "bc")
        #expect(edited("abc", .deleteForward).text == "abc")
    }

    @Test func controlKeysDeleteAsReadlineDoes() {
        #expect(edited("x de ad", .deleteWordBack).text == "x de ")
        #expect(edited("x de ad  ", .deleteWordBack).text == "x de ")
        #expect(edited("x de ad", .left, .left, .deleteWordBack).text == "x ad")
        #expect(edited("~/snaps/a.snap", .deleteToStart).text == "")
        let u = edited("0x40+8", .left, .left, .deleteToStart)
        #expect(u.text == "+8" && u.cursor == 0)
        let k = edited("0x40+8", .home, .right, .right, .deleteToEnd)
        #expect(k.text == "0x" && k.cursor == 2)
    }

    @Test func keysMapToEdits() {
        #expect(LineEdit(.ctrl("a")) == .home)
        #expect(LineEdit(.ctrl("e")) == .end)
        #expect(LineEdit(.ctrl("w")) == .deleteWordBack)
        #expect(LineEdit(.ctrl("u")) == .deleteToStart)
        #expect(LineEdit(.ctrl("k")) == .deleteToEnd)
        #expect(LineEdit(.ctrl("b")) == .left && LineEdit(.ctrl("f")) == .right)
        #expect(LineEdit(.home) == .home && LineEdit(.end) == .end)
        #expect(LineEdit(.up) == .historyBack && LineEdit(.down) == .historyForward)
        #expect(LineEdit(.delete) == .deleteForward)
        #expect(LineEdit(.char("é")) == .insert("é"))
        #expect(LineEdit(.enter) == nil && LineEdit(.escape) == nil && LineEdit(.tab) == nil)
    }

    @Test func historyWalksBackAndForwardToWhatWasTyped() {
        let history = ["0x10", "4K", "$"]
        var line = LineEditor("0x")
        line.apply(.historyBack, history: history)
        #expect(line.text == "$")
        line.apply(.historyBack, history: history)
        line.apply(.historyBack, history: history)
        #expect(line.text == "0x10")
        line.apply(.historyBack, history: history)
        #expect(line.text == "0x10")
        line.apply(.historyForward, history: history)
        #expect(line.text == "4K")
        line.apply(.historyForward, history: history)
        line.apply(.historyForward, history: history)
        #expect(line.text == "0x" && line.cursor == 2)
        line.apply(.historyForward, history: history)
        #expect(line.text == "0x")
        // Editing a recalled line makes it the user's: Up starts from the newest again.
        line.apply(.historyBack, history: history)
        line.apply(.historyBack, history: history)
        line.apply(.insert("+"), history: history)
        line.apply(.historyBack, history: history)
        #expect(line.text == "$")
        var none = LineEditor("typed")
        none.apply(.historyBack, history: [])
        #expect(none.text == "typed")
    }

    @Test func historyKeepsOneCopyOfEachLineNewestLast() {
        var h = PromptHistory()
        for line in ["a", "b", "a", " ", ""] { h.add(line, to: "goto") }
        h.add("x", to: "search")
        #expect(h.lines("goto") == ["b", "a"])
        #expect(h.lines("search") == ["x"])
        for i in 0..<150 { h.add("\(i)", to: "many") }
        #expect(h.lines("many").count == PromptHistory.limit && h.lines("many").last == "149")
    }

    @Test func tildeAndPathCompletion() throws {
        #expect(expandTilde("~", home: "/root") == "/root")
        #expect(expandTilde("~/a.snap", home: "/root/") == "/root/a.snap")
        #expect(expandTilde("~other/a", home: "/root") == "~other/a")
        #expect(expandTilde("a~", home: "/root") == "a~")
        #expect(expandTilde("~/a", home: nil) == "~/a")

        let dir = "/tmp/\(uniqueName("complete"))"
        try #require(mkdir(dir, 0o700) == 0)
        defer {
            for name in ["snap-one.snap", "snap-two.snap", "single.bin", ".hidden"] { unlink("\(dir)/\(name)") }
            rmdir("\(dir)/sub")
            rmdir(dir)
        }
        for name in ["snap-one.snap", "snap-two.snap", "single.bin", ".hidden"] {
            close(open("\(dir)/\(name)", O_CREAT | O_WRONLY, 0o600))
        }
        #expect(mkdir("\(dir)/sub", 0o700) == 0)
        let list: (String) -> [(name: String, isDirectory: Bool)]? = { DirectoryListing.entries($0) }
        let common = PathCompletion.complete("\(dir)/sn", home: nil, list: list)
        #expect(common.text == "\(dir)/snap-")
        #expect(common.candidates == ["snap-one.snap", "snap-two.snap"])
        #expect(PathCompletion.complete("\(dir)/si", home: nil, list: list) == .init(text: "\(dir)/single.bin", candidates: []))
        #expect(PathCompletion.complete("\(dir)/su", home: nil, list: list) == .init(text: "\(dir)/sub/", candidates: []))
        #expect(PathCompletion.complete("\(dir)/", home: nil, list: list).candidates == ["single.bin", "snap-one.snap", "snap-two.snap", "sub/"])
        #expect(PathCompletion.complete("\(dir)/.h", home: nil, list: list).text == "\(dir)/.hidden")
        #expect(PathCompletion.complete("\(dir)/zz", home: nil, list: list) == .init(text: "\(dir)/zz", candidates: []))
        // `~` is expanded to list the directory and kept in the line.
        let tilde = PathCompletion.complete("~/sn", home: dir, list: list)
        #expect(tilde.text == "~/snap-")
    }

    // MARK: The hex view's prompts

    final class Harness {
        let source: MemorySource
        let session: HexSession
        init(width: Int = 80, height: Int = 24, target: String = "qt:demo") {
            source = MemorySource(bytes: Array(repeating: 0, count: 1024), targetName: target, hasLock: true)
            session = HexSession(
                source: source, who: NoWho(reason: "in-memory test source"), layout: .none, settings: HexViewSettings(),
                theme: Theme(useColor: false), width: width, height: height, now: 10)
        }
        var state: HexViewState { session.state }
        func press(_ keys: Key...) { for key in keys { session.send(key, now: 10) } }
        func type(_ text: String) { for ch in text { session.send(.char(ch), now: 10) } }
        var prompt: Prompt? {
            if case .prompt(let p) = state.mode { return p }
            return nil
        }
        var screen: ScreenBuffer { renderHexScreen(state, theme: Theme(useColor: false)) }
    }

    @Test func gotoPromptEditsAndRemembersPerPrompt() {
        let h = Harness()
        h.press(.char(":"))
        h.type("0x40")
        h.press(.home)
        h.type("4")
        h.press(.ctrl("u"), .ctrl("e"))
        h.type("+8")
        #expect(h.prompt?.text == "0x40+8")
        #expect(h.screen.line(22) == ":0x40+8")
        h.press(.enter)
        #expect(h.state.cursor == 0x48)
        h.press(.ctrl("g"))
        h.type("4K")
        h.press(.enter)
        #expect(h.state.cursor == 1023)
        #expect(h.state.message?.text == "offset 4096 is outside the segment (0…1023): went to 1023")
        // `:` and the goto prompt share a history; search has its own.
        h.press(.char("/"), .up)
        #expect(h.prompt?.text == "")
        h.press(.escape, .char(":"), .up)
        #expect(h.prompt?.text == "4K")
        h.press(.up)
        #expect(h.prompt?.text == "0x40+8")
        h.press(.enter)
        #expect(h.state.cursor == 0x48)
        h.press(.char(":"))
        h.type("$")
        h.press(.enter)
        #expect(h.state.cursor == 1023)
        // Backspace on an empty line closes the prompt; Ctrl-W deletes a word.
        h.press(.char("/"))
        h.type("x de ad")
        h.press(.ctrl("w"))
        #expect(h.prompt?.text == "x de ")
        h.press(.ctrl("u"), .backspace)
        #expect(h.state.mode == .normal)
    }

    @Test func tabCompletesFilePromptsOnly() throws {
        let dir = "/tmp/\(uniqueName("tabsnap"))"
        try #require(mkdir(dir, 0o700) == 0)
        defer {
            unlink("\(dir)/first.snap")
            unlink("\(dir)/fourth.snap")
            rmdir(dir)
        }
        close(open("\(dir)/first.snap", O_CREAT | O_WRONLY, 0o600))
        close(open("\(dir)/fourth.snap", O_CREAT | O_WRONLY, 0o600))
        let h = Harness()
        h.press(.char("O"))
        h.type("\(dir)/f")
        h.press(.tab)
        #expect(h.prompt?.text == "\(dir)/f")
        #expect(h.prompt?.candidates == ["first.snap", "fourth.snap"])
        #expect(h.screen.line(23) == "2 match: first.snap  fourth.snap")
        h.type("i")
        #expect(h.prompt?.candidates == [])
        h.press(.tab)
        #expect(h.prompt?.text == "\(dir)/first.snap")
        #expect(h.state.message == nil)
        #expect(h.screen.line(23).hasPrefix("F1Help"))
        // Ctrl-W takes the whole path (words end at spaces, as readline's).
        h.press(.ctrl("w"))
        #expect(h.prompt?.text == "")
        h.type("\(dir)/zz")
        h.press(.tab)
        #expect(h.screen.line(23) == "no file matches \(dir)/zz")
        h.press(.escape)
        // Goto takes no file: Tab does nothing there (it never switches panes from a prompt either).
        h.press(.char(":"))
        h.type("1")
        h.press(.tab)
        #expect(h.prompt?.text == "1" && h.state.pane == .hex)
    }

    @Test func longPromptLinesScrollToKeepTheCursorInView() {
        let h = Harness(width: 40, height: 10)
        h.press(.char("/"))
        let long = String(repeating: "abcdefghij", count: 5)
        h.type(long)
        let line = h.screen.line(8)
        #expect(line.count <= 40)
        #expect(line.hasSuffix("cdefghij"))
        h.press(.home)
        #expect(h.screen.line(8).hasPrefix("Search (text, or x de ad): abcdefghij"))
    }

    // MARK: Help, key bars and the status line

    @Test func helpClosesOnAnyKeyButScrollKeys() {
        let h = Harness()
        for key: Key in [.char("x"), .char("G"), .char(":"), .enter, .tab, .function(8), .char("e")] {
            h.press(.function(1), .down)
            #expect(h.state.mode == .help(scroll: 1))
            h.press(key)
            #expect(h.state.mode == .normal, "\(key)")
            // The key only closed the overlay.
            #expect(h.state.cursor == 0 && !h.state.editing && !h.state.diffMode)
        }
        h.press(.function(1), .char(" "), .ctrl("f"), .pageUp, .ctrl("b"))
        #expect(h.state.mode == .help(scroll: 0))
    }

    @Test func keyBarsAreInFNumberOrderAndDropTheLeastUsefulFirst() {
        for bar in [hexKeyBar, readOnlyKeyBar, editKeyBar, browserKeyBar] {
            let numbers = bar.compactMap { $0.key.hasPrefix("F") ? Int($0.key.dropFirst()) : nil }
            #expect(numbers == numbers.sorted())
            #expect(bar.first { $0.key == "F10" }?.priority == bar.map(\.priority).filter { $0 < 10 }.max())
        }
        let keys = { (width: Int) in fittingKeyBar(hexKeyBar, width: width).map(\.key) }
        #expect(keys(200) == ["F1", "e", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10"])
        #expect(keys(80) == ["F1", "e", "F2", "F3", "F4", "F5", "F6", "F8", "F10"])
        #expect(keys(40) == ["F1", "e", "F8", "F10"])
        #expect(keys(10) == ["F10"])
    }

    @Test func narrowStatusLinesKeepTheModeAndTheCursorOffset() {
        let h = Harness(width: 60, target: "qt:com.example.telemetry.SharedFrameBuffer")
        h.press(.char("G"))
        #expect(h.screen.line(0) == " qt:com.example.telemetry.Sha… VIEW │ unlocked │ @0x000003ff")
        let narrow = Harness(width: 40, target: "qt:com.example.telemetry.SharedFrameBuffer")
        narrow.source.holderCommand = "encoder"
        narrow.press(.char("e"))
        narrow.type("41")
        let line = narrow.screen.line(0)
        #expect(line.count <= 40)
        #expect(line.contains("EDIT") && line.hasSuffix("@0x00000001 │ 1 staged"), "\(line)")
        let wide = Harness(width: 120, target: "qt:com.example.telemetry.SharedFrameBuffer")
        #expect(wide.screen.line(0) == " qt:com.example.telemetry.SharedFrameBuffer (Qt SysV) 1024 B VIEW │ unlocked │ @0x00000000 │ 10 Hz")
    }
}
