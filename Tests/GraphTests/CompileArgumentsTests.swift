import Testing
@testable import Graph

/// `GraphCompiler.compile(file:arguments:edit:)`: a caller's values for a graph's declared
/// parameters are checked as a `use:`'s `with:` values are, and an edit of the document is
/// checked as if it had been written in the file.
@Suite struct CompileArgumentsTests {
    let compiler = GraphCompiler(registry: TestRegistry.registry, baseDirectory: fixtures)
    let origin = SourceLocation(file: "request", line: 1, column: 1)

    func value(_ text: String, plain: Bool = true) -> YAMLNode { YAMLNode(.scalar(text, plain: plain), at: origin) }

    @Test func argumentsReplaceDefaultsAndAreListed() throws {
        let plain = try #require(compiler.compile(file: "valid/served.yaml").plan)
        #expect(plain.parameters.map(\.name) == ["temperature", "tokens", "drafter"])
        #expect(plain.node(named: "pick")?.parameters["temperature"] == .float(0))
        let set = compiler.compile(file: "valid/served.yaml", arguments: [("temperature", value("0.7")), ("tokens", value("9"))], edit: nil)
        let plan = try #require(set.plan, "\(set.rendered)")
        #expect(plan.node(named: "pick")?.parameters["temperature"] == .float(0.7))
        #expect(plan.node(named: "small")?.parameters["temperature"] == .float(0.7))
        #expect(plan.node(named: "small")?.parameters["tokens"] == .int(9))
    }

    @Test func badArgumentsAreLocatedErrors() {
        let cases: [(arguments: [(name: String, value: YAMLNode)], message: String)] = [
            ([("temperature", value("3"))], "parameter 'temperature' must be in [0, 2], got 3"),
            ([("tokens", value("2.5"))], "parameter 'tokens' expects"),
            ([("temprature", value("1"))], "the graph has no parameter 'temprature' (did you mean 'temperature'?)"),
            ([("drafter", value("target"))], "only values of plain types can be given from outside the graph"),
        ]
        for c in cases {
            let result = compiler.compile(file: "valid/served.yaml", arguments: c.arguments, edit: nil)
            #expect(result.plan == nil)
            let errors = result.diagnostics.filter { $0.severity == .error }
            #expect(errors.contains { $0.message.contains(c.message) && $0.location == origin }, "\(result.rendered)")
        }
    }

    @Test func anEditIsCheckedAsIfWritten() throws {
        // Splice a node in front of `scores`, as a server composes a constraint.
        let spliced = compiler.compile(file: "valid/served.yaml", arguments: [], edit: { document in
            let origin = SourceLocation(file: "request", line: 1, column: 1)
            let index = document.nodes.firstIndex { $0.name.value == "scores" }!
            document.nodes.insert(GraphDocument.Node(name: Located("more", at: origin),
                                                     body: .op(Located("draft.lookup", at: origin), fields: [])), at: index)
        })
        let plan = try #require(spliced.plan, "\(spliced.rendered)")
        #expect(plan.node(named: "more")?.op == "draft.lookup")
        #expect(spliced.diagnostics.contains { $0.severity == .warning && $0.message.contains("more") })
        let broken = compiler.compile(file: "valid/served.yaml", arguments: [], edit: { document in
            let origin = SourceLocation(file: "request", line: 1, column: 1)
            document.nodes.append(GraphDocument.Node(name: Located("bad", at: origin), body: .op(Located("no.such.op", at: origin), fields: [])))
        })
        #expect(broken.plan == nil)
        #expect(broken.diagnostics.contains { $0.severity == .error && $0.location.file == "request" })
    }
}
