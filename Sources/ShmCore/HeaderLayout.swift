import Glibc

/// Why a struct could not be laid out from a header. `libclangMissing` is a runtime failure (exit 1); the others are
/// problems with what the user gave (exit 2), like a broken layout file.
public struct HeaderLayoutError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case libclangMissing
        case unreadable
        case compileFailed
        case structNotFound
        case incomplete
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var isUsage: Bool { kind != .libclangMissing }
}

/// A struct laid out by the C compiler from the peer's own header (`--layout FILE.h --struct NAME`): libclang gives
/// every offset, size, bitfield position and enum constant, so packing, `aligned(N)`, `#pragma pack`, unions,
/// nested structs and arrays come out exactly as the peer's compiler sees them. The result is an ordinary
/// `StructLayout`, with nested fields named by path (`hdr.state`, `items[3].x`).
public enum HeaderLayout {
    public enum Language: String, Sendable, CaseIterable {
        case c
        case cxx = "c++"
    }

    public struct Options: Sendable, Equatable {
        /// nil: from the file name (`.h` is C; `.hpp`, `.hh`, `.hxx`, `.H` are C++).
        public var language: Language?
        /// Compiler flags as for gcc: `-I DIR`, `-D NAME=VALUE`, `-std=…`, `-m32`.
        public var flags: [String]

        public init(language: Language? = nil, flags: [String] = []) {
            self.language = language
            self.flags = flags
        }
    }

    /// The laid-out struct: its name as C spells it, `sizeof`, and its fields.
    public struct Result: Sendable, Equatable {
        public var name: String
        public var size: Int
        public var layout: StructLayout
    }

    static let cxxExtensions: Set<String> = ["hpp", "hh", "hxx", "H", "h++", "cpp", "cc", "cxx"]
    static let headerExtensions: Set<String> = cxxExtensions.union(["h", "c"])

    /// Whether `path` names a C or C++ source by its extension (a layout file is anything else).
    public static func isHeader(_ path: String) -> Bool { headerExtensions.contains(fileExtension(path)) }

    /// The language a file is parsed as: `.h` (and `.c`) as C (gnu11), C++ extensions as C++ (gnu++17).
    public static func language(of path: String) -> Language {
        cxxExtensions.contains(fileExtension(path)) ? .cxx : .c
    }

