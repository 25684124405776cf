import DecographCLI
import Foundation
import Graph
import Testing
@testable import Engine

/// `decograph bench extraction` (`ExtractionBenchmark`): the validity judgement, the cases file,
/// and the token split on the demo model, whose tokenizer has no chat template (plain prompts).
@Suite struct ExtractionBenchmarkTests {
    /// An object with the keywords extraction schemas use: a bounded integer, an enum, a date, a
    /// nullable string, an array of objects, required members and no others.
    static let schema = #"""
        {"type": "object",
         "properties": {
           "name": {"type": "string"},
           "age": {"type": "integer", "minimum": 0, "maximum": 150},
           "role": {"enum": ["admin", "user"]},
           "joined": {"type": "string", "format": "date"},
           "manager": {"type": ["string", "null"]},
           "devices": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}},
                                                  "required": ["id"], "additionalProperties": false}}},
         "required": ["name", "age", "role"],
         "additionalProperties": false}
        """#

    static let judged: [(output: String, valid: Bool)] = [
        (#"{"name":"Ann","age":41,"role":"admin"}"#, true),
        (#"{"name": "Ann", "age": 41, "role": "user", "joined": "2024-02-29", "manager": null, "devices": [{"id": 7}]}"#, true),
        // Pretty-printed past every bound a constraint sets (blank lines, deep indentation): still JSON.
        ("{\n\n                                              \"name\": \"Ann\",\n\t\"age\": 41,\r\n\"role\": \"user\"\n}", true),
        // Any spelling of a string, and whitespace after the value (RFC 8259 allows it).
        (#"{"name": "\u0041nn", "age": 0, "role": "admin"}"# + "\n", true),
        (#"{"name": "Ann", "age": 41}"#, false),                                         // required 'role' missing
        (#"{"name": "Ann", "age": 151, "role": "user"}"#, false),                        // above the maximum
        (#"{"name": "Ann", "age": 4.5, "role": "user"}"#, false),                        // not an integer
        (#"{"name": "Ann", "age": 41, "role": "owner"}"#, false),                        // outside the enum
        (#"{"name": "Ann", "age": 41, "role": "user", "joined": "2024-02-30"}"#, false), // no such date
        (#"{"name": "Ann", "age": 41, "role": "user", "email": "a@b.c"}"#, false),       // an undeclared member
        (#"{"name": "Ann", "age": 41, "role": "user", "devices": [{"id": "7"}]}"#, false),
        (#"{"name": "Ann", "age": 41, "role": "us"#, false),                             // cut inside a string
        (#"{"name": "Ann", "age": 41, "role": "user""#, false),                          // cut before the brace
        (#"{"name": "Ann", "age": 41, "role": "user"} and more"#, false),                // text after the value
        ("", false),
    ]

    @Test(arguments: judged)
    func judgeFollowsTheSchemaNotTheConstraintSettings(_ output: String, _ valid: Bool) throws {
        #expect(try ExtractionJudge(schema: Self.schema).accepts(output) == valid, "\(output)")
    }

    @Test func aSchemaTheCompilerRefusesIsAnErrorNamingTheKeyword() {
        #expect { try ExtractionJudge(schema: #"{"type": "string", "format": "hostname"}"#) } throws: {
            "\($0)".contains("hostname")
        }
    }

    /// A temporary cases file beside a schema file, holding `lines` (`SCHEMA` stands for the schema's
    /// path relative to the cases file).
    static func casesFile(_ lines: [String], schema: String = ExtractionBenchmarkTests.schema) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("extraction-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("schemas"), withIntermediateDirectories: true)
        try schema.write(to: directory.appendingPathComponent("schemas/person.json"), atomically: true, encoding: .utf8)
        let file = directory.appendingPathComponent("cases.jsonl").path
        try lines.joined(separator: "\n").replacingOccurrences(of: "SCHEMA", with: "schemas/person.json")
            .write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    static let demoModel = DemoGraphs.repository + "/models/demo-target"

    @Test(arguments: [
        (#"{"name": "a", "schema": "SCHEMA", "prompt": "x"}"# + "\n" + #"{"name": "b", "schema": "SCHEMA"}"#,
         ":2:1: error: case 'b': give exactly one of 'messages' and 'prompt' (found none)"),
        (#"{"name": "a", "schema": "missing.json", "prompt": "x"}"#, ":1:1: error: case 'a': cannot read the schema file"),
        (#"{"name": "a", "schema": "SCHEMA", "messages": [{"role": "user"}]}"#, "messages[0] must be an object with string 'role' and 'content'"),
        (#"{"name": "a", "schema": "SCHEMA", "prompt": "x"}"# + "\n\n" + #"{"name": "a", "schema": "SCHEMA", "prompt": "y"}"#,
         ":3:1: error: a case named 'a' is already defined"),
        (#"{"name": "a", "schema": "SCHEMA", "prompt": "x""#, ":1:1: error: not a JSON object"),
        ("", "holds no case"),
    ])
    func badCasesFilesAreLocatedErrors(_ text: String, _ message: String) throws {
        let file = try Self.casesFile([text])
        #expect { try ExtractionCase.load(file: file) } throws: { error in
            let description = "\((error as? EngineError)?.description ?? "")"
            return description.contains(message) && (message.hasPrefix(":") ? description.hasPrefix(file + message.prefix(4)) : true)
        }
    }

    /// Runs two plain-prompt cases on the demo model at `budget` tokens, before and after.
    static func report(budget: Int) throws -> ExtractionBenchmark.Report {
        let file = try casesFile([
            ##"{"name": "staff", "schema": "SCHEMA", "prompt": "# The record of one employee as JSON:\nrecord = "}"##,
            #"{"name": "config", "schema": "SCHEMA", "prompt": "def load():\n    return json.loads("}"#,
        ])
        return try ExtractionBenchmark.run(model: demoModel, cases: try ExtractionCase.load(file: file), maxTokens: budget)
    }

    /// The split adds up and agrees with the run's own metric at both budgets; at a budget that
    /// cuts every output, "after" returns it closed and valid, "before" returns the model's own
    /// tokens cut and invalid, and the two runs are the same model choices.
    @Test(arguments: [6, 40])
    func tokensSplitIntoChosenForcedAndClosing(_ budget: Int) throws {
        let report = try Self.report(budget: budget)
        #expect(report.records.map(\.configuration) == ["before", "after", "before", "after"])
        for r in report.records {
            #expect(r.chosen + r.forced + r.closing == r.tokens, "\(r.caseName) \(r.configuration)")
            #expect(r.forced == r.forcedByMetrics, "\(r.caseName) \(r.configuration): replayed \(r.forced), metric \(r.forcedByMetrics)")
            #expect(r.tokens > 0 && r.chosen > 0)
        }
        for name in ["staff", "config"] {
            let before = try #require(report.records.first { $0.caseName == name && $0.configuration == "before" })
            let after = try #require(report.records.first { $0.caseName == name && $0.configuration == "after" })
            #expect(before.closing == 0 && before.finishReason != "closed")
            if after.finishReason == "closed" {
                #expect(after.closing > 0 && after.valid && !after.validUnclosed, "\(after.output)")
                #expect(before.finishReason == "max_tokens" && !before.valid)
                #expect(after.tokens - after.closing <= budget)
            } else {
                #expect(after.closing == 0 && after.valid == after.validUnclosed)
            }
        }
        if budget == 6 {
            // Six tokens cannot hold an object with three required members: every output is cut.
            #expect(report.records.filter { $0.configuration == "after" }.allSatisfy { $0.finishReason == "closed" && $0.valid })
            #expect(report.totals("before").valid == 0)
            #expect(report.totals("after").valid == 2)
            #expect(report.totals("after").closing == report.records.map(\.closing).reduce(0, +))
        }
    }

    @Test func commandPrintsTotalsAndJSON() throws {
        let file = try Self.casesFile([#"{"name": "staff", "schema": "SCHEMA", "prompt": "record = "}"#])
        let capture = CapturingOutput()
        let status = DecographCLI.main(["bench", "extraction", "--model", Self.demoModel, "--cases", file, "--max-tokens", "6", "--json"],
                                       context: capture.context)
        #expect(status == 0, "\(capture.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(capture.out.utf8)) as? [String: Any])
        let configurations = try #require(json["configurations"] as? [[String: Any]])
        #expect(configurations.compactMap { $0["name"] as? String } == ["before", "after"])
        #expect(configurations.compactMap { $0["valid"] as? Int } == [0, 1])
        let text = CapturingOutput()
        #expect(DecographCLI.main(["bench", "extraction", "--model", Self.demoModel, "--cases", file, "--max-tokens", "6"],
                                  context: text.context) == 0)
        #expect(text.out.contains("after: valid and complete 1/1"), "\(text.out)")

        let usage = CapturingOutput()
        #expect(DecographCLI.main(["bench", "extraction", "--model", Self.demoModel], context: usage.context) == 64)
        #expect(usage.err.contains("--cases"))
        let bad = CapturingOutput()
        #expect(DecographCLI.main(["bench", "extraction", "--model", "/nonexistent.gguf", "--cases", file], context: bad.context) == 1)
        #expect(bad.err.contains("no such file"))
    }
}
