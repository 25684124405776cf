import Foundation
import Testing
@testable import Constraints

/// Runs the official JSON-Schema-Test-Suite (draft 2020-12) through the schema compiler and the
/// constraint engine: every schema is either refused with a located error naming the keyword, or every
/// instance — serialised with the standard separators and compactly — is accepted byte by byte and token
/// by token exactly when the suite says it is valid.
@Suite struct JSONSchemaTestSuiteTests {
    /// `shared/testdata/json-schema-test-suite/tests` in the nearest directory above the package that
    /// has one (the package may be a worktree nested deeper than the main checkout).
    static let testsDirectory: URL = {
        let relative = "shared/testdata/json-schema-test-suite/tests"
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        while directory.path != "/" {
            directory = directory.deletingLastPathComponent()
            let candidate = directory.appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.standardized }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("../" + relative).standardized
    }()
    static let suiteDirectory = testsDirectory.appendingPathComponent("draft2020-12")

    struct Tally {
        var schemas = 0, compiled = 0, instances = 0, passes = 0
        var invalidAccepted: [String] = []
        var validRejected: [String] = []
        var refusals: [String: Int] = [:]
        /// Per suite file (each file tests one keyword): schemas and compiled.
        var files: [String: (schemas: Int, compiled: Int)] = [:]
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
                tally.files[file, default: (0, 0)].schemas += 1
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
                tally.files[file, default: (0, 0)].compiled += 1
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
        let files = tally.files.sorted { $0.key < $1.key }.map { "\($0.key.dropLast(5)) \($0.value.compiled)/\($0.value.schemas)" }
            .joined(separator: ", ")
        let refusals = tally.refusals.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("""
            \(name): schemas \(tally.schemas), compiled \(tally.compiled), refused \(tally.schemas - tally.compiled); \
            instances \(tally.instances) (both serialisations), passes \(tally.passes), \
            invalid accepted \(tally.invalidAccepted.count), valid rejected \(tally.validRejected.count)
            refusals by keyword: \(refusals)
            compiled per file: \(files)
            """)
        for r in tally.validRejected { print("  valid rejected: \(r)") }
    }

    static let drafts: [String: JSONSchemaDraft] = [
        "draft4": .draft4, "draft6": .draft6, "draft7": .draft7, "draft2019-09": .draft2019_09, "draft2020-12": .draft2020_12,
    ]

    /// The suite's remote documents (`remotes/`, served at `http://localhost:1234/` by the suite's
    /// own runners), as the schema registry the `refRemote` cases name.
    static func remotes() throws -> [String: JSONValue] {
        let directory = testsDirectory.deletingLastPathComponent().appendingPathComponent("remotes")
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return [:] }
        var out: [String: JSONValue] = [:]
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".json") else { continue }
            let data = try Data(contentsOf: directory.appendingPathComponent(relative))
            out["http://localhost:1234/" + relative] = try JSONValue.parse(bytes: Array(data))
        }
        return out
    }

    /// Each draft's directory, every file under that draft's rules (its schemas carry no `$schema`
    /// before 2019-09, so the draft is the compile option's default).
    @Test(arguments: ["draft4", "draft6", "draft7", "draft2019-09", "draft2020-12"])
    func draft(_ name: String) throws {
        let directory = Self.testsDirectory.appendingPathComponent(name)
        let options = JSONSchemaOptions(assertFormats: false, defaultDraft: Self.drafts[name]!, documents: try Self.remotes())
        guard let tally = try Self.run(directory: directory, options: options) else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true",
                    "JSON-Schema-Test-Suite missing at \(directory.path)")
            return
        }
        Self.report(name, tally)
        #expect(tally.invalidAccepted.isEmpty, "invalid instances accepted: \(tally.invalidAccepted)")
        #expect(tally.validRejected.isEmpty, "valid instances rejected: \(tally.validRejected)")
        // The coverage reached (docs/constraints.md): at least 90 % of each draft's schemas compile.
        #expect(tally.compiled * 10 >= tally.schemas * 9, "\(name): \(tally.compiled) of \(tally.schemas) compiled")
    }

    /// The suite's format-assertion tests with formats enforced. Our formats are the RFC grammars or
    /// strict subsets of them (docs/constraints.md), so valid values outside a subset may be rejected
    /// (reported, not failed); an invalid value accepted fails the test.
    @Test(arguments: ["draft4", "draft6", "draft7", "draft2019-09", "draft2020-12"])
    func optionalFormatsAsserted(_ name: String) throws {
        let directory = Self.testsDirectory.appendingPathComponent(name).appendingPathComponent("optional/format")
        guard let tally = try Self.run(directory: directory, options: JSONSchemaOptions(assertFormats: true, defaultDraft: Self.drafts[name]!)) else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "JSON-Schema-Test-Suite missing at \(directory.path)")
            return
        }
        Self.report(name + "/optional/format", tally)
        #expect(tally.invalidAccepted.isEmpty, "invalid instances accepted: \(tally.invalidAccepted)")
        // The enforced formats this draft defines compile (uuid from 2019-09, date and time from 7).
        let enforced = ["date-time", "email", "ipv4", "ipv6", "uri"] + (name >= "draft7" || name.hasPrefix("draft20") ? ["date", "time"] : [])
            + (name.hasPrefix("draft20") ? ["uuid"] : [])
        #expect(tally.compiled >= enforced.count, "the enforced formats compile: \(enforced)")
    }
}
