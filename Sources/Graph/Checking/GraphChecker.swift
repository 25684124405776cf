import Support

/// Checks an expanded graph against the op registry and lowers it to a `Plan` when it holds no
/// errors. Every mistake is collected; nothing stops at the first.
struct GraphChecker {
    /// A node after its fields were checked.
    struct CheckedNode {
        var flat: FlatGraph.Node
        var spec: OpSpec?
        var parameters: [String: ParameterValue] = [:]
        var written: Set<String> = []
        /// Connected ports: the spec, the sources, where the value was written.
        var inputs: [(port: PortSpec, sources: [Int], location: SourceLocation)] = []
    }

    let registry: OpRegistry
    let flat: FlatGraph
    let acceptedOutputTypes: [PortType]
    var diagnostics: [Diagnostic] = []
    var nodes: [CheckedNode] = []
    private var indexByName: [String: Int] = [:]
    private var usedResources = Set<String>()
    /// Nodes with an input that could not be connected: what they pass on is unknown, so no
    /// soundness error is derived from them.
    private var incomplete = Set<Int>()

    init(registry: OpRegistry, flat: FlatGraph, acceptedOutputTypes: [PortType]) {
        self.registry = registry
        self.flat = flat
        self.acceptedOutputTypes = acceptedOutputTypes
        for (i, node) in flat.nodes.enumerated() { indexByName[node.name] = i }
        nodes = flat.nodes.map { CheckedNode(flat: $0) }
    }

    private mutating func error(_ node: FlatGraph.Node, _ at: SourceLocation, _ message: String, notes: [Diagnostic] = []) {
        diagnostics.append(.error(at, message, notes: notes + node.context))
    }

    /// A name as messages print it: qualified, without the resolved-name mark.
    private static func display(_ name: String) -> String { name.hasPrefix("/") ? String(name.dropFirst()) : name }

    /// What a node name resolves to.
    enum Resolution {
        /// A node.
        case node(Int)
        /// A subgraph whose failure was reported already: say nothing more.
        case failed
        /// Nothing: an error to report.
        case undefined
    }

    /// Resolves a node name written in a scope, following `use:` aliases.
    func resolve(_ written: String, scope: String) -> Resolution {
        var name = SubgraphExpander.qualify(written, in: scope)
        var hops = 0
        while hops <= flat.aliases.count {
            if flat.failedUses.contains(name) { return .failed }
            guard let alias = flat.aliases[name] else { break }
            name = alias.target
            hops += 1
        }
        if let i = indexByName[name] { return .node(i) }
        // A subgraph whose output names no node was reported at that output.
        return hops > 0 ? .failed : .undefined
    }

    private func resolveNode(_ written: String, scope: String) -> Int? {
        if case .node(let i) = resolve(written, scope: scope) { return i }
        return nil
    }

    /// Candidates for did-you-mean: names visible in a scope, as they would be written there.
    private func visibleNames(in scope: String, among names: [String]) -> [String] {
        names.filter { $0.hasPrefix(scope) }.map { String($0.dropFirst(scope.count)) }.filter { !$0.contains("/") }
    }

    // MARK: - Nodes

    mutating func checkNodes() {
        for i in nodes.indices {
            let node = nodes[i].flat
            guard let spec = registry.spec(named: node.op.value) else {
                var message = "unknown op '\(node.op.value)'"
                if let s = Suggestion.closest(to: node.op.value, among: registry.names) { message += " (did you mean '\(s)'?)" }
                error(node, node.op.location, message)
                continue
            }
            nodes[i].spec = spec
            let owner = "node '\(node.name)' (\(spec.name))"
            let ports = Set(spec.inputs.map(\.name))
            var checker = FieldChecker(node.fields, table: spec.parameters, owner: owner, at: node.location, extraKeys: ports)
            diagnostics += checker.diagnostics.map { var d = $0; d.notes += node.context; return d }
            checker.diagnostics = []
            for parameter in spec.parameters {
                guard let value = checker.values[parameter.name], checker.written.contains(parameter.name) else { continue }
                let at = node.fields.first { $0.key.scalar == parameter.name }!.value.location
                checker.values[parameter.name] = resolveReferences(value, type: parameter.type, node: node, at: at)
            }
            nodes[i].parameters = checker.values
            nodes[i].written = checker.written
            for port in spec.inputs {
                guard let field = node.fields.first(where: { $0.key.scalar == port.name }) else {
                    if !port.optional {
                        incomplete.insert(i)
                        error(node, node.location, "node '\(node.name)' (\(spec.name)) is missing input port '\(port.name)' (\(port.type))")
                    }
                    continue
                }
                connect(i, port: port, field: field)
            }
        }
    }

