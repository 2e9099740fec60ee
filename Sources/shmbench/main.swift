import Glibc
import ShmCore

// shmbench lockloop KEY N    -- N x (lock; unlock) on an existing Qt key; prints "ns_per_cycle=X".
// shmbench scanpass NAME N   -- on POSIX object /NAME: the median of N whole-segment change-tracker passes (after
//                               the first, which records), and of N plain read loops summing the same mapping's
//                               words; prints "pass_ms=X read_ms=Y".
func fail(_ line: String, _ code: Int32) -> Never {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(code)
}

func milliseconds(_ d: Duration) -> Double {
    let (s, a) = d.components
    return Double(s) * 1000 + Double(a) / 1e15
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let args = CommandLine.arguments
guard args.count == 4, ["lockloop", "scanpass"].contains(args[1]) else {
    fail("usage: shmbench lockloop KEY N | scanpass NAME N", 2)
}
let n: Int
do { n = try NumberParser.count(args[3], label: "N", in: 1...Int.max) } catch { fail("shmbench: \(error.message)", 2) }

if args[1] == "lockloop" {
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
} else {
    let memory = SharedMemory(.posix(name: "/" + args[2]), options: .init(detachPolicy: .keep))
    do {
        try memory.attach(.readOnly)
        let tracker = ChangeTracker(length: memory.size)
        _ = try tracker.scan(memory, now: 0)
        var passes: [Double] = []
        for i in 0..<n {
            let start = ContinuousClock.now
            try tracker.scan(memory, now: Double(i + 1)) { _ in }
            passes.append(milliseconds(ContinuousClock.now - start))
        }
        // The plain read loop, on its own read-only mapping of the same object.
        let fd = open("/dev/shm/" + args[2], O_RDONLY)
        guard fd >= 0, let base = mmap(nil, memory.size, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            fail("shmbench: cannot map /dev/shm/\(args[2])", 1)
        }
        let words = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt64.self), count: memory.size / 8)
        var reads: [Double] = []
        var sum: UInt64 = 0
        for _ in 0...n {
            let start = ContinuousClock.now
            var s: UInt64 = 0
            for w in words { s &+= w }
            sum ^= s
            reads.append(milliseconds(ContinuousClock.now - start))
        }
        reads.removeFirst()  // the first faults the page table in
        munmap(base, memory.size)
        close(fd)
        print("pass_ms=\(Int(median(passes).rounded())) read_ms=\(Int(median(reads).rounded())) checksum=\(sum & 0xff)")
    } catch {
        fail("shmbench: \(error)", 1)
    }
}
