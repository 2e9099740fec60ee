import ShmCore

/// The no-argument screen: the segment table, and the hex view of whichever segment the user opens. Quitting the
/// hex view comes back here; quitting here ends the program.
package final class BrowserSession: TUIProgram {
    package private(set) var state: BrowserState
    package private(set) var hex: HexSession?
    package private(set) var isFinished = false
    package var wantsFullRedraw = false
    let provider: () -> [BrowserRow]
    /// Builds the hex view of whichever segment is opened: the same composition `open` and `demo` use.
    let views: HexViewComposer
    var theme: Theme { views.theme }
    private var lastReload: Double
    /// The table is rescanned this often (seconds); scanning /proc is cheap but not free.
    package static let reloadSeconds = 1.0

    package init(views: HexViewComposer, now: Double = 0, provider: @escaping () -> [BrowserRow]) {
        self.provider = provider
        self.views = views
        state = BrowserState(rows: provider())
        lastReload = now
    }

    package var pollIntervalMS: Int { hex?.pollIntervalMS ?? 100 }

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
            case .open(let target, let readOnly, let namespace):
                do {
                    hex = try views.session(
                        for: target, readOnly: readOnly, namespace: namespace, width: state.width,
                        height: state.height, now: now)
                    wantsFullRedraw = true
                } catch {
                    _ = reduce(&state, .openFailed("cannot open \(target): \(error)"))
                }
            }
        }
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
        if now - lastReload >= Self.reloadSeconds { reload(now: now) }
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
        _ = reduce(&state, .rows(provider()))
    }

    private func closeHexIfDone(now: Double) {
        guard let hex, hex.isFinished else { return }
        hex.shutdown()
        self.hex = nil
        wantsFullRedraw = true
        reload(now: now)
    }
}