    /// Resolves reference parameters to qualified names and checks they are declared.
    private mutating func resolveReferences(_ value: ParameterValue, type: ParameterType, node: FlatGraph.Node,
                                            at: SourceLocation) -> ParameterValue {
        switch (type, value) {
        case (.list(let element), .list(let items)):
            return .list(items.map { resolveReferences($0, type: element, node: node, at: at) })
        case (_, .reference(let written)):
            let name = SubgraphExpander.qualify(written, in: node.scope)
            let (section, declared): (String, [String]) = switch type {
            case .modelRef: ("models", flat.models.map(\.name))
            case .storeRef: ("stores", flat.stores.map(\.name))
            case .constraintRef: ("constraints", flat.constraints.map(\.name))
            default: ("nodes", flat.nodes.map(\.name) + flat.aliases.keys + flat.failedUses)
            }
            let kind = String(section.dropLast())
            if declared.contains(name) {
                usedResources.insert(section + ":" + name)
                if type == .nodeRef {
                    guard let target = resolveNode(written, scope: node.scope) else { return value }
                    return .reference(nodes[target].flat.name)
                }
                return .reference(name)
            }
            var message = "node '\(node.name)' uses \(kind) '\(Self.display(written))', which is not defined"
            message += type == .nodeRef ? "" : " in '\(section)'"
            if let s = Suggestion.closest(to: Self.display(written), among: visibleNames(in: node.scope, among: declared)) {
                message += " (did you mean '\(s)'?)"
            }
            error(node, at, message)
            return value
        default:
            return value
        }
    }

    /// Connects an input port to the nodes its field names.
    private mutating func connect(_ i: Int, port: PortSpec, field: YAMLNode.Entry) {
        let node = nodes[i].flat
        let op = nodes[i].spec!.name
        var names: [YAMLNode] = []
        switch field.value.kind {
        case .sequence(let items):
            names = items
            if items.isEmpty {
                error(node, field.value.location, "port '\(port.name)' of node '\(node.name)' (\(op)) names no node; leave the port out or name one")
                incomplete.insert(i)
                return
            }
            if port.multiplicity == .one, items.count != 1 {
                error(node, field.value.location, "port '\(port.name)' of node '\(node.name)' (\(op)) reads one node, not a list of \(items.count)")
                incomplete.insert(i)
                return
            }
        case .scalar where !field.value.isNull: names = [field.value]
        default:
            error(node, field.value.location, "port '\(port.name)' of node '\(node.name)' (\(op)) takes node names, not \(ValueChecker.describe(field.value))")
            incomplete.insert(i)
            return
        }
        var sources: [Int] = []
        for item in names {
            guard let written = item.scalar, !item.isNull else {
                error(node, item.location, "port '\(port.name)' of node '\(node.name)' (\(op)) takes node names, not \(ValueChecker.describe(item))")
                continue
            }
            let resolution = resolve(written, scope: node.scope)
            if case .failed = resolution {
                incomplete.insert(i)
                continue
            }
            guard case .node(let source) = resolution else {
                incomplete.insert(i)
                let display = Self.display(written)
                var message = "node '\(node.name)' reads '\(display)', which is not defined"
                let candidates = visibleNames(in: node.scope, among: flat.nodes.map(\.name) + flat.aliases.keys)
                if let s = Suggestion.closest(to: display, among: candidates) {
                    message += " (did you mean '\(s)'?)"
                } else if flat.models.contains(where: { $0.name == SubgraphExpander.qualify(written, in: node.scope) }) {
                    message += "; '\(display)' is a model, which a node reads through a 'model:' parameter"
                }
                error(node, item.location, message)
                continue
            }
            if let sourceSpec = nodes[source].spec ?? registry.spec(named: nodes[source].flat.op.value),
               sourceSpec.output.type != port.type {
                let sourceName = nodes[source].flat.name
                error(node, item.location, "port '\(port.name)' of node '\(node.name)' (\(op)) expects \(port.type), but '\(sourceName)' (\(sourceSpec.name)) produces \(sourceSpec.output.type)")
                incomplete.insert(i)
                continue
            }
            sources.append(source)
        }
        nodes[i].inputs.append((port, sources, field.value.location))
    }

