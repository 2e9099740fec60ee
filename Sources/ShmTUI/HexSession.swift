/// Runs the hex view against a `LiveSource`: feeds keys through the key map and reducer, performs the effects,
/// and reports their results back as actions. All I/O is here; all decisions are in `reduce`.
package final class HexSession: TUIProgram {
    package private(set) var state: HexViewState
    package let source: any LiveSource
    package let theme: Theme
    package private(set) var isFinished = false
    package var wantsFullRedraw = false
    /// How long one lock attempt may block the loop; short, so the UI stays responsive while waiting.
    package var lockPollTimeout: Duration = .milliseconds(20)
    private var lastRefresh = -Double.infinity

    package init(
        source: any LiveSource, theme: Theme, intervalMS: Int = 100, fixedBytesPerRow: Int? = nil,
        width: Int = 80, height: Int = 24, now: Double = 0
    ) {
        self.source = source
        self.theme = theme
        var s = HexViewState(
            target: source.targetName, kind: source.kindName, size: source.size, readOnly: source.isReadOnly)
        s.intervalMS = max(10, intervalMS)
        s.fixedBytesPerRow = fixedBytesPerRow
        s.width = width
        s.height = height
        s.now = now
        s.lock = source.lockStatus()
        state = s
        refresh(now: now)
    }

    package var pollIntervalMS: Int { min(state.intervalMS, 50) }

    package func send(_ key: Key, now: Double) {
        state.now = now
        if let action = hexAction(for: key, in: state) { dispatch(action) }
    }

    package func dispatch(_ action: HexAction) {
        for effect in reduce(&state, action) { perform(effect) }
    }

    package func tick(now: Double) {
        dispatch(.tick(now: now))
        if state.lockWait != nil { attemptLock() }
        // A millisecond of slack so a loop woken exactly one interval later does refresh.
        if now - lastRefresh >= Double(state.intervalMS) / 1000 - 0.001 {
            if !state.paused { refresh(now: now) }
            lastRefresh = now
            if state.lockWait == nil { dispatch(.lockStatus(source.lockStatus())) }
        }
    }

    package func render() -> ScreenBuffer { renderHexScreen(state, theme: theme) }

    package func shutdown() {
        source.close()
    }

    private func refresh(now: Double) {
        let window = state.window
        do {
            let bytes = try source.read(offset: window.offset, count: window.count)
            dispatch(.frame(Frame(offset: window.offset, bytes: bytes), now: now))
        } catch {
            state.message = .error("read failed: \(error)")
        }
        lastRefresh = now
    }

    private func attemptLock() {
        do {
            let acquired = try source.tryLock(timeout: lockPollTimeout)
            dispatch(.lockAttempt(acquired: acquired, status: acquired ? .lockedByUs : source.lockStatus()))
        } catch {
            state.lockWait = nil
            state.message = .error("cannot lock: \(error)")
        }
    }

    private func perform(_ effect: HexEffect) {
        switch effect {
        case .refreshNow:
            refresh(now: state.now)
        case .snapshot:
            do {
                let bytes = try source.read(offset: 0, count: source.size)
                dispatch(.frame(Frame(offset: 0, bytes: bytes), now: state.now))
            } catch {
                state.message = .error("snapshot failed: \(error)")
            }
        case .tryLock:
            attemptLock()
        case .unlock:
            do {
                try source.unlock()
                dispatch(.unlocked(error: nil))
            } catch {
                dispatch(.unlocked(error: "\(error)"))
            }
        case .write(let runs, let unlockAfter):
            var failure: String?
            for run in runs where failure == nil {
                do { try source.write(run.bytes, at: run.offset) } catch { failure = "\(error)" }
            }
            if unlockAfter {
                do { try source.unlock() } catch { failure = failure ?? "unlock: \(error)" }
                dispatch(.lockStatus(source.lockStatus()))
            }
            dispatch(.wrote(count: runs.reduce(0) { $0 + $1.bytes.count }, error: failure))
        case .search(let query, let from, let forward):
            let haystack: [UInt8]
            if state.paused, state.frame.offset == 0, state.frame.bytes.count == source.size {
                haystack = state.frame.bytes
            } else {
                do { haystack = try source.read(offset: 0, count: source.size) } catch {
                    state.message = .error("search failed: \(error)")
                    return
                }
            }
            let hit = findBytes(query.bytes, in: haystack, from: from, forward: forward)
            dispatch(.searchResult(query: query, offset: hit?.offset, wrapped: hit?.wrapped ?? false))
        case .redraw:
            wantsFullRedraw = true
        case .quit:
            isFinished = true
        }
    }
}
