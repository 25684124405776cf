import Testing
import Foundation
@testable import Graph

@Suite struct PlanTests {
    let compiler = GraphCompiler(registry: TestRegistry.registry, baseDirectory: fixtures)

    func plan(_ file: String) throws -> Plan {
        let result = compiler.compile(file: file)
        #expect(result.rendered == "")
        return try #require(result.plan)
    }

    @Test func previousStepPortsAreNotCyclesAndNeedFork() throws {
        let plan = try plan("valid/beam.yaml")
        let beam = try #require(plan.node(named: "beam"))
        #expect(beam.inputs.map(\.port) == ["from", "frontier"])
        #expect(beam.inputs[1].sources == [beam.index] && beam.inputs[1].timing == .previousStep)
        #expect(plan.stages.count == 3)
        #expect(plan.capabilities == [.fork])
        #expect(plan.dot().contains("n2 -> n2 [label=\"frontier\", style=dashed, constraint=false];"))
    }

    /// explain and the DOT drawing say what a frontier op does: it runs last, over every
    /// hypothesis the first stage runs once each.
    @Test func frontierOpsAreShownWithTheHypothesesTheyChoose() throws {
        let plan = try plan("valid/beam.yaml")
        let beam = try #require(plan.node(named: "beam"))
        #expect(plan.explanation().contains("frontier: 'beam' (search.beam) keeps the running hypotheses; each step the stages above run once per hypothesis"))
        let dot = plan.dot()
        #expect(dot.contains("n\(beam.index) [label=\"beam\\nsearch.beam\", peripheries=2, shape=box3d];"))
        let first = try #require(plan.stages.first)
        for i in first { #expect(dot.contains("n\(beam.index) -> n\(i) [label=\"hypotheses\", style=dashed, constraint=false];")) }
        #expect(!(try self.plan("valid/speculative.yaml")).explanation().contains("frontier:"))
    }

    @Test func nestedSubgraphsResolveNamesWhereTheyWereWritten() throws {
        let plan = try plan("valid/uses-nested.yaml")
        #expect(plan.nodes.map(\.name) == ["outer/draft/propose", "outer/safe/prune", "scores", "pick", "accept"])
        let prune = try #require(plan.node(named: "outer/safe/prune"))
        // `tree: draft` was written in nested.yaml, so it names outer/draft, whose output is propose.
        #expect(prune.inputs.first?.sources == [plan.node(named: "outer/draft/propose")!.index])
        // `constraint: digits` was written in the root graph.
        #expect(prune.parameters["constraint"] == .reference("digits"))
        #expect(plan.node(named: "outer/draft/propose")?.parameters["model"] == .reference("draft"))
        #expect(plan.node(named: "outer/draft/propose")?.parameters["tokens"] == .int(3))
        // A draft model supplies q, which survives pruning and scoring: sampling verification is sound.
        #expect(plan.node(named: "pick")?.properties.contains(.draftProbabilities) == true)
        #expect(plan.stages.map { $0.map { plan.nodes[$0].name } } ==
                [["outer/draft/propose"], ["outer/safe/prune"], ["scores"], ["pick"], ["accept"]])
    }

    @Test func explanationShowsScheduleDefaultsAndNeeds() throws {
        let text = try plan("valid/speculative.yaml").explanation()
        #expect(text.hasPrefix("graph merged (valid/speculative.yaml)\n  A draft model and prompt lookup both propose; the target verifies.\n"))
        #expect(text.contains("limits: max_new_tokens=128 stop=[\"\\n\\n\"]\n"))
        #expect(text.contains("runtime needs: rollback, tokenTrees\n"))
        #expect(text.contains("step schedule (5 stages; the nodes of a stage may run in parallel):\n  stage 1: small (draft.model), recall (draft.lookup)\n  stage 2: tree (tree.merge)\n"))
        #expect(text.contains("      from ← small, recall\n"))
        #expect(text.contains("min_prob=0.3, model=draft, temperature=0.0 (default), tokens=6\n"))
        #expect(text.contains("  accept: verify → selection  (output)\n"))
    }

    @Test func dotDrawsEveryEdgeAndRanksParallelNodes() throws {
        let plan = try plan("valid/speculative.yaml")
        let dot = plan.dot()
        #expect(dot.hasPrefix("digraph \"merged\" {"))
        let edges = dot.split(separator: "\n").filter { $0.contains(" -> n") && $0.contains("label=") }
        #expect(edges.count == plan.nodes.reduce(0) { $0 + $1.inputs.reduce(0) { $0 + $1.sources.count } })
        #expect(dot.contains("  n0 -> n2 [label=\"from\"];"))
        #expect(dot.contains("{ rank=same; n0; n1; }"))
        #expect(dot.contains("n5 [label=\"accept\\nverify\", peripheries=2];"))
    }

    @Test func compilingFromSourceMatchesCompilingTheFile() throws {
        let text = try String(contentsOfFile: fixtures + "/valid/speculative.yaml", encoding: .utf8)
        let fromSource = compiler.compile(source: text, file: "valid/speculative.yaml")
        #expect(fromSource.plan == (try plan("valid/speculative.yaml")))
    }

    /// Compiles share nothing: many at once give the same plan as one alone.
    @Test func concurrentCompilesAgree() async throws {
        let expected = try plan("valid/uses-nested.yaml")
        let compiler = self.compiler
        let results = await withTaskGroup(of: Plan?.self) { group in
            for _ in 0..<16 { group.addTask { compiler.compile(file: "valid/uses-nested.yaml").plan } }
            var plans: [Plan?] = []
            for await p in group { plans.append(p) }
            return plans
        }
        #expect(results.count == 16 && results.allSatisfy { $0 == expected })
    }

