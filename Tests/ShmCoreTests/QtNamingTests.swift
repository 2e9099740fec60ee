import Foundation
import Glibc
import ShmCore
import Testing

@Suite struct QtNamingTests {
    @Test(arguments: [
        ("SharedMemory_Key", "qipc_sharedmemory_SharedMemoryKey4181d67eccbc33b87bb494c8a4c26d2aa7b4a4b1"),
        ("my_app-2.0", "qipc_sharedmemory_myappbfde2d5727bee04d4676bad800ff4ad7bbc1eb30"),
        ("Ключ-1", "qipc_sharedmemory_85768a60d0b8f792163c0bbd409af5e23d8da577"),
        ("a", "qipc_sharedmemory_a86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"),
    ])
    func legacyNamesMatchQt(key: String, expected: String) {
        #expect(QtNaming.legacyName(for: key, prefix: QtNaming.sharedMemoryPrefix) == expected)
    }

    @Test func nativeKeysForEachBackend() {
        let opts = SharedMemory.Options(temporaryDirectory: "/tmp")
        #expect(
            SharedMemory(.qt(key: "SharedMemory_Key", backend: .systemV), options: opts).nativeKey
                == "/tmp/qipc_sharedmemory_SharedMemoryKey4181d67eccbc33b87bb494c8a4c26d2aa7b4a4b1")
        #expect(
            SharedMemory(.qt(key: "SharedMemory_Key", backend: .posix), options: opts).nativeKey
                == "/qipc_sharedmemory_SharedMemoryKey4181d67eccbc33b87bb494c8a4c26d2aa7b4a4b1")
        #expect(QtNaming.legacyName(for: "SharedMemory_Key", prefix: QtNaming.semaphorePrefix)
            == "qipc_systemsem_SharedMemoryKey4181d67eccbc33b87bb494c8a4c26d2aa7b4a4b1")
        #expect(QtNaming.legacyName(for: "", prefix: QtNaming.sharedMemoryPrefix) == "")
    }

    @Test func parsesLegacyNames() {
        let parsed = QtNaming.parseLegacyName("qipc_sharedmemory_myappbfde2d5727bee04d4676bad800ff4ad7bbc1eb30")
        #expect(parsed?.letters == "myapp")
        #expect(parsed?.hash == "bfde2d5727bee04d4676bad800ff4ad7bbc1eb30")
        #expect(QtNaming.parseLegacyName("qipc_sharedmemory_short") == nil)
        #expect(QtNaming.parseLegacyName("psm_1234") == nil)
    }

    @Test func tempPathFollowsQtRules() throws {
        let base = "/tmp/" + uniqueTag()
        try FileManager.default.createDirectory(atPath: base + "/a/b/t1", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createSymbolicLink(atPath: base + "/t1link", withDestinationPath: base + "/a/b/t1")
        #expect(QtNaming.tempPath(environment: ["TMPDIR": base + "/t1link/"]) == base + "/a/b/t1")
        #expect(QtNaming.tempPath(environment: ["TMPDIR": "/" + base + "/a/./b/../b/t1//"]) == base + "/a/b/t1")
        #expect(QtNaming.tempPath(environment: ["TMPDIR": ""]) == "/tmp")
        #expect(QtNaming.tempPath(environment: [:]) == "/tmp")
        #expect(QtNaming.tempPath(environment: ["TMPDIR": "/nonexistent-\(getpid())"]) == "")
    }

    @Test func targetSyntax() throws {
        #expect(try SegmentTarget.parse("SharedMemory_Key") == .qt(key: "SharedMemory_Key", backend: .systemV))
        #expect(try SegmentTarget.parse("qt:a:b") == .qt(key: "a:b", backend: .systemV))
        #expect(try SegmentTarget.parse("qt-posix:k") == .qt(key: "k", backend: .posix))
        #expect(try SegmentTarget.parse("/psm_1") == .posix(name: "/psm_1"))
        #expect(try SegmentTarget.parse("posix:psm_1") == .posix(name: "/psm_1"))
        #expect(try SegmentTarget.parse("sysv:0x5100c078") == .sysvKey(0x5100_c078))
        #expect(try SegmentTarget.parse("sysv:0xf2a690f0") == .sysvKey(key_t(bitPattern: 0xf2a6_90f0)))
        #expect(try SegmentTarget.parse("shmid:30") == .sysvID(30))
        for bad in ["", "qt:", "/a/b", "/", "sysv:zz", "shmid:-1", "nope:x", "/" + String(repeating: "x", count: 256)] {
            #expect(throws: ShmError.self, "\(bad)") { try SegmentTarget.parse(bad) }
        }
        #expect(SegmentTarget.sysvKey(key_t(bitPattern: 0xf2a6_90f0)).description == "sysv:0xf2a690f0")
    }

    /// Found by fuzzing: prefixes and slashes were compared as characters, and a combining mark after `qt:` or a
    /// `/` joined it into another character, so `qt:\u{36f}` was the bare key `qt:\u{36f}` and `/a/\u{301}` a POSIX
    /// name with a slash in it.
    @Test func targetSyntaxIsMatchedOnBytes() throws {
        #expect(try SegmentTarget.parse("qt:\u{36f}") == .qt(key: "\u{36f}", backend: .systemV))
        #expect(try SegmentTarget.parse("qt6:\u{301}x") == .qtNative(key: "\u{301}x", type: .posix))
        #expect(try SegmentTarget.parse("posix:\u{301}") == .posix(name: "/\u{301}"))
        for bad in [
            "/a/\u{301}", "posix:a/\u{301}", "qt6:a/\u{301}", "nope:\u{301}", "qt6-sysv:../\u{301}x", "qt6-sysv:a/\u{301}",
            "qt6-sysv:/a/../\u{301}x",
        ] {
            #expect(throws: ShmError.self, "\(bad)") { try SegmentTarget.parse(bad) }
        }
        for target in [SegmentTarget.qt(key: "\u{36f}", backend: .posix), .qt(key: "/\u{301}", backend: .systemV)] {
            #expect(try SegmentTarget.parse(target.description) == target)
        }
    }

    private func uniqueTag() -> String { "shmscope-naming-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }
}
