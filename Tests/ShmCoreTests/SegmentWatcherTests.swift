import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// The watcher over real segments: changes, removal (still watching the mapped copy), truncation, re-creation.
@Suite struct SegmentWatcherTests {
    @Test func posixChangesTruncationRemovalAndRecreation() throws {
        let name = "/" + uniqueName("watchposix")
        defer { cleanUp(.posix(name: name)) }
        let creator = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try creator.create(size: 10000)
        let memory = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try memory.attach(.readOnly)
        let watcher = SegmentWatcher(memory: memory)
        #expect(watcher.poll(now: 0).isEmpty)
        try creator.write(Array("hi".utf8), at: 16)
        #expect(watcher.poll(now: 1) == [.change(ByteChange(offset: 16, old: [0, 0], new: Array("hi".utf8)))])

        #expect(truncate("/dev/shm" + name, 4096) == 0)
        #expect(watcher.poll(now: 2) == [.resized(from: 10000, to: 4096)])
        #expect(memory.size == 4096)
        try creator.detach()
        try creator.attach()
        try creator.write([7], at: 17)
        #expect(watcher.poll(now: 3) == [.change(ByteChange(offset: 17, old: [0x69], new: [7]))])

        try creator.remove()
        #expect(watcher.poll(now: 4) == [.removed])
        // Still mapped: a write through the creator's mapping is still seen, and removal is reported once.
        try creator.write([8], at: 18)
        #expect(watcher.poll(now: 5) == [.change(ByteChange(offset: 18, old: [0], new: [8]))])

        let again = SharedMemory(.posix(name: name), options: .init(detachPolicy: .keep))
        try again.create(size: 8192)
        #expect(watcher.poll(now: 6) == [.reattached(size: 8192)])
        try again.write([1], at: 8000)
        #expect(watcher.poll(now: 7) == [.change(ByteChange(offset: 8000, old: [0], new: [1]))])
        try creator.detach()
        try again.detach()
        try memory.detach()
    }

    @Test func systemVRemovalKeepsWatchingTheMappedSegmentThenFollowsANewOne() throws {
        let key = key_t(bitPattern: 0x5a00_0000 | UInt32.random(in: 1...0xff_ffff))
        defer { cleanUp(.sysvKey(key)) }
        let creator = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try creator.create(size: 5000)
        let memory = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try memory.attach(.readOnly)
        let watcher = SegmentWatcher(memory: memory, rangeOffset: 100, rangeLength: 10)
        #expect(watcher.poll(now: 0).isEmpty)
        try creator.write([1, 2], at: 99)
        #expect(watcher.poll(now: 1) == [.change(ByteChange(offset: 100, old: [0], new: [2]))])
        try creator.remove()  // IPC_RMID: gone once the last process detaches
        #expect(watcher.poll(now: 2) == [.removed])
        try creator.write([3], at: 105)
        #expect(watcher.poll(now: 3) == [.change(ByteChange(offset: 105, old: [0], new: [3]))])
        try creator.detach()

        let again = SharedMemory(.sysvKey(key), options: .init(detachPolicy: .keep))
        try again.create(size: 6000)
        #expect(watcher.poll(now: 4) == [.reattached(size: 6000)])
        #expect(memory.shmid == again.shmid)
        try again.detach()
        try memory.detach()
    }
}
