import Foundation
import Testing
@testable import Constraints

/// The corpus of hostile regexes, grammars and schemas in `Tests/Fixtures/hostile/constraints`
/// (`manifest.json` says each case's outcome): every case ends in its expected error or compiles
/// and accepts and rejects its texts, each within `caseBudget` in a debug build. Serialised, so a
/// case's time is its own and not its neighbours'.
@Suite(.serialized) struct HostileConstraintCorpusTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var kind: String
        var source: String
        var error: String?
        var accepts: [String]
        var rejects: [String]
        var testDescription: String { name }
    }

    /// The two seconds the hardening issue allows a case in a debug build (all 39 cases together
    /// took 0.9 s serialised; the margin is for a machine shared with other builds).
    static let caseBudget = Duration.seconds(2)
    /// Masks checked along each accepted text (evenly spaced), besides its start and end.
    static let maskChecksPerText = 32

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hostile/constraints")

    static let cases: [Case] = {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("manifest.json").path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = root["cases"] as? [[String: Any]] else { return [] }
        return list.map { c in
            Case(name: c["name"] as? String ?? "?", kind: c["kind"] as? String ?? "?", source: expand(c["source"] as? String ?? ""),
                 error: c["error"] as? String, accepts: (c["accepts"] as? [String] ?? []).map(expand),
                 rejects: (c["rejects"] as? [String] ?? []).map(expand))
        }
    }()

    /// `{{N*TEXT}}` → TEXT repeated N times.
    static func expand(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), var close = rest[open.upperBound...].range(of: "}}"),
              let star = rest[open.upperBound..<close.lowerBound].firstIndex(of: "*"),
              let count = Int(rest[open.upperBound..<star]) {
            // `{{3*}}}` repeats "}": the marker ends at the last two braces of a run.
            while close.upperBound < rest.endIndex, rest[close.upperBound] == "}" {
                close = rest.index(after: close.lowerBound)..<rest.index(after: close.upperBound)
            }
            out += rest[..<open.lowerBound]
            out += String(repeating: String(rest[rest.index(after: star)..<close.lowerBound]), count: count)
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    static func compile(_ c: Case) throws -> Grammar {
        switch c.kind {
        case "regex": return try Grammar.regex(c.source)
        case "grammar": return try Grammar.parse(c.source)
        default: return try Grammar.jsonSchema(c.source)
        }
    }

    @Test func manifestIsReadAndExpands() {
        #expect(Self.cases.count >= 30)
        #expect(Self.expand("x{{3*ab}}y{{2*)}}") == "xabababy))")
        #expect(Self.expand("{{2*{}}{{2*}}}") == "{{}}")
        #expect(Set(Self.cases.map(\.kind)) == ["regex", "grammar", "schema"])
    }

    @Test(arguments: cases)
    func hostileCase(_ c: Case) throws {
        let clock = ContinuousClock()
        let start = clock.now
        defer { #expect(clock.now - start < Self.caseBudget, "\(c.name) took \(clock.now - start)") }
        let grammar: Grammar
        do {
            grammar = try Self.compile(c)
        } catch let e as ConstraintError {
            let expected = try #require(c.error, "\(c.name): refused: \(e)")
            #expect(e.description.contains(expected), "\(c.name): \(e)")
            return
        }
        #expect(c.error == nil, "\(c.name) compiled; expected an error containing \(c.error ?? "")")
        let v = SyntheticVocabulary.shared
        var first = Constraint(grammar: grammar, vocabulary: v)
        _ = first.mask()
        #expect(first.failure == nil, "\(c.name)")
        for text in c.accepts {
            // Token by token with single-byte tokens, the mask checked at spaced steps.
            var k = first.restarted()
            let bytes = Array(text.utf8)
            let stride = max(1, bytes.count / Self.maskChecksPerText)
            for (i, b) in bytes.enumerated() {
                if i % stride == 0 { #expect(k.mask().contains(Int(b)), "\(c.name): byte \(i) of '\(text.prefix(40))…'") }
                guard k.advance(Int(b)) else {
                    Issue.record("\(c.name): byte \(i) of '\(text.prefix(40))…' refused: \(String(describing: k.failure))")
                    break
                }
            }
            #expect(k.isAccepting && k.mask().contains(SyntheticVocabulary.eos), "\(c.name): '\(text.prefix(40))…' incomplete")
        }
        for text in c.rejects {
            var k = first.restarted()
            let bytes = Array(text.utf8)
            #expect(k.advance(bytes: bytes) < bytes.count || !k.isAccepting, "\(c.name): '\(text.prefix(40))…' accepted")
            #expect(k.failure == nil, "\(c.name)")
        }
    }
}
