import ArgumentParser
import ShmCore

/// `--layout` and what goes with a C header: every command that decodes fields (`open`, `watch`, `browse`, `dump`,
/// `diff`) takes this one group, so a layout file and a header work the same everywhere.
struct LayoutOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A layout file, or the peer's C/C++ header with --struct (README \"Layouts\").", valueName: "FILE"),
        completion: .file())
    var layout: String?

    @Option(name: .customLong("struct"), help: "With a header: the struct, union or class (or typedef) to lay out.")
    var structName: String?

    @Option(name: .long, help: "With a header: parse it as c or c++ (default: .h is C, .hpp/.hh/.hxx C++).")
    var lang: String?

    @Option(
        name: .customShort("I", allowingJoined: true),
        help: ArgumentHelp("With a header: an include directory, as for the compiler.", valueName: "DIR"))
    var includeDirs: [String] = []

    @Option(
        name: .customShort("D", allowingJoined: true),
        help: ArgumentHelp("With a header: a macro, as for the compiler (NAME or NAME=VALUE).", valueName: "MACRO"))
    var defines: [String] = []

    @Option(
        name: .long, parsing: .unconditionalSingleValue,
        help: ArgumentHelp("With a header: another compiler flag (-std=c99, -m32, -include FILE...).", valueName: "FLAG"))
    var cflag: [String] = []

    /// Whether `--layout` names a header: `--struct` is given, or the file ends in .h, .hpp, .hh, ….
    var isHeader: Bool { layout.map { structName != nil || HeaderLayout.isHeader($0) } ?? false }

    func validate() throws {
        let headerOnly = !includeDirs.isEmpty || !defines.isEmpty || !cflag.isEmpty || lang != nil
        guard let layout else {
            if structName != nil { throw ValidationError("--struct goes with --layout FILE.h (the peer's header)") }
            if headerOnly { throw ValidationError("-I, -D, --cflag and --lang go with --layout FILE.h --struct NAME") }
            return
        }
        if isHeader {
            guard structName != nil else {
                throw ValidationError("--layout \(layout) is a header: name the struct to lay out with --struct NAME")
            }
            _ = try language()
        } else if headerOnly {
            throw ValidationError("-I, -D, --cflag and --lang go with a header (--layout FILE.h --struct NAME)")
        }
    }

    private func language() throws -> HeaderLayout.Language? {
        guard let lang else { return nil }
        guard let l = HeaderLayout.Language(rawValue: lang.lowercased() == "cpp" ? "c++" : lang.lowercased()) else {
            throw ValidationError("--lang must be c or c++, got \(lang)")
        }
        return l
    }

    /// The layout, from a layout file or a header; nil without `--layout`. Problems are one line: exit 2 for the
    /// user's files (a broken header, a missing struct), 1 when libclang is missing.
    func load() throws -> StructLayout? {
        guard let layout else { return nil }
        guard isHeader, let structName else { return try loadLayout(layout) }
        let options = HeaderLayout.Options(
            language: try language(), flags: includeDirs.map { "-I" + $0 } + defines.map { "-D" + $0 } + cflag)
        do {
            return try HeaderLayout.load(header: layout, struct: structName, options: options).layout
        } catch {
            throw CommandError(message: "--layout: \(error.message)", code: error.isUsage ? 2 : 1)
        }
    }
}
