import Support

extension GraphDocument {
    /// The top-level sections of the language.
    static let sections = ["graph", "description", "lossless", "params", "models", "stores", "constraints", "nodes", "output", "limits"]

    /// Reads a graph file's text into a document.
    /// - Parameters:
    ///   - bytes: the file's content.
    ///   - file: the path printed in diagnostics.
    /// - Returns: the document (as much of it as could be read) and every diagnostic found.
    public static func parse(_ bytes: [UInt8], file: String) -> (document: GraphDocument?, diagnostics: [Diagnostic]) {
        let (root, yamlDiagnostics) = YAMLParser.parse(bytes, file: file)
        var diagnostics = yamlDiagnostics
        guard let root else {
            if !yamlDiagnostics.containsErrors {
                diagnostics.append(.error(SourceLocation(file: file, line: 1, column: 1), "the graph file is empty"))
            }
            return (nil, diagnostics)
        }
        var document = GraphDocument(file: file)
        document.start = root.location
        guard case .mapping(let entries) = root.kind else {
            diagnostics.append(.error(root.location, "a graph file is a mapping of sections (graph, models, nodes, output, …), not \(root.kindDescription)"))
            return (nil, diagnostics)
        }
        for (index, entry) in entries.enumerated() {
            let key = entry.key.scalar ?? ""
            let value = entry.value
            switch key {
            case "graph":
                if let text = scalarText(value, what: "'graph' (the graph's name)", &diagnostics) {
                    document.name = Located(text, at: value.location)
                }
            case "description":
                document.description = scalarText(value, what: "'description'", &diagnostics)
            case "output":
                if let text = scalarText(value, what: "'output' (the name of the node whose selection is committed)", &diagnostics) {
                    document.output = Located(text, at: value.location)
                }
            case "lossless":
                switch value.isNull ? nil : value.scalar {
                case "true", "True", "TRUE": document.lossless = Located(true, at: value.location)
                case "false", "False", "FALSE": document.lossless = Located(false, at: value.location)
                default:
                    diagnostics.append(.error(value.location, "'lossless' is true or false (whether the committed tokens must be exactly the models'), not \(value.isNull ? "empty" : value.kindDescription)"))
                }
            case "params", "models", "stores", "constraints":
                let list = namedEntries(value, section: key, &diagnostics)
                switch key {
                case "params": document.params = list
                case "models": document.models = list
                case "stores": document.stores = list
                default: document.constraints = list
                }
            case "nodes":
                document.nodes = nodes(value, &diagnostics)
            case "limits":
                if case .mapping(let fields) = value.kind {
                    document.limits = (fields, value.location)
                } else if !value.isNull {
                    diagnostics.append(.error(value.location, "'limits' is a mapping (max_new_tokens, stop, …), not \(value.kindDescription)"))
                }
            default:
                var message = "unknown section '\(key)'"
                if index > 0, entries[index - 1].value.isNull, let previous = entries[index - 1].key.scalar,
                   sections.contains(previous) {
                    // `limits:` followed by an unindented `max_new_tokens: 5` reads as two sections.
                    message += "; if it belongs to '\(previous)', indent it under '\(previous):'"
                } else if let s = Suggestion.closest(to: key, among: sections) {
                    message += " (did you mean '\(s)'?)"
                } else {
                    message += "; the sections are " + sections.joined(separator: ", ")
                }
                diagnostics.append(.error(entry.key.location, message))
            }
        }
        return (document, diagnostics)
    }

    private static func scalarText(_ node: YAMLNode, what: String, _ diagnostics: inout [Diagnostic]) -> String? {
        if let text = node.scalar, !node.isNull { return text }
        diagnostics.append(.error(node.location, "\(what) is a single value, not \(node.isNull ? "empty" : node.kindDescription)"))
        return nil
    }

