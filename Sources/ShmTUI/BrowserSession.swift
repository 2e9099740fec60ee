import ShmCore

/// The no-argument screen: the segment table, and the hex view of whichever segment the user opens. Quitting the
/// hex view comes back here; quitting here ends the program.
package final class BrowserSession: TUIProgram {
    package private(set) var state: BrowserState
    package private(set) var hex: HexSession?
    package private(set) var isFinished = false
    package var wantsFullRedraw = false
    /// The rows, `info`'s lines, removal and Qt key naming.
    let directory: any SegmentDirectory
    /// Builds the hex view of whichever segment is opened: the same composition `open` and `demo` use.
    let views: HexViewComposer
    var theme: Theme { views.theme }
    private var lastReload: Double
    /// The hex views' prompt history (`:`, `/`, file names), kept from one opened view to the next.
    private var hexHistory = PromptHistory()

    package init(views: HexViewComposer, directory: any SegmentDirectory, now: Double = 0) {
        self.directory = directory
        self.views = views
        state = BrowserState(rows: directory.rows())
        lastReload = now
    }

    package var pollIntervalMS: Int { hex?.pollIntervalMS ?? min(100, state.intervalMS) }

    package func send(_ key: Key, now: Double) {
        if let hex {
            if case .resize(let w, let h) = key { _ = reduce(&state, .resize(width: w, height: h)) }
            hex.send(key, now: now)
            closeHexIfDone(now: now)
            return
        }
        if let action = browserAction(for: key, in: state) { dispatch(action, now: now) }
    }

    package func dispatch(_ action: BrowserAction, now: Double) {
        for effect in reduce(&state, action) {
            switch effect {
            case .quit:
                isFinished = true
            case .reload:
                reload(now: now)
            case .open(let target, let readOnly):
                do {
                    hex = try views.session(
                        for: target, readOnly: readOnly, width: state.width, height: state.height, now: now)
                    hex?.adoptHistory(hexHistory)
                    wantsFullRedraw = true
                } catch {
                    _ = reduce(&state, .openFailed("cannot open \(target): \(error)"))
                }
            case .planRemoval(let target):
                do {
                    dispatch(.removalPlanned(try directory.removal(target)), now: now)
                } catch {
                    dispatch(.report(.error("\(error)")), now: now)
                }
            case .remove(let target, let force):
                do {
                    dispatch(.report(.info(try directory.remove(target, force: force))), now: now)
                } catch {
                    dispatch(.report(.error("\(error)")), now: now)
                }
                reload(now: now)
            case .nameSegment(let target, let key):
                do {
                    let named = try directory.name(target, qtKey: key)
                    dispatch(.named(named, key: key), now: now)
                } catch {
                    dispatch(.report(.error("\(error)")), now: now)
                }
            }
        }
        updateInfo(force: false)
    }

    package func tick(now: Double) {
        if let hex {
            hex.tick(now: now)
            if hex.wantsFullRedraw {
                hex.wantsFullRedraw = false
                wantsFullRedraw = true
            }
            return
        }
        if now - lastReload >= Double(state.intervalMS) / 1000 - 0.001 { reload(now: now) }
    }

    package func render() -> ScreenBuffer {
        if let hex { return hex.render() }
        return renderBrowserScreen(state, theme: theme)
    }

    package func shutdown() {
        hex?.shutdown()
        hex = nil
    }

    private func reload(now: Double) {
        lastReload = now
        _ = reduce(&state, .rows(directory.rows()))
        updateInfo(force: true)
    }

    /// The info pane follows the selection, and is read again with every rescan.
    private func updateInfo(force: Bool) {
        guard state.showInfo, let target = state.selected?.target else { return }
        guard force || target != state.infoTarget else { return }
        _ = reduce(&state, .info(target, directory.info(target)))
    }

    private func closeHexIfDone(now: Double) {
        guard let hex, hex.isFinished else { return }
        hexHistory = hex.state.history
        hex.shutdown()
        self.hex = nil
        wantsFullRedraw = true
        reload(now: now)
    }
}
