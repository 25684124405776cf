import Foundation

extension Plan {
    /// The plan as JSON (`decograph explain G --json`), for scripts: resources, limits, runtime
    /// needs, stages (node names) and nodes with their parameters, inputs and properties.
    /// - Returns: a JSON object with sorted keys, ending in a newline.
    public func json() -> String {
        func resources(_ list: [Resource]) -> [[String: Any]] {
            list.map { r in
                var out: [String: Any] = ["name": r.name, "fields": r.fields.mapValues(\.json), "location": "\(r.location)"]
                if let path = r.path { out["path"] = path }
                return out
            }
        }
        let object: [String: Any] = [
            "name": name, "file": file, "description": description ?? NSNull(),
            "models": resources(models), "stores": resources(stores), "constraints": resources(constraints),
            "limits": ["max_new_tokens": limits.maxNewTokens, "stop": limits.stop,
                       "stop_token_ids": limits.stopTokenIDs, "ignore_eos": limits.ignoreEOS],
            "capabilities": capabilities.map(\.rawValue),
            "stages": stages.map { $0.map { nodes[$0].name } },
            "output": nodes[output].name,
            "nodes": nodes.map { node -> [String: Any] in
                ["name": node.name, "op": node.op, "family": node.family.rawValue, "stage": node.stage,
                 "output_type": node.outputType.rawValue, "location": "\(node.location)",
                 "parameters": node.parameters.mapValues(\.json), "written": node.written.sorted(),
                 "properties": node.properties.map(\.rawValue).sorted(),
                 "inputs": node.inputs.map { ["port": $0.port, "timing": $0.timing.rawValue, "sources": $0.sources.map { nodes[$0].name }] }]
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