    /// A name as graphs spell them: letters, digits, `_`, `-`, `.`; `/` is kept for subgraph namespaces.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || "_-.".contains($0) } && name.first != "."
    }

    private static func namedEntries(_ node: YAMLNode, section: String, _ diagnostics: inout [Diagnostic]) -> [Entry] {
        if node.isNull { return [] }
        guard case .mapping(let entries) = node.kind else {
            diagnostics.append(.error(node.location, "'\(section)' maps names to their settings, not \(node.kindDescription)"))
            return []
        }
        var result: [Entry] = []
        for entry in entries {
            let name = entry.key.scalar ?? ""
            guard isValidName(name) else {
                diagnostics.append(.error(entry.key.location, "'\(name)' is not a valid name in '\(section)'; use letters, digits, '_', '-' and '.'"))
                continue
            }
            guard case .mapping(let fields) = entry.value.kind else {
                let hint = section == "params" ? "{type: int, default: 4}" : "{path: …}"
                diagnostics.append(.error(entry.value.location, "'\(name)' in '\(section)' takes a mapping such as \(hint), not \(ValueChecker.describe(entry.value))"))
                continue
            }
            result.append(Entry(name: Located(name, at: entry.key.location), fields: fields, location: entry.value.location))
        }
        return result
    }

    private static func nodes(_ node: YAMLNode, _ diagnostics: inout [Diagnostic]) -> [Node] {
        if node.isNull { return [] }
        guard case .mapping(let entries) = node.kind else {
            diagnostics.append(.error(node.location, "'nodes' maps node names to {op: …, …}, not \(node.kindDescription)"))
            return []
        }
        var result: [Node] = []
        for (index, entry) in entries.enumerated() {
            let name = entry.key.scalar ?? ""
            let at = entry.key.location
            guard isValidName(name) else {
                diagnostics.append(.error(at, "'\(name)' is not a valid node name; use letters, digits, '_', '-' and '.'"))
                continue
            }
            guard case .mapping(let fields) = entry.value.kind else {
                var message = "node '\(name)' takes a mapping such as {op: sample, from: scores}, not \(ValueChecker.describe(entry.value))"
                // A field of a block-style node written one level too far left becomes a node of its own.
                if index > 0, case .mapping(let previousFields) = entries[index - 1].value.kind,
                   let firstField = previousFields.first, firstField.key.location.line > entries[index - 1].key.location.line,
                   let previous = entries[index - 1].key.scalar {
                    message += "; if it is a field of node '\(previous)', indent it to column \(firstField.key.location.column)"
                }
                diagnostics.append(.error(entry.value.location, message))
                continue
            }
            let op = fields.first { $0.key.scalar == "op" }
            let use = fields.first { $0.key.scalar == "use" }
            switch (op, use) {
            case (nil, nil):
                diagnostics.append(.error(at, "node '\(name)' needs 'op:' (an operator) or 'use:' (a graph file)"))
            case (_?, _?):
                diagnostics.append(.error(use!.key.location, "node '\(name)' has both 'op:' and 'use:'; a node is one or the other"))
            case (let op?, nil):
                guard let opName = op.value.scalar, !op.value.isNull else {
                    diagnostics.append(.error(op.value.location, "'op' of node '\(name)' is an operator name, not \(ValueChecker.describe(op.value))"))
                    continue
                }
                let rest = fields.filter { $0.key.scalar != "op" }
                result.append(Node(name: Located(name, at: at), body: .op(Located(opName, at: op.value.location), fields: rest)))
            case (nil, let use?):
                guard let path = use.value.scalar, !use.value.isNull else {
                    diagnostics.append(.error(use.value.location, "'use' of node '\(name)' is a graph file path, not \(ValueChecker.describe(use.value))"))
                    continue
                }
                var with: [YAMLNode.Entry] = []
                var valid = true
                for field in fields where field.key.scalar != "use" {
                    if field.key.scalar == "with" {
                        if case .mapping(let values) = field.value.kind {
                            with = values
                        } else if !field.value.isNull {
                            diagnostics.append(.error(field.value.location, "'with' of node '\(name)' maps the subgraph's parameters to values, not \(field.value.kindDescription)"))
                            valid = false
                        }
                    } else {
                        let key = field.key.scalar ?? ""
                        diagnostics.append(.error(field.key.location, "node '\(name)' uses a subgraph, so '\(key)' belongs under 'with:'"))
                        valid = false
                    }
                }
                if valid {
                    result.append(Node(name: Located(name, at: at), body: .use(Located(path, at: use.value.location), with: with)))
                }
            }
        }
        return result
    }
}
