/// What the terminal loop drives: keys in, frames out. Implemented by the hex view, the browser and the app that
/// switches between them, so the curses backend knows nothing about either.
package protocol TUIProgram: AnyObject {
    func send(_ key: Key, now: Double)
    /// Called every loop turn: refresh data that is due, poll a lock being waited for, age highlights.
    func tick(now: Double)
    func render() -> ScreenBuffer
    var isFinished: Bool { get }
    /// How long the loop may wait for a key before the next tick.
    var pollIntervalMS: Int { get }
    /// Set when the whole terminal should be repainted; the backend clears it.
    var wantsFullRedraw: Bool { get set }
    /// Releases locks and detaches; runs on every exit path.
    func shutdown()
}
