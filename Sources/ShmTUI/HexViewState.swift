import ShmCore

/// A read of part of the segment: the live window, or the whole segment while paused.
package struct Frame: Equatable, Sendable {
    package var offset: Int
    package var bytes: [UInt8]

    package init(offset: Int, bytes: [UInt8]) {
        self.offset = offset
        self.bytes = bytes
    }

    package func byte(at position: Int) -> UInt8? {
        let i = position - offset
        return i >= 0 && i < bytes.count ? bytes[i] : nil
    }
}

/// One staged byte edit, kept for undo: the offset and what was staged there before.
package struct StagedEdit: Equatable, Sendable {
    package var offset: Int
    package var previous: UInt8?
}

/// Why we are polling for the lock.
package enum LockWait: Equatable, Sendable {
    /// `L`: hold it until `U`.
    case hold
    /// A confirmed commit without the lock: lock, write the staged bytes, unlock.
    case commit
    /// `u`: lock, write the last commit's old bytes back (if unchanged since), unlock.
    case undoCommit
}

/// What to do once the source is attached read-write.
package enum AfterAttach: Equatable, Sendable {
    case edit, lock
}

/// One commit, kept so `u` can undo it: what we wrote, what was there before, and whether it went under a lock.
package struct CommitRecord: Equatable, Sendable {
    package var written: [WriteRun]
    package var previous: [WriteRun]
    package var underLock: Bool

    package init(written: [WriteRun], previous: [WriteRun], underLock: Bool) {
        self.written = written
        self.previous = previous
        self.underLock = underLock
    }

    package var byteCount: Int { written.reduce(0) { $0 + $1.bytes.count } }
}

/// What the commit dialog shows before anything is written: the runs, the lock (nil: none) and who is attached.
package struct CommitPlan: Equatable, Sendable {
    package var runs: [WriteRun]
    /// "mechanism name", or nil when the segment has no lock shmscope can take.
    package var lock: String?
    package var who: WhoInfo
    /// `--no-lock`: the user chose to write without taking `lock`.
    package var noLock: Bool

    package init(runs: [WriteRun], lock: String?, who: WhoInfo, noLock: Bool = false) {
        self.runs = runs
        self.lock = lock
        self.who = who
        self.noLock = noLock
    }

    package var byteCount: Int { runs.reduce(0) { $0 + $1.bytes.count } }
}

package enum PromptKind: Equatable, Sendable {
    case goto, search
    /// `?`: search backward.
    case searchBackward
    /// `:`: an offset or expression to go to, or `q`, `q!`, `w`.
    case command
    /// A removed segment: save the staged bytes (as a snapshot of our copy) instead of committing.
    case saveStaged
    /// `=`: a typed value to write at the cursor, `TYPE VALUE`.
    case value
    /// `S` / `O`: a snapshot file to save to or load from.
    case saveSnapshot, loadSnapshot
    /// `f`: a layout field to jump to, by name (`hdr.state`, `counter[2]`, or a unique last part like `state`).
    case field
    /// The file `S` named exists: `y` + Enter replaces it, anything else keeps it.
    case replaceSnapshot(path: String)
    /// `B`: a breakpoint's condition (Tab toggles freezing on a hit); `T` a replay time; `P` a playback speed;
    /// `R` breakpoints to remove.
    case breakpoint(freeze: Bool)
    case seekTime, playSpeed, deleteBreakpoint
}

extension PromptKind {
    /// The history a prompt shares (Up/Down); nil for a one-off question.
    package var historyName: String? {
        switch self {
        case .goto, .command: "goto"
        case .search, .searchBackward: "search"
        case .saveStaged, .saveSnapshot, .loadSnapshot: "file"
        case .value: "value"
        case .field: "field"
        case .replaceSnapshot: nil
        case .breakpoint: "breakpoint"
        case .seekTime: "time"
        case .playSpeed, .deleteBreakpoint: nil
        }
    }

    /// Prompts that take a file name: Tab completes paths, `~` is expanded.
    package var takesFile: Bool { historyName == "file" }
}

package struct Prompt: Equatable, Sendable {
    package var kind: PromptKind
    package var line = LineEditor()
    /// What Tab found when more than one file matches (shown on the key bar line).
    package var candidates: [String] = []

    package init(kind: PromptKind, text: String = "") {
        self.kind = kind
        line = LineEditor(text)
    }

    package var text: String { line.text }
}

package enum HexMode: Equatable, Sendable {
    case normal
    case prompt(Prompt)
    case help(scroll: Int)
    case confirmQuit
    /// `X`: discard every staged byte? (y/n)
    case confirmDiscard
    /// F8, Ctrl-S, `:w`: what the commit will do; `y` (or `!` without a lock) writes.
    case commitDialog(CommitPlan)
}

package struct Message: Equatable, Sendable {
    package var text: String
    package var isError: Bool

    package static func info(_ text: String) -> Message { Message(text: text, isError: false) }
    package static func error(_ text: String) -> Message { Message(text: text, isError: true) }
}

