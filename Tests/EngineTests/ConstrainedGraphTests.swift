import Constraints
import Foundation
import Testing
@testable import Engine

/// graphs/json.yaml, graphs/json-speculative.yaml and graphs/json-lookahead.yaml on the demo models: every sampled output is a
/// valid instance of examples/schemas/release.json, and drafting under the constraint changes
/// nothing under greedy decoding.
@Suite(.serialized) struct ConstrainedGraphTests {
    /// The schema's rules, checked by hand on the parsed output (the oracle does not go through the
    /// schema compiler that built the constraint).
    static func violations(of text: String) -> [String] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            return ["not JSON: \(error)"]
        }
        guard case .object(let members) = value else { return ["not an object"] }
        var problems: [String] = []
        let allowed: Set<String> = ["name", "version", "python", "stable", "downloads", "modules"]
        let keys = members.map(\.key)
        if Set(keys).count != keys.count { problems.append("repeated key") }
        for key in keys where !allowed.contains(key) { problems.append("unknown key \(key)") }
        for key in ["name", "version", "stable"] where !keys.contains(key) { problems.append("missing \(key)") }
        for (key, member) in members {
            switch (key, member) {
            case ("name", .string(let s)) where (1...24).contains(s.unicodeScalars.count): break
            case ("version", .string(let s)):
                let parts = s.split(separator: ".", omittingEmptySubsequences: false)
                if parts.count != 3 || !parts.allSatisfy({ (1...3).contains($0.count) && $0.allSatisfy { "0123456789".contains($0) } }) {
                    problems.append("version \(s)")
                }
            case ("python", .string(let s)) where ["3.10", "3.11", "3.12", "3.13"].contains(s): break
            case ("stable", .bool): break
            case ("downloads", .number(let n)):
                guard let d = Double(n), d == d.rounded(), (0...1_000_000).contains(d) else {
                    problems.append("downloads \(n)")
                    break
                }
            case ("modules", .array(let items)):
                if items.count > 4 { problems.append("\(items.count) modules") }
                for item in items {
                    guard case .string(let s) = item, (1...16).contains(s.unicodeScalars.count) else {
                        problems.append("module \(item.serialized())")
                        continue
                    }
                }
            default: problems.append("\(key): \(member.serialized())")
            }
        }
        return problems
    }

    @Test func theOracleRejectsWhatTheSchemaRejects() {
        #expect(Self.violations(of: #"{"name": "a", "version": "1.2.3", "stable": true}"#).isEmpty)
        #expect(Self.violations(of: #"{"name": "a", "version": "1.2", "stable": true}"#) == ["version 1.2"])
        #expect(!Self.violations(of: #"{"name": "a", "version": "1.2.3"}"#).isEmpty)
        #expect(!Self.violations(of: #"{"name": "a", "version": "1.2.3", "stable": true, "downloads": 1.5}"#).isEmpty)
        #expect(!Self.violations(of: #"{"name": "a", "version": "1.2.3", "stable": true, "x": 1}"#).isEmpty)
        #expect(!Self.violations(of: #"{"name": "a", "name": "b", "version": "1.2.3", "stable": true}"#).isEmpty)
    }

    @Test func everySampledOutputValidates() throws {
        let plan = try DemoGraphs.plan("json.yaml", edits: [("temperature: 0 }", "temperature: 1 }")])
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        let prompt = try session.encode(try DemoGraphs.prompt("prompt-release.py"))
        var distinct = Set<String>()
        for seed in UInt64(1)...100 {
            // The demo models pad gaps with whitespace up to the bound: the runs a 96-token budget
            // cuts (most of them; 256 tokens made the test take minutes) are closed by the
            // constraint, and validate all the same.
            let result = try session.run(prompt: prompt, maxNewTokens: 96, seed: seed)
            #expect(["eos", "closed"].contains(result.finishReason), "seed \(seed) did not finish: \(result.text)")
            let problems = Self.violations(of: result.text)
            #expect(problems.isEmpty, "seed \(seed): \(problems) in \(result.text)")
            distinct.insert(result.text)
        }
        // Sampling must actually vary, or the test would check one output a hundred times.
        #expect(distinct.count > 50)
    }

    /// A budget that cuts the value anywhere (inside a key, a string, a number, the array) ends
    /// `closed`: the constraint appends the shortest completion, and the text validates.
    @Test func budgetCutOutputsAreClosed() throws {
        let plan = try DemoGraphs.plan("json.yaml", edits: [("temperature: 0 }", "temperature: 1 }")])
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        let prompt = try session.encode(try DemoGraphs.prompt("prompt-release.py"))
        var closed = 0, singleChoices = 0
        for (seed, budget) in zip(UInt64(1)...40, (0..<40).map { 2 + $0 % 20 }) {
            var events: [SessionEvent] = []
            let result = try session.run(prompt: prompt, maxNewTokens: budget, seed: seed) { events.append($0) }
            let problems = Self.violations(of: result.text)
            #expect(problems.isEmpty, "seed \(seed), budget \(budget): \(problems) in \(result.text)")
            #expect(events.last?.finishReason == result.finishReason)
            if result.finishReason == "closed" {
                closed += 1
                #expect(result.metrics.closingTokens > 0)
                #expect(result.tokens.count == budget + result.metrics.closingTokens)
                #expect(events.last?.closingTokens == result.metrics.closingTokens)
            } else {
                #expect(result.finishReason == "eos", "seed \(seed), budget \(budget): \(result.finishReason)")
            }
            #expect(result.metrics.singleChoiceTokens <= result.tokens.count - result.metrics.closingTokens)
            singleChoices += result.metrics.singleChoiceTokens
        }
        #expect(closed > 20)
        // Keys and punctuation the schema fixes are single choices.
        #expect(singleChoices > 0)
    }

    @Test func beamSearchUnderTheConstraintValidates() throws {
        // graphs/beam.yaml with the schema between the (empty) proposal and `score`.
        let plan = try DemoGraphs.plan("beam.yaml", edits: [
            ("  scores: { op: score, model: target }",
             "  schema: { op: constrain.json_schema, path: \(DemoGraphs.repository)/examples/schemas/release.json, max_whitespace: 1, forced: 0 }\n"
                + "  scores: { op: score, model: target, tree: schema }"),
            ("max_new_tokens: 64", "max_new_tokens: 160"),
        ])
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        let result = try session.run(prompt: try session.encode(try DemoGraphs.prompt("prompt-release.py")))
        #expect(result.finishReason != "max_tokens", "\(result.text)")
        #expect(Self.violations(of: result.text).isEmpty, "\(Self.violations(of: result.text)) in \(result.text)")
    }

    /// Drafts pruned by the schema (a draft model and lookup; Lookahead's pooled n-grams, its
    /// window riding along as side rows) change nothing under greedy decoding.
    @Test(arguments: ["json-speculative.yaml", "json-lookahead.yaml"])
    func speculativeConstrainedIsGreedyIdentical(graph: String) throws {
        let plain = try Session(plan: try DemoGraphs.plan("json.yaml"), resources: DemoGraphs.resources)
        let drafted = try Session(plan: try DemoGraphs.plan(graph), resources: DemoGraphs.resources)
        var calls = 0, tokens = 0
        let prompts = try [DemoGraphs.prompt("prompt-release.py")]
            + ["# Release metadata\nINFO = ", "import json\n\nconfig = json.loads('''", "data = "]
        for text in prompts {
            let prompt = try plain.encode(text)
            let expected = try plain.run(prompt: prompt)
            let result = try drafted.run(prompt: prompt)
            #expect(result.tokens == expected.tokens, "prompt \(text.debugDescription)")
            #expect(Self.violations(of: result.text).isEmpty, "\(result.text)")
            calls += result.metrics.targetCalls
            tokens += result.tokens.count
        }
        #expect(calls < tokens, "no drafted token was accepted in \(tokens) tokens")
    }
}
