import ShmCore

/// Everything that can happen to the hex view: user intents (from keys) and results coming back from the source.
package enum HexAction: Equatable, Sendable {
    // Movement
    case move(Int)
    case moveRows(Int)
    case page(Int)
    /// Ctrl-D / Ctrl-U: half pages.
    case halfPage(Int)
    /// `w` / `b`: the next/previous value of the inspector's width, or field when the layout pane is shown.
    case stepValue(Int)
    /// A digit of a count (`16j`).
    case countDigit(Int)
    case rowStart, rowEnd, start, end
    case switchPane
    case click(x: Int, y: Int)
    case scroll(rows: Int)
    case resize(width: Int, height: Int)
    // Prompts and overlays
    case openPrompt(PromptKind)
    case promptInput(Character)
    case promptBackspace
    case promptSubmit
    /// A line-editing key at a prompt (cursor, Ctrl-A/E/W/U/K, history).
    case promptEdit(LineEdit)
    /// Tab at a prompt that takes a file: complete the path.
    case promptComplete
    /// What completing the path found.
    case promptCompleted(PathCompletion)
    case escape
    case help
    case helpScroll(Int)
    /// `n` (true: the last search's direction) and `N` (false: the other way).
    case repeatSearch(forward: Bool)
    // Live view
    case togglePause
    case redraw
    // Lock and edit
    case lock
    case unlock
    /// `e` / Insert: edit mode (re-attaching read-write first).
    case enterEdit
    case typeHex(UInt8)
    case typeChar(UInt8)
    case undoLast
    case undoAll
    /// F8, Ctrl-S, `:w`: opens the commit dialog.
    case commit
    /// In the commit dialog: `y` (false) or `!` (true: the explicit choice to write without a lock).
    case commitConfirm(withoutLock: Bool)
    /// `u` in view mode: write the last commit's old bytes back.
    case undoCommit
    /// `X`: asks, then discards every staged byte.
    case discard
    case confirmDiscard(Bool)
    case quit
    case confirmQuit(Bool)
    // Panes, snapshots, diff
    case togglePanel(Panel)
    case cyclePanel
    case takeSnapshot
    case toggleDiff
    case nextDifference(forward: Bool)
    case nextActiveBlock(forward: Bool)
    // Results from the driver
    case frame(Frame, now: Double)
    case lockAttempt(acquired: Bool, status: LockStatus)
    case lockStatus(LockStatus)
    /// `previous`: the bytes the runs replaced (read under the same lock just before), for `u`.
    case wrote(count: Int, error: String?, previous: [WriteRun])
    case commitPlan(CommitPlan)
    case attachedReadWrite(then: AfterAttach, error: String?)
    case reverted(count: Int, error: String?)
    case stagedSaved(path: String, error: String?)
    case unlocked(error: String?)
    case searchResult(query: SearchQuery, offset: Int?, wrapped: Bool)
    case tick(now: Double)
    case who(WhoInfo)
    case activity(ActivitySummary, byteCounts: [Int: UInt32])
    case snapshotTaken(bytes: [UInt8], time: Double, source: String)
    case snapshotSaved(path: String, error: String?)
    /// Saving found a file at `path` and replaced nothing: ask before replacing it.
    case snapshotExists(path: String)
    /// The runs that differ from the snapshot now; with `jump`, `]` / `[` asked for them and the cursor moves.
    case differenceRuns([DiffRun], truncated: Bool, jump: DiffJump?)
    /// The bytes the layout covers, read this refresh.
    case layoutBytes(Frame, now: Double)
    /// The segment was removed, resized or created again (from the change-following engine).
    case segmentEvent(WatchEvent)
    /// An effect failed (a read, a search, a snapshot): the message line says so.
    case failed(String)
    /// Taking the lock failed with an error (not just "held"): stop waiting for it.
    case lockFailed(String)
    /// Breakpoints and a replay's timeline (HexDebugging.swift).
    case debug(DebugAction)

    /// Results of effects and the clock, as opposed to the user's intents; a count survives them.
    package var isResult: Bool {
        switch self {
        case .frame, .lockAttempt, .lockStatus, .wrote, .unlocked, .searchResult, .tick, .who, .activity,
            .snapshotTaken, .snapshotSaved, .differenceRuns, .layoutBytes, .segmentEvent, .failed, .lockFailed,
            .commitPlan, .attachedReadWrite, .reverted, .stagedSaved, .resize, .promptCompleted:
            true
        case .debug(let a):
            switch a {
            case .timelineMoved, .breakpointAdded, .breakpointHit, .breakpointsRemoved, .playbackEnded: true
            default: false
            }
        default: false
        }
    }
}

/// Where `]` / `[` started from, and which way.
package struct DiffJump: Equatable, Sendable {
    package var from: Int
    package var forward: Bool

    package init(from: Int, forward: Bool) {
        self.from = from
        self.forward = forward
    }
}

/// A contiguous run of staged bytes to write.
package struct WriteRun: Equatable, Sendable {
    package var offset: Int
    package var bytes: [UInt8]
}

/// What the reducer asks the driver to do; the driver does it and reports back with an action.
package enum HexEffect: Equatable, Sendable {
    /// Read the visible window now (the view moved, or live mode resumed).
    case refreshNow
    /// Read the whole segment once to freeze it.
    case snapshot
    /// Try the lock now (and every frame while `lockWait` is set).
    case tryLock
    case unlock
    /// Re-attach read-write (edit mode, `L`), then report `.attachedReadWrite`.
    case attachReadWrite(then: AfterAttach)
    /// Ask the source for its lock and the Who provider for attached processes, then open the commit dialog.
    case prepareCommit([WriteRun])
    /// Read each run's old bytes, write the run; report `.wrote` with the old bytes.
    case write([WriteRun], unlockAfter: Bool)
    /// Undo a commit: only if the segment still holds what we wrote, write the old bytes back.
    case revert(CommitRecord, unlockAfter: Bool)
    /// Save our copy with the staged bytes applied as a snapshot file (a removed segment cannot be written).
    case saveStaged(path: String, runs: [WriteRun])
    case search(SearchQuery, from: Int, forward: Bool)
    /// List the directory of a typed path and report `.promptCompleted`.
    case completePath(String)
    /// Read the whole segment into a snapshot.
    case takeSnapshot
    case saveSnapshot(path: String, replace: Bool)
    case loadSnapshot(path: String)
    /// Compare the segment with the snapshot (report `.differenceRuns`); with `jump`, for `]` / `[`.
    case compareWithSnapshot(jump: DiffJump?)
    /// Repaint the whole terminal (Ctrl-L).
    case redraw
    case quit
    /// Breakpoints and a replay's timeline.
    case debug(DebugEffect)
}