/// Everything the hex view shows. The reducer changes it; widgets only read it.
package struct HexViewState: Equatable, Sendable {
    package var target: String
    package var kind: String
    package var size: Int
    /// The user chose never to write (`--read-only`, `watch`, the browser's `r`): edit mode and `L` are refused.
    package var readOnly: Bool
    /// The source is attached read-write (after `e` or `L`); views start read-only.
    package var attachedReadWrite = false
    /// Edit mode (`e`, Insert): the only mode in which keys stage bytes. Esc leaves it and keeps what is staged.
    package var editing = false
    /// A count typed before a motion (`16j`, `3w`).
    package var pendingCount: Int?
    /// The last commit, for `u`.
    package var lastCommit: CommitRecord?
    /// Bytes `w` and `b` step by: the inspector's value width (u32 by default).
    package var valueWidth = 4
    package var width = 80
    package var height = 24
    /// `--bytes-per-row`; nil fits the width.
    package var fixedBytesPerRow: Int?
    /// `--no-lock`: commits never take the lock (chosen on the command line, as for `write --no-lock`).
    package var noLock = false
    package var cursor = 0
    /// Offset of the first visible row (a multiple of bytesPerRow).
    package var top = 0
    package var pane: Pane = .hex
    /// After the first hex digit of a byte: the next digit is the low nibble.
    package var midByte = false
    package var intervalMS = 100
    package var paused = false
    package var frame = Frame(offset: 0, bytes: [])
    /// When each recently changed byte changed (seconds), for the fading highlight.
    package var changedAt: [Int: Double] = [:]
    package var staged: [Int: UInt8] = [:]
    package var undoStack: [StagedEdit] = []
    package var lock: LockStatus = .unlocked
    package var lockWait: LockWait?
    package var mode: HexMode = .normal
    package var message: Message?
    package var lastSearch: SearchQuery?
    /// The direction of the last `/` or `?`: `n` repeats it, `N` reverses it.
    package var lastSearchForward = true
    package var now: Double = 0
    /// The pane under the hex rows, if any (one at a time; hidden when the terminal is too small).
    package var panel: Panel?
    /// The who pane's data, refreshed about once a second.
    package var who: WhoInfo?
    /// The activity map's data, after each whole-segment scan.
    package var activity = ActivitySummary()
    /// Per-byte change counts of the bytes in `frame`.
    package var byteChangeCounts: [Int: UInt32] = [:]
    /// The snapshot taken with `s` or loaded with `O`, and when it was taken (seconds since the epoch).
    package var snapshot: [UInt8]?
    package var snapshotTime: Double?
    /// Highlight every byte that differs from the snapshot.
    package var diffMode = false
    /// The runs that differ from the snapshot, as last compared (for the diff pane and `]` `[`); at most
    /// `diffRunLimit`, `diffRunsTruncated` when there were more.
    package var diffRuns: [DiffRun] = []
    package var diffRunsTruncated = false
    package static let diffRunLimit = 10_000
    /// The layout given with `--layout`, the bytes it covers (read every refresh), and when each member (by
    /// ordinal) last changed.
    package var structLayout: StructLayout?
    package var layoutFrame = Frame(offset: 0, bytes: [])
    package var layoutChangedAt: [Int: Double] = [:]
    /// The layout's fields decoded from the last read.
    package var layoutFields: [StructLayout.DecodedField] {
        structLayout?.decode(layoutFrame.bytes, base: layoutFrame.offset) ?? []
    }
    /// The member under the cursor (nil without a layout or in padding).
    package var fieldAtCursor: StructLayout.Member? { structLayout?.member(covering: cursor) }
    /// Another process removed the segment (this view never removes one: it cannot tell a peer from `shmscope rm`
    /// in another terminal, so it does not say "a peer"); we still show the copy we have mapped.
    package var removed = false
    /// Each prompt's earlier lines (Up/Down).
    package var history = PromptHistory()
    /// Breakpoints, the last hit and a replay's timeline.
    package var debug = DebugViewState()

    /// How long a change stays highlighted.
    package static let fadeSeconds = 1.0
    package static let minWidth = 40
    package static let minHeight = 10

    package init(target: String, kind: String, size: Int, readOnly: Bool) {
        self.target = target
        self.kind = kind
        self.size = size
        self.readOnly = readOnly
    }

    package var layout: HexLayout {
        fixedBytesPerRow.map { HexLayout(bytesPerRow: $0) } ?? HexLayout.fitting(width: width)
    }
    package var bytesPerRow: Int { layout.bytesPerRow }
    /// Screen rows for data: all but the status line, the message line, the key bar and the open pane.
    package var visibleRows: Int { max(1, height - 3 - panelRows) }
    /// Rows the open pane takes: its wanted height, at most half the data area; 0 (hidden) below 3 rows.
    package var panelRows: Int {
        guard let panel, !tooSmall else { return 0 }
        let rows = min(panel.wantedRows(fields: structLayout?.memberCount ?? 0), (height - 3) / 2)
        return rows >= 3 ? rows : 0
    }
    package var tooSmall: Bool { width < Self.minWidth || height < Self.minHeight }
    /// The bytes on screen: offset and count.
    package var window: (offset: Int, count: Int) { (top, max(0, min(size - top, visibleRows * bytesPerRow))) }

    /// What the byte at `offset` shows: the staged value, else the last read.
    package func displayed(_ offset: Int) -> UInt8? { staged[offset] ?? frame.byte(at: offset) }

    /// Whether the byte at `offset` differs from the snapshot (diff mode).
    package func differsFromSnapshot(_ offset: Int) -> Bool {
        guard diffMode, let snapshot, offset < snapshot.count, let now = frame.byte(at: offset) else { return false }
        return snapshot[offset] != now
    }

    /// 3 just changed … 1 nearly faded, 0 not highlighted.
    package func changeLevel(_ offset: Int) -> Int {
        guard let t = changedAt[offset] else { return 0 }
        let age = now - t
        if age < 0 || age >= Self.fadeSeconds { return age < 0 ? 3 : 0 }
        return 3 - Int(age / (Self.fadeSeconds / 3))
    }
}
