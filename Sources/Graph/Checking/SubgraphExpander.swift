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
    static func parameters(of document: GraphDocument, report: ([Diagnostic]) -> Void) -> [Parameter] {
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

    /// A declared parameter of a (sub)graph, with the node its default is written as.
    typealias Parameter = (spec: ParameterSpec, defaultNode: YAMLNode?)

    /// A value given for a parameter: a `use:`'s `with:` entry, or a caller's argument to a whole
    /// graph (a server request's field, `run --param`).
    struct Argument {
        /// The parameter it names.
        var name: String
        /// Where the name is written (an unknown name is reported there).
        var location: SourceLocation
        /// The value.
        var value: YAMLNode
    }

    /// Binds a (sub)graph's parameters: each argument checked against its parameter's type and
    /// range, every other parameter its default. A value that fails, and a parameter without a
    /// default, is poisoned (its uses report nothing more).
    /// - Parameters:
    ///   - arguments: the given values.
    ///   - parameters: the declared parameters.
    ///   - owner: the graph as messages name it (`subgraph 'x.yaml'`, `the graph`).
    ///   - scope: where a reference value given by an argument resolves.
    ///   - defaultScope: where a reference default resolves (inside the graph).
    ///   - admit: the value to check, or `nil` for one refused (it reports why).
    ///   - report: receives the diagnostics.
    ///   - missing: called for each parameter with no value and no valid default.
    /// - Returns: the bindings.
    static func bind(_ arguments: [Argument], to parameters: [Parameter], owner: String, scope: String, defaultScope: String,
                     admit: (Parameter, YAMLNode) -> YAMLNode?, report: ([Diagnostic]) -> Void,
                     missing: (Parameter) -> Void) -> Bindings {
        var bindings = Bindings()
        var given = Set<String>()
        for argument in arguments {
            guard let parameter = parameters.first(where: { $0.spec.name == argument.name }) else {
                let names = parameters.map(\.spec.name)
                var message = "\(owner) has no parameter '\(argument.name)'"
                if let s = Suggestion.closest(to: argument.name, among: names) { message += " (did you mean '\(s)'?)" }
                message += names.isEmpty ? "; it declares none under 'params:'" : "; it declares \(names.sorted().joined(separator: ", "))"
                report([.error(argument.location, message)])
                continue
            }
            given.insert(argument.name)
            guard var value = admit(parameter, argument.value) else {
                bindings.poisoned.insert(argument.name)
                continue
            }
            let subject = "parameter '\(argument.name)'" + (owner.hasPrefix("subgraph") ? " of \(owner)" : "")
            switch ValueChecker.check(value, against: parameter.spec, subject: subject) {
            case .failure(let d):
                report(d.items)
                bindings.poisoned.insert(argument.name)
            case .success:
                if parameter.spec.type.isReference { value = resolved(value, in: scope) }
                bindings.values[argument.name] = value
            }
        }
        for parameter in parameters where !given.contains(parameter.spec.name) {
            if let node = parameter.defaultNode, parameter.spec.defaultValue != nil {
                bindings.values[parameter.spec.name] = parameter.spec.type.isReference ? resolved(node, in: defaultScope) : node
            } else {
                bindings.poisoned.insert(parameter.spec.name)
                missing(parameter)
            }
        }
        return bindings
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
        let arguments = with.map { Argument(name: $0.key.scalar ?? "", location: $0.key.location, value: substitute($0.value, bindings, report: report)) }
        let subBindings = Self.bind(arguments, to: subParameters, owner: "subgraph '\(path.value)'", scope: scope, defaultScope: name + "/",
                                    admit: { _, value in value }, report: report) { parameter in
            guard parameter.defaultNode == nil else { return }
            report([.error(node.name.location, "subgraph '\(path.value)' needs parameter '\(parameter.spec.name)' (\(parameter.spec.typeSummary)) under 'with:'")])
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