    private static func fileExtension(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...])
    }

    /// Parses `path` with libclang and lays out the struct, union or class (or typedef of one) called `name`.
    public static func load(header path: String, struct name: String, options: Options = Options()) throws(
        HeaderLayoutError
    ) -> Result {
        guard access(path, R_OK) == 0 else {
            throw HeaderLayoutError(.unreadable, "\(path): \(String(cString: strerror(errno)))")
        }
        let clang = try LibClang.load()
        guard access(LibClang.resourceDir + "/include/stddef.h", R_OK) == 0 else {
            throw HeaderLayoutError(
                .libclangMissing,
                "libclang's builtin headers (stddef.h) are missing: apt-get install \(LibClang.resourcePackage)")
        }
        let language = options.language ?? self.language(of: path)
        // Defaults first: the user's own -std (or anything else) comes later and wins, as with gcc.
        var args = ["-resource-dir", LibClang.resourceDir]
        args += language == .c ? ["-x", "c", "-std=gnu11"] : ["-x", "c++", "-std=gnu++17"]
        args += options.flags

        guard let index = clang.createIndex(0, 0) else {
            throw HeaderLayoutError(.libclangMissing, "libclang could not start (clang_createIndex failed)")
        }
        defer { clang.disposeIndex(index) }
        var unit: OpaquePointer?
        let skipFunctionBodies: UInt32 = 0x40
        let code = withCStrings(args) { argv in
            clang.parseTranslationUnit2(index, path, argv, Int32(args.count), nil, 0, skipFunctionBodies, &unit)
        }
        guard code == 0, let unit else {
            throw HeaderLayoutError(.compileFailed, "\(path): libclang could not parse it (error \(code))")
        }
        defer { clang.disposeTranslationUnit(unit) }
        for i in 0..<clang.getNumDiagnostics(unit) {
            guard let d = clang.getDiagnostic(unit, i) else { continue }
            defer { clang.disposeDiagnostic(d) }
            if clang.getDiagnosticSeverity(d) >= 3 {  // CXDiagnostic_Error, CXDiagnostic_Fatal
                let text = clang.string(clang.formatDiagnostic(d, 0x3))  // source location with column
                throw HeaderLayoutError(.compileFailed, text.terminalSafe())
            }
        }

        var candidates: [Candidate] = []
        collect(clang, clang.getTranslationUnitCursor(unit), into: &candidates)
        let wanted = name.trimmingSpaces()
        let matches = candidates.filter {
            $0.name == wanted || $0.spelling == wanted || $0.spelling == "struct " + wanted
                || $0.spelling == "union " + wanted || $0.spelling == "class " + wanted
        }
        guard let found = matches.first else {
            let names = Array(Set(candidates.map(\.name))).sorted()
            let close = closeNames(names, to: wanted)
            let defined = names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "")
            let hint =
                names.isEmpty
                ? "it defines no struct or union"
                : close.isEmpty ? "it defines \(defined)" : "did you mean \(close.joined(separator: ", "))?"
            throw HeaderLayoutError(.structNotFound, "\(path): no struct `\(wanted)`: \(hint)".terminalSafe())
        }
        let size = clang.typeGetSizeOf(found.type)
        guard size >= 0 else {
            throw HeaderLayoutError(.incomplete, "\(path): `\(wanted)` has no size the compiler knows (incomplete)")
        }
        var builder = Builder(clang: clang)
        builder.record(found.type, prefix: "", bitOffset: 0)
        return Result(name: found.spelling, size: Int(size), layout: StructLayout(fields: builder.fields))
    }

    /// A struct, union or class definition (or a typedef naming one) that `--struct` can pick.
    private struct Candidate {
        var name: String
        /// The record type's spelling: `struct hdr` in C, `ns::Hdr` in C++.
        var spelling: String
        var type: LibClang.CXType
    }

    private static func collect(_ clang: LibClang, _ cursor: LibClang.CXCursor, into found: inout [Candidate]) {
        for c in clang.children(cursor) {
            switch c.kind {
            case 2, 3, 4:  // StructDecl, UnionDecl, ClassDecl
                let type = clang.getCanonicalType(clang.getCursorType(c))
                let name = clang.spelling(c)
                if clang.isCursorDefinition(c) != 0, !name.isEmpty {
                    found.append(Candidate(name: name, spelling: clang.spelling(type), type: type))
                }
                collect(clang, c, into: &found)
            case 20, 36:  // TypedefDecl, TypeAliasDecl
                let type = clang.getCanonicalType(clang.getTypedefDeclUnderlyingType(c))
                if type.kind == 105 {  // CXType_Record
                    found.append(Candidate(name: clang.spelling(c), spelling: clang.spelling(c), type: type))
                }
            case 22, 23:  // Namespace, LinkageSpec (extern "C")
                collect(clang, c, into: &found)
            default:
                break
            }
        }
    }

    private static func closeNames(_ names: [String], to wanted: String) -> [String] {
        let w = wanted.lowercased()
        return names.map { n -> (Int, String) in
            let l = n.lowercased()
            return (l.contains(w) || w.contains(l) ? 0 : editDistance(l, w), n)
        }.filter { $0.0 <= max(2, w.count / 3) }.sorted { $0 < $1 }.prefix(5).map(\.1)
    }

    /// Turns a record type into flat fields named by path.
    private struct Builder {
        let clang: LibClang
        var fields: [StructLayout.Field] = []

        mutating func record(_ type: LibClang.CXType, prefix: String, bitOffset: Int64) {
            for c in clang.fields(type) {
                let name = clang.spelling(c)
                let offset = clang.cursorGetOffsetOfField(c)
                guard offset >= 0 else { continue }
                let bits = bitOffset + offset
                let declared = clang.getCursorType(c)
                let fieldType = clang.getCanonicalType(declared)
                if clang.cursorIsBitField(c) != 0 {
                    let width = Int(clang.getFieldDeclBitWidth(c))
                    // Unnamed bitfields (`int : 3`, `int : 0`) are padding: nothing to name.
                    guard width > 0, !name.isEmpty else { continue }
                    let type = elementType(fieldType) ?? .scalar(.u64, .little)
                    fields.append(
                        StructLayout.Field(
                            name: join(prefix, name), type: type, offset: Int(bits / 8),
                            bits: StructLayout.BitField(shift: Int(bits % 8), width: width)))
                    continue
                }
                if name.isEmpty {
                    // An anonymous struct or union member: its fields are named as if they were the parent's (C11).
                    if fieldType.kind == 105 { record(fieldType, prefix: prefix, bitOffset: bits) }
                    continue
                }
                value(declared, path: join(prefix, name), offset: Int(bits / 8))
            }
        }

        private func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

        /// `declared` as the source spells it (a typedef is kept: C's `char16_t` is a typedef of an unsigned short).
        mutating func value(_ declared: LibClang.CXType, path: String, offset: Int) {
            let type = clang.getCanonicalType(declared)
            switch type.kind {
            case 105:  // Record
                record(type, prefix: path, bitOffset: Int64(offset) * 8)
            case 112:  // ConstantArray
                let element = clang.getCanonicalType(clang.getArrayElementType(type))
                let spelledChar16 = declared.kind == 112 && isChar16(clang.getArrayElementType(declared))
                let count = Int(clang.getArraySize(type))
                guard count > 0 else { return }
                switch element.kind {
                case 4, 13:  // Char_U, Char_S: plain `char[N]` is text
                    fields.append(StructLayout.Field(name: path, type: .chars, count: count, offset: offset))
                case 6:  // Char16 (C++): UTF-16 text
                    fields.append(StructLayout.Field(name: path, type: .utf16(.little), count: count, offset: offset))
                case 8 where spelledChar16:  // C's char16_t (uchar.h, a typedef): UTF-16 text too
                    fields.append(StructLayout.Field(name: path, type: .utf16(.little), count: count, offset: offset))
                default:
                    if let t = elementType(element) {
                        fields.append(StructLayout.Field(name: path, type: t, count: count, offset: offset))
                    } else {
                        let size = Int(clang.typeGetSizeOf(element))
                        guard size > 0 else { return }
                        // Arrays of structs (and arrays of arrays) are named per element: `items[3].x`.
                        for i in 0..<count { value(element, path: "\(path)[\(i)]", offset: offset + i * size) }
                    }
                }
            case 114:  // IncompleteArray: a flexible array member has no size of its own
                return
            default:
                if let t = elementType(type) {
                    fields.append(StructLayout.Field(name: path, type: t, offset: offset))
                } else {
                    let size = Int(clang.typeGetSizeOf(type))
                    guard size > 0 else { return }
                    fields.append(StructLayout.Field(name: path, type: .bytes, count: size, offset: offset))
                }
            }
        }

        /// Whether `type` is `char16_t` or a typedef of it (in C, `char16_t` is a typedef of `uint_least16_t`).
        func isChar16(_ type: LibClang.CXType) -> Bool {
            var t = type
            for _ in 0..<16 {
                var name = clang.spelling(t)
                for q in ["const ", "volatile "] where name.hasPrefix(q) { name.removeFirst(q.count) }
                if name == "char16_t" { return true }
                switch t.kind {
                case 107: t = clang.getTypedefDeclUnderlyingType(clang.getTypeDeclaration(t))  // Typedef
                case 119: t = clang.typeGetNamedType(t)  // Elaborated
                default: return false
                }
            }
            return false
        }

        /// A number, bool or enum type; nil for records, arrays and what has no exact number (`long double`).
        func elementType(_ type: LibClang.CXType) -> StructLayout.FieldType? {
            let size = Int(clang.typeGetSizeOf(type))
            func integer(signed: Bool) -> StructLayout.FieldType? {
                let t: ScalarType? =
                    switch size {
                    case 1: signed ? .i8 : .u8
                    case 2: signed ? .i16 : .u16
                    case 4: signed ? .i32 : .u32
                    case 8: signed ? .i64 : .u64
                    default: nil
                    }
                return t.map { .scalar($0, .little) }
            }
            switch type.kind {
            case 3: return size == 1 ? .boolean : integer(signed: false)  // Bool
            // Char_U UChar Char16 Char32 UShort UInt ULong ULongLong
            case 4, 5, 6, 7, 8, 9, 10, 11: return integer(signed: false)
            case 13, 14, 15, 16, 17, 18, 19: return integer(signed: true)  // Char_S SChar WChar Short Int Long LongLong
            case 21: return .scalar(.f32, .little)  // Float
            case 22: return .scalar(.f64, .little)  // Double
            case 101: return integer(signed: false)  // Pointer: an address in the peer, as a number
            case 106:  // Enum
                let decl = clang.getTypeDeclaration(type)
                let storageType = clang.getCanonicalType(clang.getEnumDeclIntegerType(decl))
                guard case .scalar(let storage, _) = elementType(storageType) else { return nil }
                let constants = clang.children(decl).filter { $0.kind == 7 }.map {  // EnumConstantDecl
                    StructLayout.EnumType.Constant(name: clang.spelling($0), value: clang.getEnumConstantDeclValue($0))
                }
                // An anonymous enum spells as `enum (unnamed at file.h:3:1)`: plain `enum` says as much.
                let spelling = clang.spelling(type)
                return .enumeration(
                    StructLayout.EnumType(
                        name: spelling.contains("(") ? "enum" : spelling, storage: storage, constants: constants))
            default: return nil
            }
        }
    }

    /// Runs `body` with `strings` as a C `argv`.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer<CChar>($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
