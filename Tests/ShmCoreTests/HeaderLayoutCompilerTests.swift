import Foundation
import ShmCore
import ShmTestSupport
import Testing

/// Header layouts against the compiler: every struct of Tests/Fixtures/layouts/corpus.h (packed, aligned(N),
/// #pragma pack, bitfields, unions, nested structs, arrays of structs and of arrays, enums, bool, char16_t) laid out
/// by shmscope (libclang) and by gcc (as C) and g++ (as C++); offsets, sizes, bitfield positions and the values
/// decoded from the bytes the compiled program filled must match exactly.
@Suite(.enabled(if: LayoutCorpus.available))
struct HeaderLayoutCompilerTests {
    static func layouts(_ language: HeaderLayout.Language) throws -> [String: HeaderLayout.Result] {
        var found: [String: HeaderLayout.Result] = [:]
        for name in LayoutCorpus.structs {
            found[name] = try HeaderLayout.load(
                header: LayoutCorpus.header, struct: name, options: HeaderLayout.Options(language: language))
        }
        return found
    }

    @Test(arguments: [HeaderLayout.Language.c, .cxx])
    func everyMemberMatchesTheCompiler(_ language: HeaderLayout.Language) throws {
        let results = try Self.layouts(language)
        let program = try LayoutCorpus.build(results.mapValues(\.layout), cxx: language == .cxx)
        defer {
            unlink(program)
            unlink(program + (language == .cxx ? ".cpp" : ".c"))
        }
        let facts = try LayoutCorpus.facts(program: program)
        for name in LayoutCorpus.structs {
            let result = try #require(results[name])
            let f = try #require(facts[name], "the program printed nothing for \(name)")
            let layout = result.layout
            #expect(result.size == f.size, "sizeof \(name)")
            #expect(f.bytes.count == f.size)
            var checked = 0
            for ordinal in 0..<layout.memberCount {
                let m = try #require(layout.member(ordinal: ordinal))
                if let bits = m.field.bits {
                    let compiler = try #require(f.bits[m.path], "\(name).\(m.path): no bit position from the compiler")
                    #expect(m.offset * 8 + bits.shift == compiler.offset, "\(name).\(m.path) bit offset")
                    #expect(bits.width == compiler.width, "\(name).\(m.path) width")
                } else {
                    let compiler = try #require(f.fields[m.path], "\(name).\(m.path): no offset from the compiler")
                    #expect(m.offset == compiler.offset, "\(name).\(m.path) offset")
                    #expect(m.size == compiler.size, "\(name).\(m.path) size")
                }
                let value = m.decode(f.bytes)
                let printed = try #require(f.values[m.path])
                #expect(LayoutCorpus.matches(value, printed), "\(name).\(m.path): shmscope \(value), compiler \(printed)")
                // A condition on the member reads the same number as the compiler wrote, bitfields included.
                switch value {
                case .number(.signed), .number(.unsigned), .boolean, .enumCase:
                    let holds = try ConditionEvaluator(parsing: "\(m.path) == \(printed)", fields: layout)
                    #expect(holds.evaluate(segment: f.bytes), "\(name): \(m.path) == \(printed)")
                    let differs = try ConditionEvaluator(parsing: "\(m.path) != \(printed)", fields: layout)
                    #expect(!differs.evaluate(segment: f.bytes), "\(name): \(m.path) != \(printed)")
                default: break
                }
                checked += 1
            }
            #expect(checked > 0)
            // Every byte the fill function set is covered by some member: no field was missed.
            for (i, byte) in f.bytes.enumerated() where byte != 0 {
                #expect(layout.ordinal(covering: i) != nil, "\(name): byte \(i) (0x\(String(byte, radix: 16))) is in no field")
            }
        }
    }