    // MARK: - Graph-level checks

    /// Same-step dependencies of each node.
    var dependencies: [[Int]] {
        nodes.map { node in
            var seen = Set<Int>()
            return node.inputs.filter { $0.port.timing == .sameStep }.flatMap(\.sources).filter { seen.insert($0).inserted }
        }
    }

    /// Schedules the step; reports cycles.
    mutating func schedule() -> [Int]? {
        let deps = dependencies
        switch StepSchedule.stages(deps) {
        case .success(let stages): return stages
        case .failure(let found):
            for cycle in found.cycles {
                let first = nodes[cycle[0]].flat
                if cycle.count == 1 {
                    error(first, first.location, "node '\(first.name)' reads itself within one step")
                } else {
                    // Printed in data-flow order: each node feeds the next.
                    let path = StepSchedule.path(around: cycle, deps).reversed().map { nodes[$0].flat.name }
                    error(first, first.location, "nodes form a cycle within one step: " + path.joined(separator: " → "))
                }
            }
            return nil
        }
    }

    /// Output properties of each node, in schedule order; reports requirements not met.
    mutating func checkProperties(stages: [Int]) -> [Set<PortProperty>] {
        var properties = [Set<PortProperty>](repeating: [], count: nodes.count)
        let order = nodes.indices.sorted { (stages[$0], $0) < (stages[$1], $1) }
        for i in order {
            guard let spec = nodes[i].spec else { continue }
            var props = Set(spec.output.provides.filter { $0.when.holds(for: nodes[i].parameters) }.map(\.property))
            let passed = nodes[i].inputs.filter { spec.output.propagates.contains($0.port.name) && $0.port.timing == .sameStep }.flatMap(\.sources)
            props.formUnion(spec.output.inherited(from: passed.map { properties[$0] }))
            properties[i] = props
            for input in nodes[i].inputs where input.port.timing == .sameStep {
                for requirement in input.port.requires where requirement.when.holds(for: nodes[i].parameters) {
                    for source in input.sources where properties[source].isDisjoint(with: requirement.anyOf) {
                        let culprits = origins(lacking: requirement.anyOf, from: source, properties: properties)
                        if culprits.contains(where: { incomplete.contains($0) || nodes[$0].spec == nil }) { continue }
                        let node = nodes[i].flat
                        let wanted = requirement.anyOf.map(\.rawValue).joined(separator: " or ")
                        var message = "node '\(node.name)' (\(spec.name)) needs \(wanted) on port '\(input.port.name)'"
                        let condition = requirement.when.description
                        if !condition.isEmpty { message += " \(condition)" }
                        message += " (\(requirement.reason)), but "
                        message += culprits.map { "'\(nodes[$0].flat.name)' (\(nodes[$0].flat.op.value))" }.joined(separator: ", ")
                        message += culprits.count == 1 ? " supplies none" : " supply none"
                        let notes = culprits.map { Diagnostic.note(nodes[$0].flat.location, "'\(nodes[$0].flat.name)' is declared here") }
                        error(node, input.location, message, notes: notes)
                    }
                }
            }
        }
        return properties
    }

