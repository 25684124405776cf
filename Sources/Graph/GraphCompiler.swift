import Support

/// The graph language's compiler: reads a graph file (and the files its `use:` nodes name),
/// checks it against an op registry, and lowers it to a `Plan`.
///
/// A compiler is an immutable value; compiles share nothing, so any number may run concurrently.
public struct GraphCompiler: Sendable {
    /// The outcome of one compile: a plan when there is no error, and every diagnostic, sorted.
    public struct Compilation: Sendable {
        /// The plan, `nil` when any diagnostic is an error.
        public var plan: Plan?
        /// Errors, warnings and their notes, in reading order.
        public var diagnostics: [Diagnostic]
        /// The diagnostics as printed, one `path:line:col: severity: message` line each.
        public var rendered: String { diagnostics.map(\.description).joined(separator: "\n") }
    }

    /// The ops graphs may use.
    public let registry: OpRegistry
    /// What a graph's output node may produce.
    public var acceptedOutputTypes: [PortType]
    /// The directory relative paths are read from; `nil` for the current directory. Printed paths
    /// stay as given.
    public var baseDirectory: String?

    /// Creates a compiler.
    /// - Parameters:
    ///   - registry: the ops graphs may use.
    ///   - acceptedOutputTypes: what an output node may produce (a step commits a selection, or a
    ///     search's frontier).
    ///   - baseDirectory: where relative paths are read from.
    public init(registry: OpRegistry, acceptedOutputTypes: [PortType] = [.selection, .frontier], baseDirectory: String? = nil) {
        self.registry = registry
        self.acceptedOutputTypes = acceptedOutputTypes
        self.baseDirectory = baseDirectory
    }

    /// Compiles a graph file.
    /// - Parameter path: the file, as it should be printed in diagnostics.
    /// - Returns: the plan (when there is no error) and every diagnostic.
    public func compile(file path: String) -> Compilation {
        compile(file: path, arguments: [], edit: nil)
    }

    /// Compiles a graph file with values for its declared parameters (`params:`) and, optionally,
    /// an edit of its document before anything is checked — how a server runs one of its graphs with
    /// a request's `temperature` or composes a response format's constraint into it. Everything the
    /// edit adds is checked as if it had been written in the file.
    /// - Parameters:
    ///   - path: the file, as it should be printed in diagnostics.
    ///   - arguments: parameter name → value, each checked against the parameter's type and range
    ///     as a `use:`'s `with:` value is; a name the graph does not declare is an error.
    ///   - edit: changes the parsed top-level document (its nodes, their fields).
    /// - Returns: the plan (when there is no error) and every diagnostic.
    public func compile(file path: String, arguments: [(name: String, value: YAMLNode)],
                        edit: (@Sendable (inout GraphDocument) -> Void)?) -> Compilation {
        var loader = GraphFileLoader(baseDirectory: baseDirectory)
        switch loader.load(path) {
        case .failure(let failure):
            return Compilation(plan: nil, diagnostics: [.error(SourceLocation(file: path, line: 1, column: 1), "cannot read the graph file: \(failure.reason)")])
        case .success((var document, let diagnostics)):
            if document != nil, let edit { edit(&document!) }
            return compile(document, diagnostics, loader: loader, enclosing: [], inner: InnerGraphCache(), arguments: arguments)
        }
    }

    /// Compiles a graph given as text (subgraphs it uses are still read from files).
    /// - Parameters:
    ///   - source: the graph file's content.
    ///   - path: the path printed in diagnostics; `use:` paths are relative to its directory.
    /// - Returns: the plan (when there is no error) and every diagnostic.
    public func compile(source: String, file path: String) -> Compilation {
        let (document, diagnostics) = GraphDocument.parse(Array(source.utf8), file: path)
        return compile(document, diagnostics, loader: GraphFileLoader(baseDirectory: baseDirectory), enclosing: [], inner: InnerGraphCache())
    }

