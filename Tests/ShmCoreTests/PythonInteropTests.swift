import Foundation
import Glibc
import ShmCore
import ShmTestSupport
import Testing

/// Interop with Python's `multiprocessing.shared_memory` (Tests/Peers/pypeer.py) in a child process.
@Suite(.enabled(if: PythonPeer.available)) struct PythonInteropTests {
    @Test func pythonCreatesWeRead() throws {
        let name = uniqueName("py")
        defer { cleanUp(.posix(name: "/" + name)) }
        let py = try PythonPeer.start()
        #expect(py.ask("create \(name) 10000") == "ok")
        #expect(py.ask("write 4000 written by python") == "ok")
        let m = SharedMemory(.posix(name: "/" + name))
        try m.attach(.readOnly)
        #expect(m.size == 10000)
        #expect(try m.read(offset: 4000, count: 17) == Array("written by python".utf8))
        // It writes again while we are attached; the mapping follows.
        #expect(py.ask("write 0 again") == "ok")
        #expect(try m.read(offset: 0, count: 5) == Array("again".utf8))
        #expect(py.ask("close") == "ok")
        #expect(py.ask("unlink") == "ok")
        #expect(py.ask("quit") == "ok")
    }

    @Test func weCreatePythonReadsAndWrites() throws {
        let name = uniqueName("py")
        let target = SegmentTarget.posix(name: "/" + name)
        defer { cleanUp(target) }
        let m = SharedMemory(target)
        try m.create(size: 333)
        try m.write(Array("made by shmscope".utf8), at: 17)
        let py = try PythonPeer.start()
        #expect(py.ask("attach \(name)") == "ok")
        #expect(py.ask("read 17 16") == "ok " + Array("made by shmscope".utf8).hexString)
        #expect(py.ask("write 200 py") == "ok")
        #expect(try m.read(offset: 200, count: 2) == Array("py".utf8))
        #expect(py.ask("quit") == "ok")
        #expect(py.wait() == 0)
        #expect(access("/dev/shm/" + name, F_OK) == 0, "Python's attach must not unlink our object")
    }
}
