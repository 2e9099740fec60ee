import Glibc
import ShmCore

// shmbench lockloop KEY N   -- N x (lock; unlock) on an existing Qt key; prints "ns_per_cycle=X".
func fail(_ line: String, _ code: Int32) -> Never {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(code)
}

let args = CommandLine.arguments
guard args.count == 4, args[1] == "lockloop" else { fail("usage: shmbench lockloop KEY N", 2) }
let n: Int
do { n = try NumberParser.count(args[3], label: "N", in: 1...Int.max) } catch { fail("shmbench: \(error.message)", 2) }
let memory = SharedMemory(.qt(key: args[2], backend: .systemV), options: .init(detachPolicy: .keep))
do {
    try memory.attach()
    let start = ContinuousClock.now
    for _ in 0..<n {
        try memory.lock()
        try memory.unlock()
    }
    let elapsed = ContinuousClock.now - start
    let (s, a) = elapsed.components
    print("ns_per_cycle=\((s * 1_000_000_000 + a / 1_000_000_000) / Int64(n))")
} catch {
    fail("shmbench: \(error)", 1)
}
