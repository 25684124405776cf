import Foundation
import Testing
@testable import Constraints

/// Runs the official JSON-Schema-Test-Suite (draft 2020-12) through the schema compiler and the
/// constraint engine: every schema is either refused with a located error naming the keyword, or every
/// instance — serialised with the standard separators and compactly — is accepted byte by byte and token
/// by token exactly when the suite says it is valid.
@Suite struct JSONSchemaTestSuiteTests {
    static let suiteDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/testdata/json-schema-test-suite/tests/draft2020-12").standardized

    struct Tally {
        var schemas = 0, compiled = 0, instances = 0, passes = 0
        var invalidAccepted: [String] = []
        var validRejected: [String] = []
        var refusals: [String: Int] = [:]
    }

    /// Walks `text` through a fresh constraint byte by byte and token by token; returns whether it is
    /// accepted, after checking that both walks and the masks agree.
    static func walk(_ grammar: Grammar, _ text: String, sampleMasks: Bool) -> Bool {
        let vocabulary = SyntheticVocabulary.shared
        var byteWise = Constraint(grammar: grammar, vocabulary: vocabulary)
        let bytes = Array(text.utf8)
        let byteAccepted = byteWise.advance(bytes: bytes) == bytes.count && byteWise.isAccepting

        var tokenWise = Constraint(grammar: grammar, vocabulary: vocabulary)
        let tokens = vocabulary.greedySegmentation(bytes)!
        var tokenAccepted = true
        for t in tokens {
            let allowed = tokenWise.allows(t)
            if sampleMasks { #expect(tokenWise.mask().contains(t) == allowed, "mask disagrees with allows for token \(t) in \(text)") }
            let advanced = tokenWise.advance(t)
            #expect(advanced == allowed)
            if !advanced { tokenAccepted = false; break }
        }
        if tokenAccepted {
            tokenAccepted = tokenWise.allows(SyntheticVocabulary.eos)
            #expect(tokenAccepted == tokenWise.isAccepting)
        }
        #expect(byteAccepted == tokenAccepted, "byte and token walks disagree on \(text)")
        return byteAccepted && tokenAccepted
    }

    static func run(directory: URL, options: JSONSchemaOptions) throws -> Tally? {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return nil }
        var tally = Tally()
        for file in files.sorted() where file.hasSuffix(".json") {
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            guard case .array(let cases) = try JSONValue.parse(bytes: Array(data)) else { continue }
            for (caseIndex, testCase) in cases.enumerated() {
                guard let schema = testCase["schema"], case .array(let tests)? = testCase["tests"] else { continue }
                tally.schemas += 1
                let grammar: Grammar
                do {
                    grammar = try JSONSchemaCompiler.compile(schema, options: options).grammar
                } catch {
                    #expect(error.code == .unsupportedKeyword, "\(file)#\(caseIndex): \(error)")
                    #expect(error.location.hasPrefix("#"))
                    tally.refusals[error.feature ?? "?", default: 0] += 1
                    if ProcessInfo.processInfo.environment["CONSTRAINTS_VERBOSE"] != nil { print("refused \(file)#\(caseIndex): \(error)") }
                    continue
                }
                tally.compiled += 1
                for (testIndex, test) in tests.enumerated() {
                    guard let instance = test["data"], case .bool(let valid)? = test["valid"] else { continue }
                    for compact in [false, true] {
                        tally.instances += 1
                        let text = instance.serialized(compact: compact)
                        let accepted = walk(grammar, text, sampleMasks: testIndex == 0)
                        let label = "\(file)#\(caseIndex).\(testIndex) \(text)"
                        if accepted == valid { tally.passes += 1 }
                        else if accepted { tally.invalidAccepted.append(label) }
                        else { tally.validRejected.append(label) }
                    }
                }
            }
        }
        return tally
    }

    static func report(_ name: String, _ tally: Tally) {
        let refusals = tally.refusals.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("""
            \(name): schemas \(tally.schemas), compiled \(tally.compiled), refused \(tally.schemas - tally.compiled); \
            instances \(tally.instances) (both serialisations), passes \(tally.passes), \
            invalid accepted \(tally.invalidAccepted.count), valid rejected \(tally.validRejected.count)
            refusals by keyword: \(refusals)
            """)
        for r in tally.validRejected { print("  valid rejected: \(r)") }
    }

    @Test func draft2020_12() throws {
        guard let tally = try Self.run(directory: Self.suiteDirectory, options: JSONSchemaOptions(assertFormats: false)) else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true",
                    "JSON-Schema-Test-Suite missing at \(Self.suiteDirectory.path)")
            return
        }
        Self.report("draft2020-12", tally)
        #expect(tally.invalidAccepted.isEmpty, "invalid instances accepted: \(tally.invalidAccepted)")
        #expect(tally.validRejected.isEmpty, "valid instances rejected: \(tally.validRejected)")
        #expect(tally.compiled > 0)
    }

    /// The suite's format-assertion tests with formats enforced. Our formats are the RFC grammars or
    /// strict subsets of them (docs/constraints.md), so valid values outside a subset may be rejected
    /// (reported, not failed); an invalid value accepted fails the test.
    @Test func optionalFormatsAsserted() throws {
        let directory = Self.suiteDirectory.appendingPathComponent("optional/format")
        guard let tally = try Self.run(directory: directory, options: JSONSchemaOptions(assertFormats: true)) else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "JSON-Schema-Test-Suite missing at \(directory.path)")
            return
        }
        Self.report("draft2020-12/optional/format", tally)
        #expect(tally.invalidAccepted.isEmpty, "invalid instances accepted: \(tally.invalidAccepted)")
        #expect(tally.compiled >= 8, "the eight enforced formats compile")
    }
}
