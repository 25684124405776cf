import Testing
@testable import Graph

/// The lossless label: a graph is lossy exactly when its committed tokens depend on a node whose
/// op approximates its model, drafts never count (a verifier decides what they are worth), and a
/// `lossless: true` claim on a lossy graph is refused where it is written.
@Suite struct LosslessLabelTests {
    let compiler = GraphCompiler(registry: TestRegistry.registry, baseDirectory: fixtures)

    static func graph(lossless: String? = nil, score: String, draft: String? = nil) -> String {
        var text = "graph: g\n"
        if let lossless { text += "lossless: \(lossless)\n" }
        text += "models:\n  target: { path: t }\nnodes:\n"
        if let draft { text += "  d: \(draft)\n" }
        text += "  s: \(score)\n  p: { op: sample, from: s, temperature: 0 }\n  v: { op: verify, from: p }\noutput: v\n"
        return text
    }

    @Test func earlyExitScoresMakeTheGraphLossy() throws {
        let plan = try #require(compiler.compile(source: Self.graph(score: "{ op: score.early, model: target }"), file: "g.yaml").plan)
        #expect(!plan.isLossless)
        #expect(plan.approximations.map { plan.nodes[$0.node].name } == ["s"])
        #expect(plan.lossyDescription == "'s' (score.early) exits before the last layer")
        // The op's condition decides.
        let exact = try #require(compiler.compile(source: Self.graph(score: "{ op: score.early, model: target, exit: false }"), file: "g.yaml").plan)
        #expect(exact.isLossless)
    }

    @Test func approximateDraftsLeaveTheGraphLossless() throws {
        let source = Self.graph(lossless: "true", score: "{ op: score, model: target, tree: d }", draft: "{ op: draft.early, model: target }")
        let result = compiler.compile(source: source, file: "g.yaml")
        #expect(result.rendered == "")
        #expect(try #require(result.plan).isLossless)
    }

    @Test func aFalseLosslessClaimIsRefusedAtTheClaim() throws {
        let result = compiler.compile(source: Self.graph(lossless: "true", score: "{ op: score.early, model: target }"), file: "g.yaml")
        #expect(result.plan == nil)
        #expect(result.rendered.contains("g.yaml:2:11: error: the graph is declared lossless, but its output depends on 's' (score.early), which only approximates its model"))
        #expect(result.rendered.contains("g.yaml:6:3: note: 's' exits before the last layer"))
        // Declaring it lossy is always allowed.
        #expect(compiler.compile(source: Self.graph(lossless: "false", score: "{ op: score.early, model: target }"), file: "g.yaml").plan != nil)
        #expect(compiler.compile(source: Self.graph(lossless: "false", score: "{ op: score, model: target }"), file: "g.yaml").plan != nil)
    }

    @Test func theClaimIsABoolean() {
        for value in ["yes", "[true]", "''"] {
            let result = compiler.compile(source: Self.graph(lossless: value, score: "{ op: score, model: target }"), file: "g.yaml")
            #expect(result.plan == nil)
            #expect(result.rendered.contains("g.yaml:2:11: error: 'lossless' is true or false"), "\(value)")
        }
    }
}
