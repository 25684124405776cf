extension Plan {
    /// The plan as a Graphviz digraph (`decograph graph G --dot`): one box per node labelled with
    /// its op, edges labelled with ports (dashed when they read the previous step), nodes of one
    /// stage on one rank, subgraph nodes clustered by namespace, models as ellipses; a frontier op
    /// is a 3-D box with a dashed "hypotheses" edge to the first stage, whose nodes run once per
    /// hypothesis it chooses.
    /// - Returns: the DOT text, ending in a newline.
    public func dot() -> String {
        var out = "digraph \(Self.quote(name)) {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n"
        // Subgraph namespaces become clusters; the root's nodes sit outside any cluster.
        var clusters: [String: [Int]] = [:]
        var order: [String] = []
        for node in nodes {
            let namespace = node.name.split(separator: "/").dropLast().joined(separator: "/")
            if clusters[namespace] == nil { order.append(namespace) }
            clusters[namespace, default: []].append(node.index)
        }
        for (c, namespace) in order.enumerated() {
            let indent = namespace.isEmpty ? "  " : "    "
            if !namespace.isEmpty { out += "  subgraph cluster_\(c) {\n    label=\(Self.quote(namespace));\n    style=dashed;\n" }
            for i in clusters[namespace]! {
                let node = nodes[i]
                var attributes = "label=\(Self.quote(node.name + "\n" + node.op))"
                if i == output { attributes += ", peripheries=2" }
                if node.outputType == .frontier { attributes += ", shape=box3d" }
                out += indent + "n\(i) [\(attributes)];\n"
            }
            if !namespace.isEmpty { out += "  }\n" }
        }
        for resource in models {
            out += "  \(Self.quote("model:" + resource.name)) [shape=ellipse, label=\(Self.quote(resource.name))];\n"
        }
        for node in nodes {
            for input in node.inputs {
                for source in input.sources {
                    let style = input.timing == .previousStep ? ", style=dashed, constraint=false" : ""
                    out += "  n\(source) -> n\(node.index) [label=\(Self.quote(input.port))\(style)];\n"
                }
            }
            for (parameter, value) in node.parameters.sorted(by: { $0.key < $1.key }) {
                if case .reference(let name) = value, models.contains(where: { $0.name == name }) {
                    out += "  \(Self.quote("model:" + name)) -> n\(node.index) [style=dotted, arrowhead=none];\n"
                } else if case .reference(let name) = value, let judge = self.node(named: name), judge.family == .reward {
                    // A judge the node calls on finished outputs: no value flows along the step.
                    out += "  n\(judge.index) -> n\(node.index) [label=\(Self.quote(parameter)), style=dotted];\n"
                }
            }
        }
        // A frontier op's choice is the next step's set of hypotheses, which every first-stage node runs over.
        if nodes[output].outputType == .frontier, let first = stages.first {
            for i in first where i != output {
                out += "  n\(output) -> n\(i) [label=\"hypotheses\", style=dashed, constraint=false];\n"
            }
        }
        for stage in stages where stage.count > 1 {
            out += "  { rank=same; " + stage.map { "n\($0);" }.joined(separator: " ") + " }\n"
        }
        return out + "}\n"
    }

    /// A DOT string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for c in text {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
