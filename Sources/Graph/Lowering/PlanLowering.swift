/// Builds the `Plan` of a graph the checker found free of errors.
enum PlanLowering {
    static func lower(_ checker: GraphChecker, document: GraphDocument, stages: [Int], properties: [Set<PortProperty>],
                      output: Int, limits: [String: ParameterValue], approximations: [Plan.Approximated]) -> Plan {
        let nodes = checker.nodes.enumerated().map { i, node in
            Plan.Node(index: i, name: node.flat.name, op: node.spec!.name, family: node.spec!.family,
                      parameters: node.parameters, written: node.written,
                      inputs: node.inputs.map { Plan.Input(port: $0.port.name, sources: $0.sources, timing: $0.port.timing) },
                      outputType: node.spec!.output.type, properties: properties[i], stage: stages[i],
                      location: node.flat.location)
        }
        var schedule = [[Int]](repeating: [], count: (stages.max() ?? -1) + 1)
        // A judge (the reward family) is called by the nodes naming it, never by the step.
        for (i, stage) in stages.enumerated() where checker.nodes[i].spec?.family != .reward { schedule[stage].append(i) }
        var capabilities = Set<RuntimeCapability>()
        for node in checker.nodes {
            for rule in node.spec!.needs where rule.when.holds(for: node.parameters) { capabilities.insert(rule.capability) }
        }
        func resources(_ list: [FlatGraph.Resource]) -> [Plan.Resource] {
            list.map { r in
                var path: String?
                if case .string(let p)? = r.values["path"] { path = GraphFileLoader.join(r.directory, p) }
                return Plan.Resource(name: r.name, path: path, fields: r.values, location: r.location)
            }
        }
        func strings(_ v: ParameterValue?) -> [String] {
            guard case .list(let items)? = v else { return [] }
            return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        func ints(_ v: ParameterValue?) -> [Int] {
            guard case .list(let items)? = v else { return [] }
            return items.compactMap { if case .int(let s) = $0 { s } else { nil } }
        }
        var maxNew = GraphLanguage.defaultMaxNewTokens
        if case .int(let n)? = limits["max_new_tokens"] { maxNew = n }
        var ignoreEOS = false
        if case .bool(let b)? = limits["ignore_eos"] { ignoreEOS = b }
        let fileName = document.file.split(separator: "/").last.map(String.init) ?? document.file
        return Plan(name: document.name?.value ?? fileName, description: document.description, file: document.file,
                    models: resources(checker.flat.models), stores: resources(checker.flat.stores),
                    constraints: resources(checker.flat.constraints), nodes: nodes, stages: schedule, output: output,
                    limits: Plan.Limits(maxNewTokens: maxNew, stop: strings(limits["stop"]),
                                        stopTokenIDs: ints(limits["stop_token_ids"]), ignoreEOS: ignoreEOS),
                    capabilities: capabilities.sorted(), approximations: approximations)
    }
}
