import Foundation
import Glibc
import ShmTestSupport
import Testing

@testable import ShmCore

/// Files inside another process's root: a symlink planted there resolves inside it, never to a host file.
@Suite struct FileRootTests {
    /// A directory standing for a container's root, with `tmp` an absolute symlink to the host's `/etc` and
    /// `dev/shm/link` one to `/etc/passwd`.
    func plantedRoot() throws -> (path: String, root: FileRoot) {
        let path = NSTemporaryDirectory() + uniqueName("root")
        try FileManager.default.createDirectory(atPath: path + "/dev/shm", withIntermediateDirectories: true)
        #expect(symlink("/etc", path + "/tmp") == 0)
        #expect(symlink("/etc/passwd", path + "/dev/shm/link") == 0)
        #expect(FileManager.default.createFile(atPath: path + "/dev/shm/object", contents: Data("inside".utf8)))
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try #require(fd >= 0)
        return (path, FileRoot(descriptor: fd, pid: nil))
    }

    @Test func absoluteSymlinksStayInsideTheRoot() throws {
        let (path, root) = try plantedRoot()
        defer {
            if let fd = root.descriptor { close(fd) }
            try? FileManager.default.removeItem(atPath: path)
        }
        // Through the plain path the planted link reaches the host's file...
        #expect(access(path + "/tmp/passwd", F_OK) == 0)
        // ...inside the root it does not: `/tmp` is `<root>/etc`, which has no passwd.
        #expect(throws: Errno.self) { try root.lstat("/tmp/passwd") }
        #expect(throws: Errno.self) { try root.open("/tmp/passwd", O_RDONLY) }
        #expect(throws: Errno.self) { try root.ftok("/tmp/passwd", 0x51) }
        #expect(!root.exists("/tmp/passwd"))
        #expect((try? root.directoryEntries("/tmp")) == nil)
        // A link as the last component is never followed by an open with O_NOFOLLOW, and reads as a link.
        #expect(throws: Errno.self) { try root.open("/dev/shm/link", O_RDONLY | O_NOFOLLOW) }
        #expect(try root.lstat("/dev/shm/link").st_mode & S_IFMT == S_IFLNK)
        // What is inside is reachable, `..` cannot climb out, and unlink stays inside too.
        let fd = try root.open("/dev/shm/object", O_RDONLY)
        close(fd)
        #expect(try root.directoryEntries("/dev/shm").sorted() == ["link", "object"])
        #expect(try root.lstat("/../../dev/shm/object").st_size == 6)
        root.unlink("/tmp/passwd")
        #expect(access("/etc/passwd", F_OK) == 0)
        root.unlink("/dev/shm/object")
        #expect(access(path + "/dev/shm/object", F_OK) != 0)
    }

    @Test func ftokInsideTheRootMatchesGlibc() throws {
        let (path, root) = try plantedRoot()
        defer {
            if let fd = root.descriptor { close(fd) }
            try? FileManager.default.removeItem(atPath: path)
        }
        #expect(try root.ftok("/dev/shm/object", 0x51) == ftok(path + "/dev/shm/object", 0x51))
    }

    @Test func namespaceSelectionParses() throws {
        #expect(try NamespaceSelection.parse("self") == .current)
        #expect(try NamespaceSelection.parse("all") == .all)
        #expect(try NamespaceSelection.parse("42") == .process(42))
        for bad in ["", "0", "-1", "x", "4294967296", "self "] {
            #expect(throws: NumberSyntaxError.self) { try NamespaceSelection.parse(bad) }
        }
    }

    @Test func ourOwnNamespaceIsListedFirst() {
        let all = IPCNamespace.all()
        #expect(all.first?.isOurs == true)
        #expect(all.filter(\.isOurs).count == 1)
        #expect((try? NamespaceAccess.of(pid: getpid()))?.isForeign == false)
    }
}