    /// The upstream nodes where none of `wanted` originates: the reason a requirement fails.
    private func origins(lacking wanted: [PortProperty], from start: Int, properties: [Set<PortProperty>]) -> [Int] {
        var result: [Int] = [], visited = Set<Int>(), queue = [start]
        while let n = queue.popLast() {
            guard visited.insert(n).inserted, let spec = nodes[n].spec else { continue }
            let passed = nodes[n].inputs.filter { spec.output.propagates.contains($0.port.name) && $0.port.timing == .sameStep }.flatMap(\.sources)
            let lackingUpstream = passed.filter { properties[$0].isDisjoint(with: wanted) }
            if lackingUpstream.isEmpty { result.append(n) } else { queue += lackingUpstream }
        }
        return result.sorted()
    }

    /// Resolves and checks the root's output.
    mutating func checkOutput(_ document: GraphDocument) -> Int? {
        guard let output = document.output else {
            diagnostics.append(.error(document.start, "the graph has no 'output'; name the node whose selection is committed each step"))
            return nil
        }
        let resolution = resolve(output.value, scope: "")
        if case .failed = resolution { return nil }
        guard case .node(let index) = resolution else {
            var message = "output '\(output.value)' is not a node"
            if let s = Suggestion.closest(to: output.value, among: visibleNames(in: "", among: flat.nodes.map(\.name) + flat.aliases.keys)) {
                message += " (did you mean '\(s)'?)"
            }
            diagnostics.append(.error(output.location, message))
            return nil
        }
        if let spec = nodes[index].spec, !acceptedOutputTypes.contains(spec.output.type) {
            let accepted = acceptedOutputTypes.map(\.rawValue).joined(separator: " or ")
            diagnostics.append(.error(output.location, "output '\(output.value)' (\(spec.name)) produces \(spec.output.type); a graph's output must produce \(accepted)"))
        }
        // A frontier is chosen once per step for all hypotheses: only the output, or the search a
        // ranking output reads, may choose it.
        let readByOutput = Set(nodes[index].inputs.filter { $0.port.timing == .sameStep }.flatMap(\.sources))
        for (n, node) in nodes.enumerated() where n != index && node.spec?.output.type == .frontier && !readByOutput.contains(n) {
            diagnostics.append(.error(node.flat.location, "node '\(node.flat.name)' (\(node.spec!.name)) chooses the frontier, so it must be the graph's output or the 'from' of a rerank output"))
        }
        return index
    }

    /// Checks `use:` aliases point at nodes (a subgraph's `output` naming no node).
    mutating func checkAliases() {
        for (name, alias) in flat.aliases.sorted(by: { $0.key < $1.key }) {
            let target = alias.target
            if flat.failedUses.contains(target) || indexByName[target] != nil || flat.aliases[target] != nil { continue }
            let written = String(target.dropFirst(name.count + 1))
            var message = "output '\(written)' is not a node of this subgraph"
            let candidates = visibleNames(in: name + "/", among: flat.nodes.map(\.name) + flat.aliases.keys)
            if let s = Suggestion.closest(to: written, among: candidates) { message += " (did you mean '\(s)'?)" }
            diagnostics.append(.error(alias.location, message))
        }
    }

    /// Warns about nodes that feed nothing the output reads and resources nothing uses.
    mutating func warnUnused(output: Int) {
        var reached = Set<Int>(), queue = [output]
        while let n = queue.popLast() {
            guard reached.insert(n).inserted else { continue }
            for input in nodes[n].inputs { queue += input.sources.filter { !reached.contains($0) } }
            // A node a parameter names (a reward a search calls) works for the node naming it.
            for parameter in nodes[n].spec?.parameters ?? [] where parameter.type == .nodeRef {
                if case .reference(let name)? = nodes[n].parameters[parameter.name], let i = indexByName[name] { queue.append(i) }
            }
        }
        for (i, node) in nodes.enumerated() where !reached.contains(i) && node.spec?.family != .commit {
            diagnostics.append(Diagnostic(.warning, at: node.flat.location, "node '\(node.flat.name)' does not feed the graph's output, so its work is wasted", notes: node.flat.context))
        }
        for (section, resources) in [("models", flat.models), ("stores", flat.stores), ("constraints", flat.constraints)] {
            for r in resources where !usedResources.contains(section + ":" + r.name) {
                diagnostics.append(.warning(r.location, "\(section.dropLast()) '\(r.name)' is declared but no node uses it"))
            }
        }
    }
}
