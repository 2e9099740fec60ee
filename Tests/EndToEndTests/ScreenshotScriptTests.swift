import Foundation
import Glibc
import ShmTestSupport
import Testing

/// scripts/screenshots.sh must keep working on a fresh machine: it runs the real TUI in tmux and renders PNGs.
@Suite(.serialized) struct ScreenshotScriptTests {
    static let available = toolAvailable("tmux, /usr/bin/python3 with PIL (python3-pil) and fonts-dejavu-core") {
        which("tmux") != nil && access("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", R_OK) == 0
            && (try? run("/usr/bin/python3", ["-c", "import PIL"]).status) == 0
    }

    @Test(.enabled(if: available)) func scriptProducesPNGsOfTheExpectedSize() throws {
        let dir = "/tmp/\(uniqueName("shots"))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var env = ProcessInfo.processInfo.environment
        env["SHMSCOPE_BIN"] = ShmscopeBinary.path
        let script = packageRoot.appendingPathComponent("scripts/screenshots.sh").path
        let r = try run("/bin/bash", [script, dir], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        for name in [
            "hex-view-live", "lock-and-edit", "commit-dialog", "help", "browser", "browser-info", "browser-remove",
            "watch-who", "watch-inspector", "watch-layout", "replay-timeline",
        ] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).png"))
            let bytes = [UInt8](data)
            #expect(bytes.count > 5000, "\(name).png is \(bytes.count) bytes")
            #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
            // IHDR: width and height, big-endian, at bytes 16...23. 110x32 cells of 9x20 px plus an 8 px margin.
            let width = bytes[16...19].reduce(0) { $0 << 8 | Int($1) }
            let height = bytes[20...23].reduce(0) { $0 << 8 | Int($1) }
            #expect(width == 110 * 9 + 16 && height == 32 * 20 + 16, "\(name): \(width)x\(height)")
        }
    }
}
