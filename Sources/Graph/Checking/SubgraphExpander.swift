import Support

/// Expands `use:` nodes recursively. A class, because expansion is one recursive walk that
/// appends to shared results from nested closures; it lives for one compile only.
final class SubgraphExpander {
    var loader: GraphFileLoader
    var flat = FlatGraph()
    var diagnostics: [Diagnostic] = []

    init(loader: GraphFileLoader) { self.loader = loader }

    /// Resolves a written name in a scope (a leading `/` marks a name resolved already).
    static func qualify(_ name: String, in scope: String) -> String {
        name.hasPrefix("/") ? String(name.dropFirst()) : scope + name
    }

    /// Expands a document.
    /// - Parameters:
    ///   - document: the graph file.
    ///   - scope: its namespace prefix.
    ///   - bindings: its parameters' values (`$name` → value).
    ///   - context: notes locating the `use:` chain.
    ///   - stack: the files being expanded (canonical path for identity, path as shown), for
    ///     cycle detection.
    func expand(_ document: GraphDocument, scope: String, bindings: Bindings,
                context: [Diagnostic], stack: [(canonical: String, shown: String)]) {
        let directory = GraphFileLoader.directory(of: document.file)
        func report(_ d: [Diagnostic]) { diagnostics += d.map { var x = $0; x.notes += context; return x } }

        for (section, entries, table) in [("model", document.models, GraphLanguage.modelFields),
                                          ("store", document.stores, GraphLanguage.storeFields),
                                          ("constraint", document.constraints, GraphLanguage.constraintFields)] {
            for entry in entries {
                let fields = entry.fields.map { YAMLNode.Entry(key: $0.key, value: substitute($0.value, bindings, report: report)) }
                var checker = FieldChecker(fields, table: table, owner: "\(section) '\(entry.name.value)'", at: entry.name.location)
                if section == "constraint" { checkConstraintKind(&checker, entry: entry) }
                report(checker.diagnostics)
                let resource = FlatGraph.Resource(name: scope + entry.name.value, values: checker.values,
                                                  location: entry.name.location, directory: directory)
                switch section {
                case "model": flat.models.append(resource)
                case "store": flat.stores.append(resource)
                default: flat.constraints.append(resource)
                }
            }
        }

        for node in document.nodes {
            switch node.body {
            case .op(let op, let fields):
                let substituted = fields.map { YAMLNode.Entry(key: $0.key, value: substitute($0.value, bindings, report: report)) }
                flat.nodes.append(FlatGraph.Node(name: scope + node.name.value, scope: scope, location: node.name.location,
                                                 op: op, fields: substituted, context: context))
            case .use(let path, let with):
                use(node: node, path: path, with: with, scope: scope, bindings: bindings, directory: directory,
                    context: context, stack: stack)
            }
        }
    }

    private func checkConstraintKind(_ checker: inout FieldChecker, entry: GraphDocument.Entry) {
        guard case .string(let kind)? = checker.values["kind"],
              let needs = GraphLanguage.constraintKinds.first(where: { $0.kind == kind })?.needs else { return }
        let given = needs.filter { checker.written.contains($0) }
        if given.count != 1 {
            let options = needs.map { "'\($0)'" }.joined(separator: " or ")
            let phrase = needs.count == 1 ? "needs \(options)" : "takes exactly one of \(options)"
            checker.diagnostics.append(.error(entry.name.location, "constraint '\(entry.name.value)' of kind \(kind) \(phrase)"))
        }
    }

    /// Replaces `$name` scalars by their bound values.
    private func substitute(_ node: YAMLNode, _ bindings: Bindings, report: ([Diagnostic]) -> Void) -> YAMLNode {
        switch node.kind {
        case .scalar(let text, true) where text.hasPrefix("$"):
            let name = String(text.dropFirst())
            if let value = bindings.values[name] { return value }
            flat.suppressed.insert(node.location)
            if bindings.poisoned.contains(name) { return node }
            var message = "'\(text)' names no parameter of this graph"
            if let s = Suggestion.closest(to: name, among: (Array(bindings.values.keys) + bindings.poisoned).sorted()) {
                message += " (did you mean '$\(s)'?)"
            } else {
                message += "; declare it under 'params:'"
            }
            report([.error(node.location, message)])
            return node
        case .scalar: return node
        case .sequence(let items): return YAMLNode(.sequence(items.map { substitute($0, bindings, report: report) }), at: node.location)
        case .mapping(let entries):
            return YAMLNode(.mapping(entries.map { .init(key: $0.key, value: substitute($0.value, bindings, report: report)) }), at: node.location)
        }
    }

    /// The declared parameters of a (sub)graph as parameter specs, with their default nodes.
    static func parameters(of document: GraphDocument, report: ([Diagnostic]) -> Void) -> [(spec: ParameterSpec, defaultNode: YAMLNode?)] {
        var result: [(ParameterSpec, YAMLNode?)] = []
        for entry in document.params {
            let owner = "parameter '\(entry.name.value)'"
            let checker = FieldChecker(entry.fields, table: GraphLanguage.paramFields, owner: owner, at: entry.name.location)
            report(checker.diagnostics)
            guard case .string(let word)? = checker.values["type"],
                  var type = GraphLanguage.paramTypeWords.first(where: { $0.word == word })?.type else { continue }
            if case .list(let words)? = checker.values["values"] {
                type = .enumeration(words.compactMap { if case .string(let s) = $0 { s } else { nil } })
            }
            var range: ValueRange?
            if case .list(let bounds)? = checker.values["range"] {
                if bounds.count == 2, let lo = bounds[0].number, let hi = bounds[1].number, lo <= hi {
                    range = .closed(lo, hi)
                } else {
                    let at = entry.fields.first { $0.key.scalar == "range" }?.value.location ?? entry.location
                    report([.error(at, "'range' of \(owner) is [min, max] with min <= max")])
                }
            }
            var spec = ParameterSpec(entry.name.value, type, optional: false, range: range, doc: {
                if case .string(let d)? = checker.values["doc"] { return d } else { return "" }
            }())
            let defaultNode = entry.fields.first { $0.key.scalar == "default" }?.value
            if let defaultNode {
                switch ValueChecker.check(defaultNode, against: spec, subject: "the default of \(owner)") {
                case .success(let v): spec.defaultValue = v
                case .failure(let d):
                    report(d.items)
                    spec.optional = true
                }
            }
            result.append((spec, defaultNode))
        }
        return result
    }

