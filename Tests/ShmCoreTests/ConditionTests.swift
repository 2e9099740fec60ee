import ShmCore
import Testing

/// The breakpoint condition language: parsing (table-driven, errors with their column) and evaluation on bytes.
@Suite struct ConditionTests {
    /// A layout with a scalar, an array, big-endian and text fields.
    static let layout = try! StructLayout.parse(
        """
        state    u32le  @0
        counter  u64le  @8
        temps    f32[2] @16
        flags    u16be  @24
        name     char[8] @32
        """)

    /// 40 bytes: state 3, counter 1000, temps [1.5, -2], flags 0x0102, name "peer".
    static func segment(state: UInt32 = 3, counter: UInt64 = 1000) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 40)
        withUnsafeBytes(of: state.littleEndian) { b.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: counter.littleEndian) { b.replaceSubrange(8..<16, with: $0) }
        withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian) { b.replaceSubrange(16..<20, with: $0) }
        withUnsafeBytes(of: Float(-2).bitPattern.littleEndian) { b.replaceSubrange(20..<24, with: $0) }
        b[24] = 0x01
        b[25] = 0x02
        b.replaceSubrange(32..<36, with: Array("peer".utf8))
        return b
    }

    static let truths: [(String, Bool)] = [
        ("state == 3", true),
        ("state != 3", false),
        ("state >= 3 && state <= 3", true),
        ("state < 3 || counter >= 1000", true),
        ("counter > 1000", false),
        ("counter == 0x3e8", true),
        ("u32@0 == 3", true),
        ("u32le@0x0 == 3", true),
        ("u32be@0 == 0x03000000", true),
        ("u8@0 == 3 && u8@1 == 0", true),
        ("u16@0 == 3", true),
        ("u64@8 == 1000", true),
        ("i32@20 < 0", true),
        ("f32@16 == 1.5", true),
        ("f32@20 == -2", true),
        ("temps[0] > 1 && temps[1] < -1.5", true),
        ("f64@16 != 0", true),
        ("flags == 0x0102", true),
        ("u16be@24 == 258", true),
        ("i8@0 == -3", false),
        ("!(state == 3)", false),
        ("!state == 4", true),
        ("(state == 1 || state == 3) && counter == 1000", true),
        ("state == 1 || state == 3 && counter == 0", false),
        ("3 == state", true),
        ("u64@8 >= 18446744073709551615", false),
        ("u32@100 == 0", false),  // past the end: never holds
        ("changed(state)", false),  // the first evaluation is the baseline
    ]

    @Test(arguments: truths) func evaluates(text: String, expected: Bool) throws {
        let evaluator = try ConditionEvaluator(parsing: text, fields: Self.layout)
        #expect(evaluator.evaluate(segment: Self.segment()) == expected, "\(text)")
    }

    static let errors: [(String, Int, String)] = [
        ("state = 3", 7, "`=` is not a comparison: write `==`"),
        ("stat == 3", 1, "unknown field `stat` (fields: state, counter, temps, flags, name)"),
        ("state == 3 &", 12, "write `&&` for and"),
        ("state ==", 9, "expected a field, TYPE@OFFSET or a number, found end"),
        ("(state == 3", 12, "`(` at column 1 is not closed: expected `)`, found end"),
        ("state", 6, "expected a comparison (== != < <= > >=) after `state`, found end"),
        ("u33@0 == 1", 1, "unknown type `u33`: use u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 (+le/be), e.g. u32@0x40"),
        ("u32@zz == 1", 5, "offset: `zz` is not an offset (e.g. 4096, 0x1000, 4K)"),
        ("u32 == 1", 1, "`u32` needs an offset: write u32@0x40"),
        ("name == 3", 1, "`name` is not a single number (text, bytes or a whole array): only changed(name) applies to it"),
        ("1 == 2", 1, "compares two numbers: name a field or TYPE@OFFSET"),
        ("changed(3)", 9, "changed() takes a field or TYPE@OFFSET, not a number"),
        ("", 1, "empty condition: write e.g. `state == 3` or `changed(u32@0x40)`"),
        ("state == 3 state", 12, "unexpected `state`"),
        ("state == 99999999999999999999", 10, "`99999999999999999999` is too large"),
        ("state == 1.2.3", 10, "`1.2.3` is not a number (e.g. 3, -2, 0x40, 1.5)"),
        ("state ~ 3", 7, "unexpected `~`"),
    ]

    @Test(arguments: errors) func refuses(text: String, column: Int, message: String) {
        #expect(throws: ConditionError(message: message, column: column, text: text)) {
            try Condition.parse(text, fields: Self.layout)
        }
    }

    @Test func errorIsOneLineWithACaretForPrompts() {
        let error = ConditionError(message: "unknown field `x`", column: 10, text: "state == x")
        #expect(error.description == "column 10: unknown field `x` in `state == x`")
        #expect(error.caretLines == ["state == x", "         ^"])
    }

    @Test func withoutALayoutFieldNamesPointToTypedOffsets() {
        #expect(throws: ConditionError.self) { try Condition.parse("state == 3") }
        do {
            _ = try Condition.parse("state == 3")
        } catch {
            #expect(error.message.contains("no layout given: use TYPE@OFFSET"))
        }
    }

    @Test func changedComparesWithThePreviousEvaluation() throws {
        let evaluator = try ConditionEvaluator(parsing: "changed(counter) && counter >= 1001", fields: Self.layout)
        #expect(!evaluator.evaluate(segment: Self.segment(counter: 1000)))
        #expect(evaluator.evaluate(segment: Self.segment(counter: 1001)))
        // Unchanged since the last evaluation: false again.
        #expect(!evaluator.evaluate(segment: Self.segment(counter: 1001)))
        #expect(!evaluator.evaluate(segment: Self.segment(counter: 1000)), "changed, but not >= 1001")
        let typed = try ConditionEvaluator(parsing: "changed(u8@0x21)")
        var b = Self.segment()
        #expect(!typed.evaluate(segment: b))
        b[0x21] = 0x41
        #expect(typed.evaluate(segment: b))
        let text = try ConditionEvaluator(parsing: "changed(name)", fields: Self.layout)
        #expect(!text.evaluate(segment: b))
        b[32] = 0x50
        #expect(text.evaluate(segment: b))
    }

    @Test func readsOnlyTheBytesItNeeds() throws {
        let evaluator = try ConditionEvaluator(
            parsing: "u32@0x40 != 0 && (u16@0x42 == 1 || changed(u8@0x100)) && state == 3", fields: Self.layout)
        #expect(evaluator.ranges == [0..<4, 0x40..<0x44, 0x100..<0x101])
        var reads: [Range<Int>] = []
        _ = evaluator.evaluate { offset, count in
            reads.append(offset..<(offset + count))
            return [UInt8](repeating: 1, count: count)
        }
        #expect(reads == evaluator.ranges)
    }

    @Test func hitValuesNameEachOperand() throws {
        let evaluator = try ConditionEvaluator(
            parsing: "state == 3 && flags != 0 && changed(name)", fields: Self.layout)
        _ = evaluator.evaluate(segment: Self.segment())
        #expect(evaluator.values().map(\.display) == ["state=3", "flags=258", "name=7065657200000000"])
        #expect(evaluator.values().map(\.offset) == [0, 24, 32])
    }

    @Test func enumNamesFromTheLayoutAreConstants() throws {
        struct Enumerated: ConditionFieldLookup {
            func conditionField(_ path: String) -> ConditionField? {
                path == "hdr.state"
                    ? ConditionField(offset: 0, size: 4, type: .u32, enumCases: ["IDLE": 0, "RUNNING": 3]) : nil
            }
            var conditionFieldNames: [String] { ["hdr.state"] }
        }
        let evaluator = try ConditionEvaluator(parsing: "hdr.state == RUNNING", fields: Enumerated())
        #expect(evaluator.evaluate(segment: Self.segment()))
        #expect(evaluator.values().map(\.display) == ["hdr.state=3 (RUNNING)"])
        #expect(throws: ConditionError.self) { try Condition.parse("hdr.state == STOPPED", fields: Enumerated()) }
    }

    /// Found by fuzz-condition: 700 nested `(` and `!` overflowed the parser's stack. Nesting and length are bounded
    /// with a one-line error naming where; everything within the bounds parses and evaluates.
    @Test func nestingAndLengthAreBounded() throws {
        let deep = String(repeating: "(", count: 64) + "u8@0 == 0" + String(repeating: ")", count: 64)
        #expect(try ConditionEvaluator(parsing: deep).evaluate(segment: [0]))
        let tooDeep = String(repeating: "(", count: 65) + "u8@0 == 0" + String(repeating: ")", count: 65)
        #expect {
            try Condition.parse(tooDeep)
        } throws: { ($0 as? ConditionError)?.message == "`(` and `!` nest more than 64 deep here" && ($0 as? ConditionError)?.column == 65 }
        let negations = String(repeating: "!", count: 64) + "u8@0 == 0"
        #expect(try ConditionEvaluator(parsing: negations).evaluate(segment: [0]))
        #expect(throws: ConditionError.self) { try Condition.parse("!" + negations) }
        let long = Array(repeating: "u8@0 == 0", count: 1_000).joined(separator: " && ")
        #expect(try ConditionEvaluator(parsing: long).evaluate(segment: [0]))
        #expect {
            try Condition.parse(long + " || u8@0 == 1")
        } throws: { ($0 as? ConditionError)?.message == "more than 1000 comparisons and changed() in one condition" }
        #expect(throws: ConditionError.self) { try Condition.parse(String(repeating: "((!", count: 10_000)) }
    }

    @Test func integersCompareExactlyAndNaNIsUnequal() throws {
        var b = [UInt8](repeating: 0xff, count: 8)
        #expect(try ConditionEvaluator(parsing: "u64@0 == 0xffffffffffffffff").evaluate(segment: b))
        #expect(try ConditionEvaluator(parsing: "u64@0 > 0xfffffffffffffffe").evaluate(segment: b))
        #expect(try ConditionEvaluator(parsing: "i64@0 == -1").evaluate(segment: b))
        b = [0, 0, 0xc0, 0x7f]  // f32 NaN
        #expect(try !ConditionEvaluator(parsing: "f32@0 == 0").evaluate(segment: b))
        #expect(try ConditionEvaluator(parsing: "f32@0 != 0").evaluate(segment: b))
    }

    @Test func headerLayoutMembersCompareByPathEnumNameAndBool() throws {
        let state = StructLayout.EnumType(
            name: "enum run_state", storage: .u32,
            constants: [.init(name: "STATE_IDLE", value: 0), .init(name: "STATE_RUNNING", value: 3)])
        let layout = StructLayout(fields: [
            .init(name: "hdr.state", type: .enumeration(state), offset: 0),
            .init(name: "enabled", type: .boolean, offset: 4),
            .init(name: "items", type: .scalar(.u16, .little), count: 2, offset: 6),
            .init(name: "ready", type: .scalar(.u8, .little), offset: 10, bits: .init(shift: 0, width: 1)),
        ])
        let bytes: [UInt8] = [3, 0, 0, 0, 1, 0, 7, 0, 9, 0, 1]
        let running = try ConditionEvaluator(parsing: "hdr.state == STATE_RUNNING && enabled == 1", fields: layout)
        #expect(running.evaluate(segment: bytes))
        #expect(running.values().map(\.display) == ["hdr.state=3 (STATE_RUNNING)", "enabled=1"])
        #expect(try ConditionEvaluator(parsing: "items[1] == 9 && items[0] < 8", fields: layout).evaluate(segment: bytes))
        #expect(try !ConditionEvaluator(parsing: "hdr.state == STATE_IDLE", fields: layout).evaluate(segment: bytes))
        #expect(try ConditionEvaluator(parsing: "ready == 1", fields: layout).evaluate(segment: bytes))
        #expect(try !ConditionEvaluator(parsing: "changed(ready)", fields: layout).evaluate(segment: bytes))
    }

    /// Bitfields compare on their own bits: unsigned, signed (sign-extended from the field's top bit), a field
    /// crossing a byte, an enum bitfield by its constants' names, a bool bitfield; `changed()` ignores neighbours
    /// that share the bytes.
    @Test func bitfieldsCompareOnTheirOwnBits() throws {
        let state = StructLayout.EnumType(
            name: "enum run_state", storage: .u32,
            constants: [.init(name: "IDLE", value: 0), .init(name: "RUNNING", value: 3)])
        // As `struct { uint32_t ready:1, level:4; int32_t delta:5; uint16_t tail:9; enum run_state st:8; bool on:1; }`
        // packs on x86-64: ready bit 0, level bits 1-4, delta bits 5-9 (crossing into byte 1), tail bits 16-24,
        // st bits 32-39, on bit 40.
        let layout = StructLayout(fields: [
            .init(name: "ready", type: .scalar(.u32, .little), offset: 0, bits: .init(shift: 0, width: 1)),
            .init(name: "level", type: .scalar(.u32, .little), offset: 0, bits: .init(shift: 1, width: 4)),
            .init(name: "delta", type: .scalar(.i32, .little), offset: 0, bits: .init(shift: 5, width: 5)),
            .init(name: "tail", type: .scalar(.u16, .little), offset: 2, bits: .init(shift: 0, width: 9)),
            .init(name: "st", type: .enumeration(state), offset: 4, bits: .init(shift: 0, width: 8)),
            .init(name: "on", type: .boolean, offset: 5, bits: .init(shift: 0, width: 1)),
        ])
        func pack(ready: UInt64, level: UInt64, delta: Int64, tail: UInt64, st: UInt64, on: UInt64) -> [UInt8] {
            let word = ready | level << 1 | (UInt64(bitPattern: delta) & 0x1f) << 5 | tail << 16 | st << 32 | on << 40
            return (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) }
        }
        let bytes = pack(ready: 1, level: 9, delta: -3, tail: 300, st: 3, on: 1)
        let all = try ConditionEvaluator(
            parsing: "ready == 1 && level == 9 && delta == -3 && delta < 0 && tail == 300 && st == RUNNING && on == 1",
            fields: layout)
        #expect(all.evaluate(segment: bytes))
        #expect(
            all.values().map(\.display)
                == ["ready=1", "level=9", "delta=-3", "tail=300", "st=3 (RUNNING)", "on=1"])
        #expect(try !ConditionEvaluator(parsing: "level == 8 || delta == 29", fields: layout).evaluate(segment: bytes))
        // changed(level) sees level only, not ready or delta in the same byte.
        let changed = try ConditionEvaluator(parsing: "changed(level)", fields: layout)
        #expect(!changed.evaluate(segment: bytes))
        #expect(!changed.evaluate(segment: pack(ready: 0, level: 9, delta: 7, tail: 1, st: 0, on: 0)))
        #expect(changed.evaluate(segment: pack(ready: 0, level: 10, delta: 7, tail: 1, st: 0, on: 0)))
    }

}
