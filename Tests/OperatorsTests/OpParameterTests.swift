import Graph
import Testing
@testable import Operators

/// Typed parameter reads (`node[Self.tokens]`): the value written, else the default of the spec
/// that declares it — never a second copy of the default in the op.
@Suite struct OpParameterTests {
    /// The lowered node `n` of a graph checked against the real registry.
    static func node(_ yaml: String) throws -> Plan.Node {
        let result = GraphCompiler(registry: OperatorRegistry.all).compile(source: yaml, file: "g.yaml")
        let plan = try #require(result.plan, "\(result.rendered)")
        return try #require(plan.node(named: "n"))
    }

    static let draftGraph = """
        models: { target: { path: t }, draft: { path: d } }
        nodes:
          n: { op: draft.model, model: draft }
          sc: { op: score, model: target, tree: n }
          p: { op: sample, from: sc }
          v: { op: verify, from: p }
        output: v
        """

    /// `draft.model` declares temperature 0; its settings used to fall back to `sample`'s 1 when
    /// the node lacked the value, so a drafter built from such a node sampled instead of drafting
    /// greedily (and gave no deterministic drafts, which its spec promises at temperature 0).
    @Test func draftModelFallsBackToItsOwnTemperature() throws {
        var node = try Self.node(Self.draftGraph)
        #expect(node.parameters["temperature"] == .float(0))
        node.parameters["temperature"] = nil
        #expect(try DraftModelOp.drafter(node).pipeline.settings.temperature == 0)
        #expect(try SampleOp.sampling.settings(of: node).temperature == 1)
    }

    @Test func absentValuesReadAsTheSpecDeclares() throws {
        var node = try Self.node(Self.draftGraph)
        node.parameters = [:]
        #expect(try node[DraftModelOp.tokens] == 4)
        #expect(try node[DraftNGramOp.minCount] == nil)
        #expect(try node[DraftNGramOp.gates] == .strict)
        #expect(try node[SampleOp.sampling.temperature] == 1)
        #expect(throws: OperatorError(.invalidParameter, at: "model", "missing; give it on the node (model name)")) {
            try node[DraftModelOp.model]
        }
    }

    @Test func writtenValuesReadTyped() throws {
        let node = try Self.node("""
            models: { target: { path: t } }
            nodes:
              n: { op: search.beam, from: sc, width: 3, early_stopping: never, length_penalty: 2 }
              sc: { op: score, model: target }
            output: n
            """)
        #expect(try node[BeamSearchOp.width] == 3)
        #expect(try node[BeamSearchOp.earlyStopping] == .never)
        #expect(try node[BeamSearchOp.lengthPenalty] == 2)
        #expect(try node[BeamSearchOp.repetitionPenalty] == 1)
    }

    /// A float too large for the `Float` logits are computed in is refused where it is read.
    @Test func floatsThatOverflowAreRefused() throws {
        var node = try Self.node(Self.draftGraph)
        node.parameters["temperature"] = .float(1e300)
        #expect(throws: OperatorError(.invalidParameter, at: "temperature",
                                      "1e+300 is too large for the 32-bit floats logits are computed in (at most \(Float.greatestFiniteMagnitude))")) {
            try DraftModelOp.drafter(node)
        }
    }

    /// Defaults print as written, not as the nearest `Float` widened to `Double`.
    @Test func floatDefaultsKeepTheirDecimalSpelling() {
        let parameter = OpParameter<Float>("x", default: 0.7, doc: "")
        #expect(parameter.spec.defaultValue == .float(0.7))
        #expect(OpParameter<Int?>("y", doc: "").spec.optional)
        #expect(OpParameter<String>("z", .modelRef, doc: "").spec.isRequired)
    }
}