    /// How deep `use:` may nest. Cycles are found by canonical path, but a path that reaches
    /// the same file by ever longer spellings (a symbolic link to its own directory) is only
    /// caught by depth; real graphs nest two or three levels.
    static let maximumNesting = 32

    private func use(node: GraphDocument.Node, path: Located<String>, with: [YAMLNode.Entry], scope: String,
                     bindings: Bindings, directory: String, context: [Diagnostic], stack: [(canonical: String, shown: String)]) {
        var reported: [Diagnostic] = []
        func report(_ d: [Diagnostic]) { reported += d.map { var x = $0; x.notes += context; return x } }
        defer { diagnostics += reported }
        let name = scope + node.name.value
        let file = GraphFileLoader.join(directory, path.value)
        let canonical = loader.canonicalPath(file)
        if let start = stack.firstIndex(where: { $0.canonical == canonical }) {
            let cycle = (stack[start...].map(\.shown) + [file]).joined(separator: " → ")
            report([.error(path.location, "subgraph cycle: \(cycle)")])
            flat.failedUses.insert(name)
            return
        }
        if stack.count > Self.maximumNesting {
            report([.error(path.location, "subgraphs nested more than \(Self.maximumNesting) levels deep")])
            flat.failedUses.insert(name)
            return
        }
        let sub: GraphDocument
        switch loader.load(file) {
        case .failure(let failure):
            report([.error(path.location, "cannot use '\(path.value)' (\(file)): \(failure.reason)")])
            flat.failedUses.insert(name)
            return
        case .success((let document, let parseDiagnostics)):
            let here = context + [.note(node.name.location, "in subgraph '\(node.name.value)' used here")]
            diagnostics += parseDiagnostics.map { var x = $0; x.notes += here; return x }
            guard let document else {
                flat.failedUses.insert(name)
                return
            }
            sub = document
        }
        let innerContext = context + [.note(node.name.location, "in subgraph '\(node.name.value)' used here")]
        let subParameters = Self.parameters(of: sub, report: { d in diagnostics += d.map { var x = $0; x.notes += innerContext; return x } })
        var subBindings = Bindings()
        var given = Set<String>()
        for entry in with {
            let key = entry.key.scalar ?? ""
            guard let parameter = subParameters.first(where: { $0.spec.name == key }) else {
                var message = "subgraph '\(path.value)' has no parameter '\(key)'"
                if let s = Suggestion.closest(to: key, among: subParameters.map(\.spec.name)) { message += " (did you mean '\(s)'?)" }
                report([.error(entry.key.location, message)])
                continue
            }
            given.insert(key)
            var value = substitute(entry.value, bindings, report: report)
            switch ValueChecker.check(value, against: parameter.spec, subject: "parameter '\(key)' of subgraph '\(path.value)'") {
            case .failure(let d):
                report(d.items)
                subBindings.poisoned.insert(key)
            case .success:
                if parameter.spec.type.isReference { value = Self.resolved(value, in: scope) }
                subBindings.values[key] = value
            }
        }
        for parameter in subParameters where !given.contains(parameter.spec.name) {
            if let d = parameter.defaultNode, parameter.spec.defaultValue != nil {
                subBindings.values[parameter.spec.name] = parameter.spec.type.isReference ? Self.resolved(d, in: name + "/") : d
            } else {
                subBindings.poisoned.insert(parameter.spec.name)
                if parameter.defaultNode == nil {
                    report([.error(node.name.location, "subgraph '\(path.value)' needs parameter '\(parameter.spec.name)' (\(parameter.spec.typeSummary)) under 'with:'")])
                }
            }
        }
        if let limits = sub.limits {
            diagnostics.append(Diagnostic(.warning, at: limits.location, "'limits' of a used subgraph are ignored; the using graph's limits apply", notes: innerContext))
        }
        guard let output = sub.output else {
            report([.error(path.location, "subgraph '\(path.value)' has no 'output', so node '\(node.name.value)' produces nothing")])
            flat.failedUses.insert(name)
            expand(sub, scope: name + "/", bindings: subBindings, context: innerContext, stack: stack + [(canonical, file)])
            return
        }
        flat.aliases[name] = (name + "/" + output.value, output.location)
        expand(sub, scope: name + "/", bindings: subBindings, context: innerContext, stack: stack + [(canonical, file)])
    }

    /// Marks the names in a reference value as resolved in `scope`.
    static func resolved(_ node: YAMLNode, in scope: String) -> YAMLNode {
        switch node.kind {
        case .scalar(let text, let plain): YAMLNode(.scalar("/" + qualify(text, in: scope), plain: plain), at: node.location)
        case .sequence(let items): YAMLNode(.sequence(items.map { resolved($0, in: scope) }), at: node.location)
        case .mapping: node
        }
    }
}
