import CShmShims
import Glibc

/// libclang, loaded with `dlopen` only when a header is given (`--layout FILE.h`), so shmscope neither links nor
/// needs it otherwise. Debian's `libclang1-14` provides `libclang-14.so.1`; its builtin headers (`stddef.h`,
/// `stdbool.h`) come from `libclang-common-14-dev`. The toolchain's own libclang is deliberately not used: it is not
/// there for users of the .deb. One function pointer per C call, looked up by name; the by-value structs are
/// mirrored in CShmShims/include/ShmClangABI.h.
final class LibClang: @unchecked Sendable {
    typealias CXCursor = shm_CXCursor
    typealias CXType = shm_CXType
    typealias CXString = shm_CXString
    typealias CursorVisitor = @convention(c) (CXCursor, CXCursor, UnsafeMutableRawPointer?) -> UInt32
    typealias FieldVisitor = @convention(c) (CXCursor, UnsafeMutableRawPointer?) -> UInt32

    /// The library's file name (`dlopen` searches the usual paths) and the package that provides it.
    static let soname = "libclang-14.so.1"
    static let package = "libclang1-14"
    /// Where `libclang-common-14-dev` puts the compiler's builtin headers.
    static let resourceDir = "/usr/lib/llvm-14/lib/clang/14.0.6"
    static let resourcePackage = "libclang-common-14-dev"

    let createIndex: @convention(c) (Int32, Int32) -> OpaquePointer?
    let disposeIndex: @convention(c) (OpaquePointer?) -> Void
    let parseTranslationUnit2:
        @convention(c) (
            OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32,
            UnsafeMutableRawPointer?, UInt32, UInt32, UnsafeMutablePointer<OpaquePointer?>?
        ) -> Int32
    let disposeTranslationUnit: @convention(c) (OpaquePointer?) -> Void
    let getNumDiagnostics: @convention(c) (OpaquePointer?) -> UInt32
    let getDiagnostic: @convention(c) (OpaquePointer?, UInt32) -> OpaquePointer?
    let getDiagnosticSeverity: @convention(c) (OpaquePointer?) -> Int32
    let formatDiagnostic: @convention(c) (OpaquePointer?, UInt32) -> CXString
    let disposeDiagnostic: @convention(c) (OpaquePointer?) -> Void
    let getTranslationUnitCursor: @convention(c) (OpaquePointer?) -> CXCursor
    let visitChildren: @convention(c) (CXCursor, CursorVisitor, UnsafeMutableRawPointer?) -> UInt32
    let getCursorSpelling: @convention(c) (CXCursor) -> CXString
    let getCursorType: @convention(c) (CXCursor) -> CXType
    let getCanonicalType: @convention(c) (CXType) -> CXType
    let getTypeSpelling: @convention(c) (CXType) -> CXString
    let isCursorDefinition: @convention(c) (CXCursor) -> UInt32
    let getTypedefDeclUnderlyingType: @convention(c) (CXCursor) -> CXType
    let typeGetSizeOf: @convention(c) (CXType) -> Int64
    let cursorGetOffsetOfField: @convention(c) (CXCursor) -> Int64
    let typeVisitFields: @convention(c) (CXType, FieldVisitor, UnsafeMutableRawPointer?) -> UInt32
    let cursorIsBitField: @convention(c) (CXCursor) -> UInt32
    let getFieldDeclBitWidth: @convention(c) (CXCursor) -> Int32
    let getArrayElementType: @convention(c) (CXType) -> CXType
    let getArraySize: @convention(c) (CXType) -> Int64
    let getTypeDeclaration: @convention(c) (CXType) -> CXCursor
    let typeGetNamedType: @convention(c) (CXType) -> CXType
    let getEnumDeclIntegerType: @convention(c) (CXCursor) -> CXType
    let getEnumConstantDeclValue: @convention(c) (CXCursor) -> Int64
    let getCString: @convention(c) (CXString) -> UnsafePointer<CChar>?
    let disposeString: @convention(c) (CXString) -> Void

    private let handle: UnsafeMutableRawPointer

    /// Loads the library once per process; the error names the package to install.
    static func load() throws(HeaderLayoutError) -> LibClang { try loaded.get() }

