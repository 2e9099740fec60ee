import Foundation
import Glibc
import ShmCore

/// The struct corpus in Tests/Fixtures/layouts/corpus.h and a program the real compiler (gcc for C, g++ for C++)
/// builds from it, which prints what the compiler knows about every member shmscope found: offset and size
/// (pointer arithmetic, so nested paths and array elements work in both languages), bitfield positions (by setting
/// the bitfield to all ones in a zeroed struct and finding the bits), `sizeof`, the bytes of the struct filled by
/// its `fill_NAME` function, and every member's value. Given `NAME STRUCT` it instead creates the POSIX segment
/// /NAME (0600, 4096 bytes) holding that struct filled.
public enum LayoutCorpus {
    public static let header = packageRoot.appendingPathComponent("Tests/Fixtures/layouts/corpus.h").path
    public static let structs = ["basic", "packed_rec", "aligned_rec", "pragma_rec", "bits_rec", "nested_rec", "typedef_rec"]

    public static let available: Bool = toolAvailable("gcc, g++ and libclang (libclang1-14, libclang-common-14-dev)") {
        which("gcc") != nil && which("g++") != nil && access("/usr/lib/x86_64-linux-gnu/libclang-14.so.1", R_OK) == 0
    }

    /// What the compiler printed for one struct.
    public struct CompilerFacts {
        public var size = 0
        public var bytes: [UInt8] = []
        /// path → (offset, size) for ordinary members; (bit offset, width) for bitfields.
        public var fields: [String: (offset: Int, size: Int)] = [:]
        public var bits: [String: (offset: Int, width: Int)] = [:]
        public var values: [String: String] = [:]
    }

    public static func typeName(_ name: String) -> String { name == "typedef_rec" ? name : "struct \(name)" }

    /// C source printing the compiler's facts for each struct's members (paths from shmscope's layouts).
    public static func program(_ layouts: [String: StructLayout]) -> String {
        var c = """
            #include "\(header)"
            #include <stdio.h>
            #include <stdlib.h>
            #include <fcntl.h>
            #include <sys/mman.h>
            #include <unistd.h>
            static void hex(const void *p, size_t n) {
                const unsigned char *b = (const unsigned char *)p;
                for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
            }
            static void bitspan(const char *s, const char *path, const void *p, size_t n) {
                const unsigned char *b = (const unsigned char *)p;
                int lo = -1, hi = -1;
                for (size_t i = 0; i < n * 8; i++) if (b[i / 8] >> (i % 8) & 1) { if (lo < 0) lo = (int)i; hi = (int)i; }
                printf("bits %s %s %d %d\\n", s, path, lo, hi - lo + 1);
            }
            static void text16(const char *s, const char *path, const void *p, size_t n) {
                const unsigned char *b = (const unsigned char *)p;
                printf("value %s %s ", s, path);
                for (size_t i = 0; i + 1 < n; i += 2) { if (!b[i] && !b[i + 1]) break; printf("%02x%02x", b[i + 1], b[i]); }
                printf("\\n");
            }
            static int segment(const char *name, const void *p, size_t n) {
                int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
                if (fd < 0 || ftruncate(fd, 4096) != 0) { perror(name); return 1; }
                unsigned char *m = (unsigned char *)mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                if (m == MAP_FAILED) { perror("mmap"); return 1; }
                memcpy(m, p, n);
                return 0;
            }
            int main(int argc, char **argv) {

            """
        for name in structs {
            guard let layout = layouts[name] else { continue }
            let t = typeName(name)
            c += "  { \(t) x; memset(&x, 0, sizeof x); fill_\(name)(&x);\n"
            c += "    if (argc == 3 && strcmp(argv[2], \"\(name)\") == 0) return segment(argv[1], &x, sizeof x);\n"
            c += "    printf(\"struct \(name) %zu \", sizeof x); hex(&x, sizeof x); printf(\"\\n\");\n"
            for ordinal in 0..<layout.memberCount {
                let m = layout.member(ordinal: ordinal)!
                let p = m.path
                if m.field.bits != nil {
                    let ones: String
                    switch m.field.type {
                    case .boolean: ones = "1"
                    case .enumeration(let e): ones = "(\(e.name))-1"
                    default: ones = "-1"
                    }
                    c += "    { \(t) y; memset(&y, 0, sizeof y); y.\(p) = \(ones); bitspan(\"\(name)\", \"\(p)\", &y, sizeof y); }\n"
                } else {
                    c += "    printf(\"field \(name) \(p) %zu %zu\\n\", (size_t)((char *)&x.\(p) - (char *)&x), sizeof(x.\(p)));\n"
                }
                let v = "value \(name) \(p)"
                switch m.field.type {
                case .scalar(let s, _) where s.isFloat:
                    c += "    printf(\"\(v) %.17g\\n\", (double)x.\(p));\n"
                case .scalar(let s, _) where s.isSigned:
                    c += "    printf(\"\(v) %lld\\n\", (long long)x.\(p));\n"
                case .scalar:
                    c += "    printf(\"\(v) %llu\\n\", (unsigned long long)x.\(p));\n"
                case .boolean, .enumeration:
                    c += "    printf(\"\(v) %lld\\n\", (long long)x.\(p));\n"
                case .chars:
                    c += "    printf(\"\(v) \"); hex(x.\(p), strnlen(x.\(p), sizeof x.\(p))); printf(\"\\n\");\n"
                case .utf16:
                    c += "    text16(\"\(name)\", \"\(p)\", x.\(p), sizeof x.\(p));\n"
                case .bytes:
                    c += "    printf(\"\(v) \"); hex(&x.\(p), sizeof x.\(p)); printf(\"\\n\");\n"
                }
            }
            c += "  }\n"
        }
        c += "  return 0;\n}\n"
        return c
    }

