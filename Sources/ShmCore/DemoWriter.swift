import CShmShims
import Glibc

/// The demo's peer: keeps a `DemoRecord` up to date under the segment's lock, like a Qt program would. The demo
/// command runs it in a child process (`demo --writer-only`); tests can run it in-process on a thread.
public struct DemoWriter: Sendable {
    public var target: SegmentTarget
    /// Milliseconds between updates.
    public var intervalMS: Int
    /// Milliseconds the lock is held for each update (a critical section); shorter than the interval.
    public var holdMS: Int

    public init(target: SegmentTarget, intervalMS: Int, holdMS: Int) {
        self.target = target
        self.intervalMS = intervalMS
        self.holdMS = holdMS
    }

    /// Makes the demo segment, replacing a leftover from a demo that was killed (nobody attached). Throws when a
    /// live demo uses it.
    public func createSegment() throws(ShmError) -> SharedMemory {
        let memory = SharedMemory(target, options: .init(detachPolicy: .keep))
        do {
            try memory.create(size: DemoRecord.size)
        } catch {
            guard error.kind == .alreadyExists else { throw error }
            if let entry = Catalog.scan(.init()).entry(for: target), entry.nattch > 0 {
                let who = entry.attached.map { "\($0.command)(\($0.pid))" }.joined(separator: ", ")
                throw ShmError(
                    .alreadyExists, operation: "demo", target: target.description,
                    message: "the demo segment is in use (\(who)): stop that demo, or pass --key OTHER")
            }
            try memory.remove()
            try memory.create(size: DemoRecord.size)
        }
        return memory
    }

    /// Updates the record under the lock every `intervalMS` until one of `stopSignals` arrives (they are blocked
    /// here and taken synchronously, so an update is never cut short and the lock is always given back). The
    /// segment is created if missing, and then removed on the way out. `created` is told when it was.
    public func run(stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP], created: (SegmentTarget) -> Void = { _ in })
        throws
    {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in stopSignals { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let memory = SharedMemory(target, options: .init(detachPolicy: .keep))
        var madeIt = false
        do { try memory.attach(.readWrite) } catch {
            guard error.kind == .notFound else { throw error }
            try memory.create(size: DemoRecord.size)
            madeIt = true
        }
        defer {
            try? memory.unlock()
            if madeIt { try? memory.remove() } else { try? memory.detach() }
        }
        guard memory.size >= DemoRecord.size else {
            throw ShmError(
                .invalidSize, operation: "demo", target: target.description,
                message: "the segment has \(memory.size) bytes; the demo needs \(DemoRecord.size)")
        }
        var histogram = try memory.read(offset: 120, count: 64)
        var counter = UInt64.littleEndianValue(try memory.read(offset: 8, count: 8))
        if madeIt { created(target) }
        while true {
            if try memory.tryLock(timeout: .milliseconds(Int64(intervalMS))) {
                counter += 1
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                let record = DemoRecord(
                    counter: counter, timeNanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec),
                    writerPID: UInt32(getpid()), intervalMS: UInt32(intervalMS))
                let bytes = record.encode(histogram: histogram)
                try memory.write(bytes, at: 0)
                histogram = Array(bytes[120..<DemoRecord.encodedSize])
                // Hold the lock a little, as a peer with a real critical section does.
                if holdMS > 0, Self.waitForSignal(signals, milliseconds: holdMS) != nil {
                    try memory.unlock()
                    return
                }
                try memory.unlock()
            }
            if Self.waitForSignal(signals, milliseconds: intervalMS - holdMS) != nil { return }
        }
    }

    /// Waits up to `milliseconds` for one of `signals`; returns it, or nil when the time passed.
    static func waitForSignal(_ signals: sigset_t, milliseconds: Int) -> Int32? {
        var set = signals
        var ts = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        let sig = sigtimedwait(&set, nil, &ts)
        return sig > 0 ? sig : nil
    }
}

extension UInt64 {
    /// The first eight bytes as a little-endian number.
    public static func littleEndianValue(_ bytes: [UInt8]) -> UInt64 {
        bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}