    @Test func soundnessDependsOnParameters() throws {
        func diagnostics(ngramTemperature: String, mode: String) -> String {
            compiler.compile(source: """
                models: { target: { path: t } }
                stores: { s: { path: s } }
                nodes:
                  d: { op: draft.ngram, store: s, temperature: \(ngramTemperature) }
                  sc: { op: score, model: target, tree: d }
                  p: { op: sample, from: sc }
                  v: { op: verify, from: p, mode: \(mode) }
                output: v
                """, file: "g.yaml").rendered
        }
        #expect(diagnostics(ngramTemperature: "0", mode: "sampling") == "")
        #expect(diagnostics(ngramTemperature: "0.5", mode: "greedy") == "")
        #expect(diagnostics(ngramTemperature: "0.5", mode: "sampling").hasPrefix("g.yaml:7:26: error: node 'v' (verify) needs draftProbabilities or deterministic on port 'from' when mode is sampling"))
    }

    @Test func registryValidationFindsInconsistentSpecs() {
        let bad = OpRegistry([
            OpSpec("a", family: .propose, doc: "", parameters: [ParameterSpec("k", .int, default: .int(0), range: .atLeast(1), doc: "")],
                   output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic, when: .equals("t", .int(0)))], propagates: ["x"], doc: "")),
            OpSpec("a", family: .propose, doc: "", output: OutputSpec(.tokenTree, doc: "")),
        ])
        #expect(bad.validate() == [
            "op 'a': default of 'k' is 0.0, outside >= 1",
            "op 'a': a rule reads parameter 't', which it does not declare",
            "op 'a': output propagates from 'x', which is not an input port",
            "op 'a' is registered twice",
        ])
    }

    @Test func unusedNodesAndModelsWarnOnlyWhenTheGraphIsValid() {
        let result = compiler.compile(source: """
            models: { target: { path: t }, spare: { path: s } }
            nodes:
              idle: { op: draft.lookup }
              sc: { op: score, model: target }
              p: { op: sample, from: sc }
              v: { op: verify, from: p }
            output: v
            """, file: "g.yaml")
        #expect(result.plan != nil)
        #expect(result.rendered == """
            g.yaml:1:32: warning: model 'spare' is declared but no node uses it
            g.yaml:3:3: warning: node 'idle' does not feed the graph's output, so its work is wasted
            """)
    }
}

@Suite struct PlanParameterTests {
    @Test func typedAccessorsReadCheckedValues() throws {
        let result = GraphCompiler(registry: TestRegistry.registry).compile(source: """
            models: { target: { path: t } }
            stores: { s: { path: s } }
            nodes:
              sc: { op: score, model: target }
              p: { op: sample, from: sc, top_p: 1, stop_words: one }
              v: { op: verify, from: p }
              learn: { op: store.learn, store: s, from: v, after: v }
            output: v
            """, file: "g.yaml")
        #expect(result.rendered == "")
        let plan = try #require(result.plan)
        let p = try #require(plan.node(named: "p"))
        #expect(p.parameters["top_p"]?.number == 1 && p.parameters["temperature"]?.number == 1 && p.parameters["top_k"] == .int(0))
        #expect(p.parameters["stop_words"] == .list([.string("one")]))
        #expect(p.sources("from") == [plan.node(named: "sc")!.index])
        let learn = try #require(plan.node(named: "learn"))
        #expect(learn.reference("store") == "s" && learn.reference("after") == "v")
        #expect(plan.node(named: "v")?.parameters["mode"] == .string("greedy"))
        // A commit-family node feeds nothing yet is not reported as wasted.
        #expect(result.diagnostics.isEmpty)
    }
}

@Suite struct ParameterConditionTests {
    @Test func combinationsHoldAsTheirPartsDo() {
        let sampling = ParameterCondition.equals("mode", .string("sampling"))
        let hot = ParameterCondition.greaterThan("temperature", 0)
        let values: [String: ParameterValue] = ["mode": .string("sampling"), "temperature": .int(0)]
        #expect(sampling.holds(for: values) && !hot.holds(for: values))
        #expect(!ParameterCondition.allOf([sampling, hot]).holds(for: values))
        #expect(ParameterCondition.anyOf([sampling, hot]).holds(for: values))
        #expect(ParameterCondition.allOf([sampling, hot]).description == "when mode is sampling and temperature > 0.0")
        #expect(ParameterCondition.allOf([sampling, .notEquals("x", .int(1))]).parameterNames == ["mode", "x"])
    }
}

@Suite struct PlanJSONTests {
    @Test func jsonMatchesThePlan() throws {
        let plan = try #require(GraphCompiler(registry: TestRegistry.registry, baseDirectory: fixtures).compile(file: "valid/uses-nested.yaml").plan)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.json().utf8)) as? [String: Any])
        #expect(object["output"] as? String == plan.nodes[plan.output].name)
        #expect(object["stages"] as? [[String]] == plan.stages.map { $0.map { plan.nodes[$0].name } })
        #expect(object["capabilities"] as? [String] == plan.capabilities.map(\.rawValue))
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        #expect(nodes.compactMap { $0["name"] as? String } == plan.nodes.map(\.name))
        let pick = try #require(nodes.first { $0["name"] as? String == "pick" })
        #expect((pick["parameters"] as? [String: Any])?["temperature"] as? Double == plan.node(named: "pick")?.parameters["temperature"]?.number)
        #expect((pick["inputs"] as? [[String: Any]])?.first?["sources"] as? [String] == ["scores"])
        #expect((object["limits"] as? [String: Any])?["max_new_tokens"] as? Int == plan.limits.maxNewTokens)
    }
}
