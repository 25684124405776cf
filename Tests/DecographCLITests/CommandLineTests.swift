import Testing
@testable import DecographCLI
import Support

@Suite struct SuggestionTests {
    @Test(arguments: [("kitten", "sitting", 3), ("", "abc", 3), ("draft.ngarm", "draft.ngram", 2), ("same", "same", 0)])
    func editDistance(a: String, b: String, expected: Int) {
        #expect(Suggestion.editDistance(a, b) == expected)
        #expect(Suggestion.editDistance(b, a) == expected)
    }

    @Test func closestOnlyForPlausibleTypos() {
        #expect(Suggestion.closest(to: "draft.ngarm", among: ["draft.ngram", "draft.model"]) == "draft.ngram")
        #expect(Suggestion.closest(to: "xyz", among: ["draft.ngram", "verify"]) == nil)
    }
}

@Suite struct ArgumentParsingTests {
    static let spec = CommandSpec(
        "demo", abstract: "test command",
        options: [.value("max-tokens", short: "n", "N", help: "limit"), .flag("json", help: "json"),
                  .value("graph", "G", repeatable: true, help: "graphs")],
        positionals: [PositionalSpec("FILE", help: "input"), PositionalSpec("REST", optional: true, variadic: true, help: "more")])

    @Test func parsesBothOptionSpellingsAndTerminator() throws {
        let p = try ParsedArguments.parse(["--max-tokens=5", "a.yaml", "--json", "--graph", "x", "--graph=y", "--", "--not-an-option"],
                                          spec: Self.spec, path: ["decograph", "demo"])
        #expect(try p.int("max-tokens") == 5)
        #expect(p.flag("json"))
        #expect(p.values("graph") == ["x", "y"])
        #expect(p.positionals == ["a.yaml", "--not-an-option"])
    }

    @Test func unknownOptionSuggests() {
        #expect(throws: UsageError.self) { try ParsedArguments.parse(["--max-tokns", "3", "f"], spec: Self.spec, path: ["d"]) }
        do {
            _ = try ParsedArguments.parse(["--max-tokns", "3", "f"], spec: Self.spec, path: ["d"])
        } catch let e as UsageError {
            #expect(e.message == "Unknown option '--max-tokns'. Did you mean '--max-tokens'?")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func missingPositionalAndBadInteger() throws {
        #expect(throws: UsageError.self) { try ParsedArguments.parse(["--json"], spec: Self.spec, path: ["d"]) }
        let p = try ParsedArguments.parse(["-n", "many", "f"], spec: Self.spec, path: ["d"])
        #expect(throws: UsageError.self) { try p.int("max-tokens") }
    }

    @Test func exitStatusesAndHelp() {
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["--version"], context: capture.context) == 0)
        #expect(capture.out == DecographCLI.version + "\n")
        let bad = CapturingOutput()
        #expect(DecographCLI.main(["no-such-command"], context: bad.context) == 64)
        #expect(bad.err.hasPrefix("Error: Unknown subcommand 'no-such-command'."))
        let help = CapturingOutput()
        #expect(DecographCLI.main(["--help"], context: help.context) == 0)
        #expect(help.out.contains("Usage: decograph <subcommand>"))
    }
}