    /// A static `let` is initialised once, thread-safely (tests lay out headers in parallel).
    private static let loaded = Result { () throws(HeaderLayoutError) -> LibClang in
        // SHMSCOPE_LIBCLANG names another build of the library (the tests use it to see the "missing" message).
        let name = getenv("SHMSCOPE_LIBCLANG").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? soname
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            throw HeaderLayoutError(
                .libclangMissing,
                "a C header layout needs libclang (\(name)), which is not installed: "
                    + "apt-get install \(package) \(resourcePackage)")
        }
        do throws(HeaderLayoutError) { return try LibClang(handle: handle) } catch {
            dlclose(handle)
            throw error
        }
    }

    private init(handle: UnsafeMutableRawPointer) throws(HeaderLayoutError) {
        self.handle = handle
        func symbol<T>(_ name: String, _: T.Type = T.self) throws(HeaderLayoutError) -> T {
            guard let p = dlsym(handle, name) else {
                throw HeaderLayoutError(
                    .libclangMissing,
                    "\(LibClang.soname) has no \(name): not the libclang shmscope expects; install \(LibClang.package)")
            }
            return unsafeBitCast(p, to: T.self)
        }
        createIndex = try symbol("clang_createIndex")
        disposeIndex = try symbol("clang_disposeIndex")
        parseTranslationUnit2 = try symbol("clang_parseTranslationUnit2")
        disposeTranslationUnit = try symbol("clang_disposeTranslationUnit")
        getNumDiagnostics = try symbol("clang_getNumDiagnostics")
        getDiagnostic = try symbol("clang_getDiagnostic")
        getDiagnosticSeverity = try symbol("clang_getDiagnosticSeverity")
        formatDiagnostic = try symbol("clang_formatDiagnostic")
        disposeDiagnostic = try symbol("clang_disposeDiagnostic")
        getTranslationUnitCursor = try symbol("clang_getTranslationUnitCursor")
        visitChildren = try symbol("clang_visitChildren")
        getCursorSpelling = try symbol("clang_getCursorSpelling")
        getCursorType = try symbol("clang_getCursorType")
        getCanonicalType = try symbol("clang_getCanonicalType")
        getTypeSpelling = try symbol("clang_getTypeSpelling")
        isCursorDefinition = try symbol("clang_isCursorDefinition")
        getTypedefDeclUnderlyingType = try symbol("clang_getTypedefDeclUnderlyingType")
        typeGetSizeOf = try symbol("clang_Type_getSizeOf")
        cursorGetOffsetOfField = try symbol("clang_Cursor_getOffsetOfField")
        typeVisitFields = try symbol("clang_Type_visitFields")
        cursorIsBitField = try symbol("clang_Cursor_isBitField")
        getFieldDeclBitWidth = try symbol("clang_getFieldDeclBitWidth")
        getArrayElementType = try symbol("clang_getArrayElementType")
        getArraySize = try symbol("clang_getArraySize")
        getTypeDeclaration = try symbol("clang_getTypeDeclaration")
        typeGetNamedType = try symbol("clang_Type_getNamedType")
        getEnumDeclIntegerType = try symbol("clang_getEnumDeclIntegerType")
        getEnumConstantDeclValue = try symbol("clang_getEnumConstantDeclValue")
        getCString = try symbol("clang_getCString")
        disposeString = try symbol("clang_disposeString")
    }

    /// A CXString as a Swift string, disposed.
    func string(_ s: CXString) -> String {
        defer { disposeString(s) }
        return getCString(s).map { String(cString: $0) } ?? ""
    }

    func spelling(_ c: CXCursor) -> String { string(getCursorSpelling(c)) }
    func spelling(_ t: CXType) -> String { string(getTypeSpelling(t)) }

    /// The children of `cursor` (one level), in order.
    func children(_ cursor: CXCursor) -> [CXCursor] {
        let box = CursorList()
        withExtendedLifetime(box) {
            _ = visitChildren(cursor, { c, _, data in
                Unmanaged<CursorList>.fromOpaque(data!).takeUnretainedValue().items.append(c)
                return 1  // CXChildVisit_Continue
            }, Unmanaged.passUnretained(box).toOpaque())
        }
        return box.items
    }

    /// The fields of a record type, in declaration order (anonymous members included, with empty names).
    func fields(_ type: CXType) -> [CXCursor] {
        let box = CursorList()
        withExtendedLifetime(box) {
            _ = typeVisitFields(type, { c, data in
                Unmanaged<CursorList>.fromOpaque(data!).takeUnretainedValue().items.append(c)
                return 1  // CXVisit_Continue
            }, Unmanaged.passUnretained(box).toOpaque())
        }
        return box.items
    }

    private final class CursorList {
        var items: [CXCursor] = []
    }
}
