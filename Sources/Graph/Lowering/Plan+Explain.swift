extension Plan {
    /// The plan as `decograph explain` prints it: resources, limits, runtime needs, the step
    /// schedule stage by stage, and every node with its parameters (defaults marked) and the
    /// graphs it runs inside itself.
    /// - Returns: the text, ending in a newline.
    public func explanation() -> String {
        var out = "graph \(name) (\(file))\n"
        if let description { out += "  \(description)\n" }
        for (title, resources) in [("models", models), ("stores", stores), ("constraints", constraints)] where !resources.isEmpty {
            out += "\(title):\n"
            let width = resources.map(\.name.count).max() ?? 0
            for r in resources {
                let extra = r.fields.filter { $0.key != "path" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                out += "  " + r.name.padding(width) + "  " + ([r.path ?? ""] + extra).filter { !$0.isEmpty }.joined(separator: " ") + "\n"
            }
        }
        var limitText = "max_new_tokens=\(limits.maxNewTokens)"
        if !limits.stop.isEmpty { limitText += " stop=\(ParameterValue.list(limits.stop.map(ParameterValue.string)))" }
        if !limits.stopTokenIDs.isEmpty { limitText += " stop_token_ids=\(limits.stopTokenIDs)" }
        if limits.ignoreEOS { limitText += " ignore_eos=true" }
        out += "limits: \(limitText)\n"
        out += "runtime needs: " + (capabilities.isEmpty ? "nothing beyond plain decoding" : capabilities.map(\.rawValue).joined(separator: ", ")) + "\n"
        out += "step schedule (\(stages.count) stage\(stages.count == 1 ? "" : "s"); the nodes of a stage may run in parallel):\n"
        for (i, stage) in stages.enumerated() {
            out += "  stage \(i + 1): " + stage.map { "\(nodes[$0].name) (\(nodes[$0].op))" }.joined(separator: ", ") + "\n"
        }
        let judges = nodes.filter { $0.family == .reward }
        if !judges.isEmpty {
            out += "judges (not run by the step; the searches and reranks naming them call them on finished outputs): "
                + judges.map { "\($0.name) (\($0.op))" }.joined(separator: ", ") + "\n"
        }
        if nodes[output].outputType == .frontier {
            out += "frontier: '\(nodes[output].name)' (\(nodes[output].op)) keeps the running hypotheses; each step the stages above run once per hypothesis (a node that batches over the frontier, as score does, scores all of them in one forward pass), then it chooses the next hypotheses, each carrying the KV caches and previous-step values of the one it extends; the best finished hypothesis is the output, the others its n-best list\n"
        }
        out += "nodes:\n"
        for node in nodes {
            var line = "  \(node.name): \(node.op) → \(node.outputType)"
            if !node.properties.isEmpty { line += " [" + node.properties.map(\.rawValue).sorted().joined(separator: ", ") + "]" }
            if node.index == output { line += "  (output)" }
            out += line + "\n"
            for input in node.inputs {
                let sources = input.sources.map { nodes[$0].name }.joined(separator: ", ")
                out += "      \(input.port) ← \(sources)" + (input.timing == .previousStep ? " (previous step)" : "") + "\n"
            }
            let parameters = node.parameters.sorted { $0.key < $1.key }.map { key, value in
                "\(key)=\(value)" + (node.written.contains(key) ? "" : " (default)")
            }
            if !parameters.isEmpty { out += "      " + parameters.joined(separator: ", ") + "\n" }
            // A graph the node runs inside itself, explained in full, indented under it.
            for (parameter, inner) in node.graphs.sorted(by: { $0.key < $1.key }) {
                out += "      \(parameter) runs, each step, until it committed the node's tokens:\n"
                out += inner.explanation().split(separator: "\n").map { "        " + $0 + "\n" }.joined()
            }
        }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