    /// Builds the program with `compiler` (`gcc` as C, `g++` as C++) into the products directory.
    public static func build(_ layouts: [String: StructLayout], cxx: Bool) throws -> String {
        let base = productsDirectory.appendingPathComponent(uniqueName("layout-corpus-\(cxx ? "cxx" : "c")")).path
        let source = base + (cxx ? ".cpp" : ".c")
        try program(layouts).write(toFile: source, atomically: true, encoding: .utf8)
        let args =
            cxx ? ["-std=gnu++17", "-w", source, "-o", base, "-lrt"] : ["-std=gnu11", "-w", source, "-o", base, "-lrt"]
        let built = try run(which(cxx ? "g++" : "gcc")!, args)
        guard built.status == 0 else { throw PeerError("\(cxx ? "g++" : "gcc") corpus program failed: \(built.stderr)") }
        return base
    }

    /// Runs the program and collects its facts per struct.
    public static func facts(program: String) throws -> [String: CompilerFacts] {
        let out = try run(program, [])
        guard out.status == 0 else { throw PeerError("corpus program failed: \(out.stderr)") }
        var facts: [String: CompilerFacts] = [:]
        for line in out.stdout.split(separator: "\n") {
            let w = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard w.count >= 3 else { continue }
            var f = facts[w[1]] ?? CompilerFacts()
            switch w[0] {
            case "struct":
                f.size = Int(w[2])!
                f.bytes = ShmTestSupport.bytes(fromHex: w[3])
            case "field": f.fields[w[2]] = (Int(w[3])!, Int(w[4])!)
            case "bits": f.bits[w[2]] = (Int(w[3])!, Int(w[4])!)
            case "value": f.values[w[2]] = w.count > 3 ? w[3] : ""
            default: break
            }
            facts[w[1]] = f
        }
        return facts
    }

    /// How shmscope's decoded value prints in the program's terms: integers, floats (%.17g read back), bools and
    /// enums as numbers, text as UTF-8 hex (UTF-16 as 4-digit units).
    public static func matches(_ value: StructLayout.Value, _ printed: String) -> Bool {
        switch value {
        case .number(.signed(let v)): return Int64(printed) == v
        case .number(.unsigned(let v)): return UInt64(printed) == v
        case .number(.float(let v)): return Double(printed) == v
        case .boolean(let b): return printed == (b ? "1" : "0")
        case .enumCase(_, let raw): return Int64(printed) == raw
        case .text(let s):
            let utf8 = s.utf8.map { String(format: "%02x", $0) }.joined()
            let utf16 = s.utf16.map { String(format: "%04x", $0) }.joined()
            return printed == utf8 || printed == utf16
        case .bytes(let b): return printed == b.map { String(format: "%02x", $0) }.joined()
        case .array, .outOfRange: return false
        }
    }
}