    @Test func enumsDecodeByNameAndPathsNameNestedMembers() throws {
        let results = try Self.layouts(.c)
        let program = try LayoutCorpus.build(results.mapValues(\.layout), cxx: false)
        defer {
            unlink(program)
            unlink(program + ".c")
        }
        let facts = try LayoutCorpus.facts(program: program)
        let nested = try #require(results["nested_rec"]?.layout)
        let bytes = try #require(facts["nested_rec"]?.bytes)
        func value(_ path: String) throws -> StructLayout.Value {
            try #require(nested.member(named: path), "no member \(path)").decode(bytes)
        }
        #expect(try value("hdr.state") == .enumCase(name: "STATE_RUNNING", raw: 3))
        #expect(try value("states[0]") == .enumCase(name: "STATE_FAILED", raw: -2))
        #expect(try value("mode") == .enumCase(name: "MODE_B", raw: 2))
        #expect(try value("items[2].y") == .number(.signed(30)))
        #expect(try value("grid[1][2]") == .number(.signed(13)))
        #expect(try value("counter[3]") == .number(.unsigned(103)))
        #expect(try value("flags[1]") == .boolean(false))
        #expect(try value("title") == .text("Héllo€"))
        #expect(try value("note") == .text("hi!"))
        #expect(try value("pt.y") == .number(.signed(7)))
        #expect(try value("counter").display == "[100, 101, 102, 103]")
        #expect(try value("hdr.state").display == "STATE_RUNNING")
        #expect(nested.member(named: "counter[4]") == nil)
        #expect(nested.closeNames(to: "state").first == "hdr.state")
        #expect(nested.member(covering: 0x2c)?.path == "items[0].y")
        let bits = try #require(results["bits_rec"]?.layout)
        let bitBytes = try #require(facts["bits_rec"]?.bytes)
        #expect(bits.member(named: "st")?.decode(bitBytes) == .enumCase(name: "STATE_STOPPED", raw: 7))
        #expect(bits.member(named: "delta")?.decode(bitBytes) == .number(.signed(-9)))
        #expect(bits.member(named: "big")?.decode(bitBytes) == .number(.unsigned(0xab_cdef_1234)))
        #expect(bits.member(named: "delta")?.typeName == "i32le:5")
    }

    @Test func theDemoHeaderLaysOutAsTheDemoLayoutFile() throws {
        let header = packageRoot.appendingPathComponent("examples/demo.h").path
        let result = try HeaderLayout.load(header: header, struct: "demo_record")
        #expect(result.size == 184)
        let fromHeader = result.layout.fields.map { [$0.name, "\($0.offset)", "\($0.size)"] }
        #expect(fromHeader == DemoRecord.layout.fields.map { [$0.name, "\($0.offset)", "\($0.size)"] })
        #expect(result.layout.member(named: "temps[2]")?.offset == 104)
    }

    @Test func changedRunsAreNamedPerMemberAndBitfieldsByTheBitsThatChanged() {
        let layout = StructLayout(fields: [
            .init(name: "ready", type: .scalar(.u32, .little), offset: 0, bits: .init(shift: 0, width: 1)),
            .init(name: "level", type: .scalar(.u32, .little), offset: 0, bits: .init(shift: 1, width: 4)),
            .init(name: "hdr.count", type: .scalar(.u16, .little), offset: 2),
            .init(name: "counter", type: .scalar(.u32, .little), count: 2, offset: 8),
        ])
        func names(_ offset: Int, _ old: [UInt8]?, _ new: [UInt8]) -> [String] {
            layout.split(ByteChange(offset: offset, old: old, new: new)).map {
                "\($0.change.offset):\($0.change.length):\($0.field ?? "-")"
            }
        }
        #expect(names(0, [0b0000_0001], [0b0000_0011]) == ["0:1:level"])
        #expect(names(0, [0b0000_0001], [0b0000_0010]) == ["0:1:ready,level"])
        #expect(names(0, nil, [0xff]) == ["0:1:ready,level"])
        // A run over padding, a nested field, more padding and two array elements is cut at every boundary.
        #expect(
            names(1, Array(repeating: 0, count: 10), Array(repeating: 1, count: 10)) == [
                "1:1:-", "2:2:hdr.count", "4:4:-", "8:3:counter[0]",
            ])
        #expect(names(10, [0, 0, 0, 0], [1, 1, 1, 1]) == ["10:2:counter[0]", "12:2:counter[1]"])
        #expect(HeaderLayout.language(of: "peer.hpp") == .cxx && HeaderLayout.language(of: "dir.d/peer.h") == .c)
        #expect(HeaderLayout.isHeader("x/peer.hh") && !HeaderLayout.isHeader("peer.layout"))
    }

    @Test func problemsAreOneLineNamingWhatToDo() throws {
        #expect {
            try HeaderLayout.load(header: LayoutCorpus.header, struct: "nested_re")
        } throws: { ($0 as? HeaderLayoutError)?.message == "\(LayoutCorpus.header): no struct `nested_re`: did you mean nested_rec?" }
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("broken") + ".h").path
        try "struct s { int a; uint32_t b; };\n".write(toFile: broken, atomically: true, encoding: .utf8)
        defer { unlink(broken) }
        #expect {
            try HeaderLayout.load(header: broken, struct: "s")
        } throws: {
            let e = $0 as? HeaderLayoutError
            return e?.kind == .compileFailed && e?.message.hasPrefix("\(broken):1:19: error: unknown type name 'uint32_t'") == true
                && e?.isUsage == true
        }
        // -D works as for the compiler: the same header compiles once the type is defined.
        let defined = try HeaderLayout.load(
            header: broken, struct: "s", options: HeaderLayout.Options(flags: ["-Duint32_t=unsigned"]))
        #expect(defined.size == 8 && defined.layout.member(named: "b")?.offset == 4)
    }
}
