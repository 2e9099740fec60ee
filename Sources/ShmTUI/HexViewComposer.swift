import ShmCore

/// Who has the segment attached and who holds its lock, for the Who pane (`W`).
package protocol WhoProvider: AnyObject {
    /// Asked at most once a second while the pane is open.
    func who() -> WhoInfo
}

/// The catalog's answer for a resolved target: a /proc scan with the view's own temp dir and keys, and the lock the
/// view really takes (a semaphore named with `--sem` included), so the pane and `info` never disagree.
package final class CatalogWho: WhoProvider {
    package let resolved: ResolvedTarget

    package init(_ resolved: ResolvedTarget) { self.resolved = resolved }

    package func who() -> WhoInfo { WhoInfo(entry: resolved.scanEntry().entry) }
}

/// The explicit stand-in where nobody can be asked: the pane shows why, instead of "looking…".
package final class NoWho: WhoProvider {
    package let reason: String

    package init(reason: String) { self.reason = reason }

    package func who() -> WhoInfo { WhoInfo(unavailable: reason) }
}

/// The layout a view decodes in its layout pane (`t`): one the user gave, the demo's own, or none.
package enum ViewLayout: Sendable {
    case given(StructLayout)
    case none

    package var structLayout: StructLayout? {
        if case .given(let layout) = self { return layout }
        return nil
    }
}

/// How often the view refreshes and how many bytes a row shows (nil fits the width).
package struct HexViewSettings: Sendable, Equatable {
    package var intervalMS: Int
    package var bytesPerRow: Int?
    /// `--no-lock`: commits write without taking the segment's lock (the user's explicit choice, as for `write`).
    package var noLock: Bool

    package init(intervalMS: Int = 100, bytesPerRow: Int? = nil, noLock: Bool = false) {
        self.intervalMS = intervalMS
        self.bytesPerRow = bytesPerRow
        self.noLock = noLock
    }
}

/// The one place a hex view is built. Every route into it (`open`, `watch`, `demo`, the browser's Enter / `r` /
/// `o`) makes a composer from its options and asks it for a session; the composer resolves the target with the
/// route's `TargetContext` (temp dir, semaphore, keys), attaches, and hands the session everything it needs. A new
/// capability is added here once, and every route has it.
package struct HexViewComposer {
    /// What a resolved target attaches to: the live source and who to ask about it. `readOnly` is the user's
    /// choice to never write; without it the source still attaches read-only and re-attaches read-write only when
    /// the user enters edit mode or locks (a look must not take Qt's lifecycle lock or create its semaphore).
    package typealias Attach = (ResolvedTarget, _ readOnly: Bool) throws -> (
        source: any LiveSource, who: any WhoProvider
    )

    package let theme: Theme
    package let settings: HexViewSettings
    package let layout: ViewLayout
    package let context: TargetContext
    private let attach: Attach

    /// `attach` is replaced only by tests (an in-memory source); real routes use `live`.
    package init(
        theme: Theme, settings: HexViewSettings, layout: ViewLayout, context: TargetContext, attach: @escaping Attach
    ) {
        self.theme = theme
        self.settings = settings
        self.layout = layout
        self.context = context
        self.attach = attach
    }

    /// Real segments: a `SharedMemorySource` (detaching never removes anything) and the catalog's Who.
    package static func live(
        theme: Theme, settings: HexViewSettings, layout: ViewLayout, context: TargetContext
    ) -> HexViewComposer {
        HexViewComposer(theme: theme, settings: settings, layout: layout, context: context) { resolved, readOnly in
            let source = try SharedMemorySource(resolved: resolved, access: readOnly ? .readOnly : .viewFirst)
            return (source, CatalogWho(resolved))
        }
    }

    /// Resolves `target` in this composer's context and builds its view.
    /// `namespace` is the pid whose namespaces a browser row's segment is in; a context that lists every
    /// namespace (`--ns all`) opens a target named by hand in our own.
    package func session(
        for target: SegmentTarget, readOnly: Bool, namespace: Int32? = nil, width: Int = 80, height: Int = 24,
        now: Double = 0
    ) throws -> HexSession {
        var context = self.context
        if let namespace {
            context.namespace = .process(namespace)
        } else if context.namespace == .all {
            context.namespace = .current
        }
        let resolved = try ResolvedTarget.resolve(target, context: context)
        return try session(for: resolved, readOnly: readOnly, width: width, height: height, now: now)
    }

    /// The view of a recording (`replay`): the same session, reading the player's state, with its timeline and the
    /// recorded Who.
    package func session(replaying player: RecordingPlayer, width: Int = 80, height: Int = 24, now: Double = 0)
        -> HexSession
    {
        let source = RecordingSource(player: player)
        return HexSession(
            source: source, who: RecordedWhoProvider(player: player), timeline: source, layout: layout,
            settings: settings, theme: theme, width: width, height: height, now: now)
    }

    /// Builds the view of an already resolved target.
    package func session(
        for resolved: ResolvedTarget, readOnly: Bool, width: Int = 80, height: Int = 24, now: Double = 0
    ) throws -> HexSession {
        let (source, who) = try attach(resolved, readOnly)
        var settings = self.settings
        settings.noLock = resolved.context.noLock
        return HexSession(
            source: source, who: who, timeline: LiveTimeline(), layout: layout, settings: settings, theme: theme,
            width: width, height: height, now: now)
    }
}