    /// Compiles a parsed document.
    /// - Parameters:
    ///   - enclosing: the graph files whose nodes run this one inside themselves, outermost
    ///     first (canonical path for identity, path as shown), for cycle detection.
    ///   - inner: the inner graphs this whole compile compiled so far.
    func compile(_ document: GraphDocument?, _ parseDiagnostics: [Diagnostic], loader: GraphFileLoader,
                 enclosing: [(canonical: String, shown: String)], inner: InnerGraphCache,
                 arguments: [(name: String, value: YAMLNode)] = []) -> Compilation {
        guard let document else { return Compilation(plan: nil, diagnostics: parseDiagnostics.normalized()) }
        var diagnostics = parseDiagnostics
        // A graph with parameters runs directly on their defaults, or on the caller's values.
        let parameters = SubgraphExpander.parameters(of: document, report: { diagnostics += $0 })
        let given = arguments.map { SubgraphExpander.Argument(name: $0.name, location: $0.value.location, value: $0.value) }
        let bindings = SubgraphExpander.bind(given, to: parameters, owner: "the graph", scope: "", defaultScope: "", admit: { parameter, value in
            // A reference names something inside the graph: the caller cannot see its nodes or resources.
            guard parameter.spec.type.isReference else { return value }
            diagnostics.append(.error(value.location, "parameter '\(parameter.spec.name)' names a \(parameter.spec.typeSummary); only values of plain types can be given from outside the graph"))
            return nil
        }, report: { diagnostics += $0 }) { parameter in
            guard parameter.defaultNode == nil else { return }
            let at = document.params.first { $0.name.value == parameter.spec.name }!.name.location
            diagnostics.append(.error(at, "parameter '\(parameter.spec.name)' has no default, so this graph can only be used as a subgraph"))
        }
        let expander = SubgraphExpander(loader: loader)
        expander.expand(document, scope: "", bindings: bindings, context: [], stack: [(loader.canonicalPath(document.file), document.file)])
        diagnostics += expander.diagnostics

        var checker = GraphChecker(registry: registry, flat: expander.flat, acceptedOutputTypes: acceptedOutputTypes)
        checker.checkNodes()
        checker.checkAliases()
        let graphs = compileInnerGraphs(of: checker.nodes, loader: loader,
                                        enclosing: enclosing + [(loader.canonicalPath(document.file), document.file)],
                                        cache: inner, diagnostics: &diagnostics)
        let limits = FieldChecker(document.limits?.fields ?? [], table: GraphLanguage.limitFields, owner: "'limits'",
                                  at: document.limits?.location ?? document.start)
        let output = checker.checkOutput(document)
        let stages = checker.schedule()
        let properties = stages.map { checker.checkProperties(stages: $0) }
        // One mistake, one message: the checker says nothing more where the expander reported one,
        // or where the YAML itself was refused (a tagged value is not also a value of the wrong type).
        let reported = expander.flat.suppressed.union((parseDiagnostics + expander.diagnostics).filter { $0.severity == .error }.map(\.location))
        diagnostics += (limits.diagnostics + checker.diagnostics).filter { !reported.contains($0.location) }
        // "Unused" is only trustworthy once every edge was understood.
        if !diagnostics.containsErrors, let output {
            checker.diagnostics = []
            checker.warnUnused(output: output)
            diagnostics += checker.diagnostics
        }
        diagnostics = diagnostics.normalized()
        guard !diagnostics.containsErrors, let output, let stages, let properties else {
            return Compilation(plan: nil, diagnostics: diagnostics)
        }
        let approximations = checker.approximations(output: output)
        if let refused = checker.refuseLosslessClaim(document.lossless, approximations: approximations) {
            return Compilation(plan: nil, diagnostics: (diagnostics + [refused]).normalized())
        }
        var plan = PlanLowering.lower(checker, document: document, stages: stages, properties: properties,
                                      output: output, limits: limits.values, approximations: approximations)
        plan.parameters = parameters.map(\.spec)
        for (index, nodeGraphs) in graphs { plan.nodes[index].graphs = nodeGraphs }
        // The ops' own checks run last: they read the lowered plan (defaults, resolved names,
        // properties), which only a graph free of the errors above has.
        let refused = checker.validate(plan)
        guard refused.isEmpty else { return Compilation(plan: nil, diagnostics: (diagnostics + refused).normalized()) }
        return Compilation(plan: plan, diagnostics: diagnostics)
    }
}
