import Testing
import Foundation
@testable import Graph

@Suite struct OpRegistryReferenceTests {
    let registry = TestRegistry.registry

    /// The JSON reference carries every spec field a script needs, equal to the specs.
    @Test func jsonDescribesEverySpec() throws {
        let object = try JSONSerialization.jsonObject(with: Data(registry.jsonReference().utf8)) as? [String: Any]
        let ops = try #require(object?["ops"] as? [[String: Any]])
        #expect(ops.count == registry.specs.count)
        for (json, spec) in zip(ops, registry.specs) {
            #expect(json["name"] as? String == spec.name)
            #expect(json["family"] as? String == spec.family.rawValue)
            let parameters = try #require(json["parameters"] as? [[String: Any]])
            #expect(parameters.compactMap { $0["name"] as? String } == spec.parameters.map(\.name))
            #expect(parameters.compactMap { $0["required"] as? Bool } == spec.parameters.map(\.isRequired))
            #expect(parameters.map { $0["range"] as? String } == spec.parameters.map { $0.range?.description })
            let inputs = try #require(json["inputs"] as? [[String: Any]])
            #expect(inputs.compactMap { $0["type"] as? String } == spec.inputs.map(\.type.rawValue))
            #expect((json["output"] as? [String: Any])?["type"] as? String == spec.output.type.rawValue)
        }
    }

    /// The text and Markdown references name every op, parameter (with type, range and default)
    /// and port.
    @Test func textAndMarkdownNameEveryParameterAndPort() {
        let text = registry.textReference()
        let markdown = registry.markdownReference()
        for spec in registry.specs {
            #expect(text.contains("\(spec.name)  [\(spec.family.rawValue)]\n  \(spec.doc)\n"))
            #expect(markdown.contains("#### `\(spec.name)`\n\n\(spec.doc)\n"))
            for p in spec.parameters {
                #expect(text.contains("    \(p.name): \(p.typeSummary)\(p.defaultPhrase)\n      \(p.doc)\n"))
                #expect(markdown.contains("| `\(p.name)` | \(p.typeSummary) |"))
            }
            for port in spec.inputs {
                #expect(text.contains("    \(port.name): \(port.summary)\n"))
                #expect(markdown.contains("| `\(port.name)` | \(port.summary) |"))
            }
        }
        #expect(text.contains("    frontier: frontier, previous step, optional\n"))
        #expect(text.contains("    from: distribution; needs draftProbabilities or deterministic when mode is sampling\n"))
        #expect(text.contains("    top_p: float in (0, 1] = 1.0\n"))
        #expect(text.contains("    model: model name (required)\n"))
    }

    @Test func generatedPartIsFoundBetweenMarkers() {
        let document = "# T\n\n\(GraphReference.beginMarker)\nbody\nmore\n\(GraphReference.endMarker)\ntail\n"
        #expect(GraphReference.generatedPart(of: document) == "body\nmore\n")
        #expect(GraphReference.generatedPart(of: "no markers") == nil)
    }
}
