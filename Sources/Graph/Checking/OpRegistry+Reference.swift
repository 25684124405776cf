import Foundation

extension OpRegistry {
    /// Every op as `decograph ops` prints it: name, family, doc, parameters with type, default
    /// and range, ports, output and runtime needs.
    /// - Returns: the text, ending in a newline (or a line saying no op is registered).
    public func textReference() -> String {
        guard !specs.isEmpty else { return "No ops are registered in this build.\n" }
        var out = ""
        for spec in specs {
            out += "\(spec.name)  [\(spec.family.rawValue)]\n  \(spec.doc)\n"
            if !spec.parameters.isEmpty {
                out += "  parameters:\n"
                for p in spec.parameters { out += "    \(p.name): \(p.typeSummary)\(p.defaultPhrase)\n      \(p.doc)\n" }
            }
            if !spec.inputs.isEmpty {
                out += "  inputs:\n"
                for port in spec.inputs { out += "    \(port.name): \(port.summary)\n      \(port.doc)\n" }
            }
            out += "  output: \(spec.output.summary)\n    \(spec.output.doc)\n"
            if !spec.needs.isEmpty { out += "  needs: " + spec.needs.map(\.summary).joined(separator: ", ") + "\n" }
            out += "\n"
        }
        return out
    }

    /// Every op as JSON (`decograph ops --json`), for scripts and editors.
    /// - Returns: a JSON object `{"ops": […]}` with sorted keys, ending in a newline.
    public func jsonReference() -> String {
        let ops: [[String: Any]] = specs.map { spec in
            [
                "name": spec.name, "family": spec.family.rawValue, "doc": spec.doc,
                "parameters": spec.parameters.map(\.json),
                "inputs": spec.inputs.map { port -> [String: Any] in
                    ["name": port.name, "type": port.type.rawValue, "multiplicity": port.multiplicity.rawValue,
                     "optional": port.optional, "timing": port.timing.rawValue, "doc": port.doc,
                     "requires": port.requires.map { ["anyOf": $0.anyOf.map(\.rawValue), "when": $0.when.description, "reason": $0.reason] }]
                },
                "output": ["type": spec.output.type.rawValue, "doc": spec.output.doc, "propagates": spec.output.propagates,
                           "adds": spec.output.adds.map { $0.map(\.rawValue) as Any } ?? NSNull(),
                           "provides": spec.output.provides.map { ["property": $0.property.rawValue, "when": $0.when.description] }],
                "needs": spec.needs.map { ["capability": $0.capability.rawValue, "when": $0.when.description] },
            ]
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["ops": ops], options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The op reference section of `docs/graph-language.md` (a test keeps the file equal to it).
    /// - Returns: Markdown, ending in a newline.
    public func markdownReference() -> String {
        guard !specs.isEmpty else { return "No ops are registered in this build.\n" }
        var out = ""
        for family in OpFamily.allCases {
            let members = specs.filter { $0.family == family }
            guard !members.isEmpty else { continue }
            out += "### \(family.rawValue)\n\n"
            for spec in members {
                out += "#### `\(spec.name)`\n\n\(spec.doc)\n\n"
                out += GraphLanguage.markdownTable(spec.parameters)
                if !spec.inputs.isEmpty {
                    out += "| port | reads | doc |\n|---|---|---|\n"
                    for port in spec.inputs { out += "| `\(port.name)` | \(port.summary) | \(port.doc) |\n" }
                    out += "\n"
                }
                out += "Output: \(spec.output.summary). \(spec.output.doc)\n\n"
                if !spec.needs.isEmpty { out += "Runtime needs: " + spec.needs.map(\.summary).joined(separator: ", ") + ".\n\n" }
            }
        }
        return out
    }
}

extension GraphLanguage {
    /// The field tables of the non-node sections, as the language reference prints them.
    /// - Returns: Markdown, ending in a newline.
    public static func markdownReference() -> String {
        var out = ""
        for (title, table) in [("models", modelFields), ("stores", storeFields), ("constraints", constraintFields),
                               ("limits", limitFields), ("params", paramFields)] {
            out += "### `\(title)`\n\n" + markdownTable(table)
        }
        return out
    }

    /// A parameter table in Markdown (empty when there are no parameters).
    static func markdownTable(_ parameters: [ParameterSpec]) -> String {
        guard !parameters.isEmpty else { return "" }
        var out = "| parameter | type | default | doc |\n|---|---|---|---|\n"
        for p in parameters {
            let def = p.defaultValue.map { "`\($0)`" } ?? (p.optional ? "—" : "required")
            out += "| `\(p.name)` | \(p.typeSummary) | \(def) | \(p.doc) |\n"
        }
        return out + "\n"
    }
}

extension ParameterSpec {
    /// ` = 4`, ` (required)` or ` (optional)`.
    var defaultPhrase: String {
        if let d = defaultValue { return " = \(d)" }
        return optional ? " (optional)" : " (required)"
    }

    var json: [String: Any] {
        var out: [String: Any] = ["name": name, "type": type.description, "required": isRequired, "doc": doc]
        if let d = defaultValue { out["default"] = d.json }
        if let range { out["range"] = range.description }
        return out
    }
}

extension ParameterValue {
    var json: Any {
        switch self {
        case .int(let v): v
        case .float(let v): v
        case .bool(let v): v
        case .string(let v), .reference(let v): v
        case .list(let items): items.map(\.json)
        case .document: NSNull()
        }
    }
}

extension PortSpec {
    /// `tokenTree, one or more, previous step, optional; needs … when …`.
    var summary: String {
        var parts = [type.rawValue]
        if multiplicity == .many { parts.append("one or more") }
        if timing == .previousStep { parts.append("previous step") }
        if optional { parts.append("optional") }
        var text = parts.joined(separator: ", ")
        for r in requires {
            text += "; needs " + r.anyOf.map(\.rawValue).joined(separator: " or ")
            if !r.when.description.isEmpty { text += " " + r.when.description }
        }
        return text
    }
}

extension OutputSpec {
    /// `tokenTree, provides draftProbabilities; keeps properties of tree`.
    var summary: String {
        var text = type.rawValue
        if !provides.isEmpty {
            text += "; provides " + provides.map { [$0.property.rawValue, $0.when.description].filter { !$0.isEmpty }.joined(separator: " ") }.joined(separator: ", ")
        }
        if !propagates.isEmpty { text += "; keeps the properties of " + propagates.map { "'\($0)'" }.joined(separator: ", ") }
        if let adds { text += "; its own nodes are " + (adds.isEmpty ? "of no property" : adds.map(\.rawValue).joined(separator: ", ")) + " (an inherited property passes only if they have it too)" }
        return text
    }
}

extension CapabilityRule {
    var summary: String { [capability.rawValue, when.description].filter { !$0.isEmpty }.joined(separator: " ") }
}
