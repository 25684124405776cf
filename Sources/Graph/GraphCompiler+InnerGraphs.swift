/// The graphs a compile's nodes run inside themselves (`graphFile` parameters, a `draft.graph`
/// drafter's inner graph), each compiled once per top-level compile. A class, because the
/// recursive compiles of one top-level compile share it; it lives for that compile only.
final class InnerGraphCache {
    /// Canonical path → the compiled plan, or `nil` for a file whose errors were reported. A file
    /// compiles alike whichever node names it: one that compiled holds no cycle (a cycle through
    /// it would have been found while it compiled), so it never needs compiling again.
    var plans: [String: Plan?] = [:]
}

extension GraphCompiler {
    /// How deep graphs may run graphs inside themselves. Each level is a decoding loop of its
    /// own: staged speculation (Spector & Ré 2023) uses two or three; more is a mistake, and the
    /// bound keeps a chain of distinct files from compiling without end.
    static let maximumInnerNesting = 8

    /// Compiles the graph file each `graphFile` parameter names, relative to the file declaring the
    /// node, and reports its diagnostics with a note at the parameter: a file that runs itself
    /// (directly or through others), one that cannot be read, and every error inside it are
    /// errors of this compile.
    /// - Parameters:
    ///   - nodes: the checked nodes.
    ///   - loader: the loader of this compile (its base directory).
    ///   - enclosing: the files whose nodes run this graph inside themselves, this file last.
    ///   - cache: the plans compiled so far.
    ///   - diagnostics: where errors and warnings go.
    /// - Returns: per node index, its compiled graphs by parameter name (failed ones left out).
    func compileInnerGraphs(of nodes: [GraphChecker.CheckedNode], loader: GraphFileLoader,
                            enclosing: [(canonical: String, shown: String)], cache: InnerGraphCache,
                            diagnostics: inout [Diagnostic]) -> [Int: [String: Plan]] {
        var result: [Int: [String: Plan]] = [:]
        for (index, node) in nodes.enumerated() {
            for parameter in node.spec?.parameters ?? [] where parameter.type == .graphFile {
                guard case .string(let written)? = node.parameters[parameter.name],
                      let field = node.flat.fields.first(where: { $0.key.scalar == parameter.name }) else { continue }
                let at = field.value.location
                let note = Diagnostic.note(at, "in the graph that node '\(node.flat.name)' runs, named here")
                let file = GraphFileLoader.join(GraphFileLoader.directory(of: node.flat.location.file), written)
                let canonical = loader.canonicalPath(file)
                if let start = enclosing.firstIndex(where: { $0.canonical == canonical }) {
                    let cycle = (enclosing[start...].map(\.shown) + [file]).joined(separator: " → ")
                    diagnostics.append(.error(at, "'\(parameter.name)' of node '\(node.flat.name)' runs a graph that runs this one: \(cycle); a graph cannot draft with itself", notes: node.flat.context))
                    continue
                }
                if enclosing.count > Self.maximumInnerNesting {
                    diagnostics.append(.error(at, "graphs run inside graphs more than \(Self.maximumInnerNesting) levels deep", notes: node.flat.context))
                    continue
                }
                if let cached = cache.plans[canonical] {
                    if let cached { result[index, default: [:]][parameter.name] = cached }
                    continue
                }
                var innerLoader = GraphFileLoader(baseDirectory: loader.baseDirectory)
                switch innerLoader.load(file) {
                case .failure(let failure):
                    diagnostics.append(.error(at, "'\(parameter.name)' of node '\(node.flat.name)': cannot read the graph '\(written)' (\(file)): \(failure.reason)", notes: node.flat.context))
                    cache.plans[canonical] = .some(nil)
                case .success((let document, let parseDiagnostics)):
                    let compiled = compile(document, parseDiagnostics, loader: innerLoader, enclosing: enclosing, inner: cache)
                    diagnostics += compiled.diagnostics.map { var d = $0; d.notes += [note] + node.flat.context; return d }
                    cache.plans[canonical] = .some(compiled.plan)
                    if let plan = compiled.plan { result[index, default: [:]][parameter.name] = plan }
                }
            }
        }
        return result
    }
}
