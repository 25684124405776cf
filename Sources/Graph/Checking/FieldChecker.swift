import Support

/// Checks a mapping of fields against a parameter table: unknown keys (with did-you-mean),
/// ill-typed values, values out of range, required keys left out. Shared by op nodes, resources,
/// limits and subgraph parameters.
struct FieldChecker {
    /// The checked values, defaults filled in.
    var values: [String: ParameterValue] = [:]
    /// The keys that were written (as opposed to defaulted).
    var written: Set<String> = []
    /// What went wrong.
    var diagnostics: [Diagnostic] = []

    /// Checks `fields`.
    /// - Parameters:
    ///   - fields: the mapping's entries.
    ///   - table: the allowed fields.
    ///   - owner: how messages name the mapping (`model 'draft'`).
    ///   - at: where to report missing fields.
    ///   - extraKeys: keys handled by the caller (ports), skipped here but offered as suggestions.
    init(_ fields: [YAMLNode.Entry], table: [ParameterSpec], owner: String, at: SourceLocation,
         extraKeys: Set<String> = []) {
        for field in fields {
            let key = field.key.scalar ?? ""
            if extraKeys.contains(key) { continue }
            guard let spec = table.first(where: { $0.name == key }) else {
                let known = table.map(\.name) + extraKeys.sorted()
                var message = "\(owner) has no parameter '\(key)'"
                if let s = Suggestion.closest(to: key, among: known) {
                    message += " (did you mean '\(s)'?)"
                } else if !known.isEmpty {
                    message += "; it takes " + known.map { "'\($0)'" }.joined(separator: ", ")
                }
                diagnostics.append(.error(field.key.location, message))
                continue
            }
            written.insert(key)
            switch ValueChecker.check(field.value, against: spec, subject: "'\(key)' of \(owner)") {
            case .success(let v): values[key] = v
            case .failure(let d): diagnostics += d.items
            }
        }
        for spec in table where !written.contains(spec.name) {
            if let d = spec.defaultValue {
                values[spec.name] = d
            } else if !spec.optional {
                diagnostics.append(.error(at, "\(owner) is missing required parameter '\(spec.name)' (\(spec.typeSummary))"))
            }
        }
    }
}
