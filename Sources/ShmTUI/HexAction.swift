import ShmCore

/// Everything that can happen to the hex view: user intents (from keys) and results coming back from the source.
package enum HexAction: Equatable, Sendable {
    // Movement
    case move(Int)
    case moveRows(Int)
    case page(Int)
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
    case escape
    case help
    case helpScroll(Int)
    case repeatSearch(forward: Bool)
    // Live view
    case togglePause
    case redraw
    // Lock and edit
    case lock
    case unlock
    case typeHex(UInt8)
    case typeChar(UInt8)
    case undoLast
    case undoAll
    case commit
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
    case wrote(count: Int, error: String?)
    case unlocked(error: String?)
    case searchResult(query: SearchQuery, offset: Int?, wrapped: Bool)
    case tick(now: Double)
    case who(WhoInfo)
    case activity(ActivitySummary, byteCounts: [Int: UInt32])
    case snapshotTaken(bytes: [UInt8], time: Double, source: String)
    case snapshotSaved(path: String, error: String?)
    /// Saving found a file at `path` and replaced nothing: ask before replacing it.
    case snapshotExists(path: String)
    case differenceResult(offset: Int?)
    case layoutValues([StructLayout.DecodedField], now: Double)
    /// The segment was removed, resized or created again (from the change-following engine).
    case segmentEvent(WatchEvent)
    /// An effect failed (a read, a search, a snapshot): the message line says so.
    case failed(String)
    /// Taking the lock failed with an error (not just "held"): stop waiting for it.
    case lockFailed(String)
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
    case write([WriteRun], unlockAfter: Bool)
    case search(SearchQuery, from: Int, forward: Bool)
    /// Read the whole segment into a snapshot.
    case takeSnapshot
    case saveSnapshot(path: String, replace: Bool)
    case loadSnapshot(path: String)
    /// Find the next/previous byte that differs from the snapshot, from `from`.
    case findDifference(from: Int, forward: Bool)
    /// Repaint the whole terminal (Ctrl-L).
    case redraw
    case quit
}
