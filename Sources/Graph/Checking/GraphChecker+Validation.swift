extension GraphChecker {
    /// Runs each node's `OpSpec.validate` on the lowered plan and reports what it refuses at the
    /// written value of the parameter at fault (the node itself when the parameter kept its
    /// default), with the node's `use:` context — the checks binding the node would make, made
    /// when the graph is compiled.
    /// - Parameter plan: the plan lowered from this checker's nodes (same indices).
    /// - Returns: one error per refused node.
    func validate(_ plan: Plan) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for (checked, node) in zip(nodes, plan.nodes) {
            guard let validate = checked.spec?.validate else { continue }
            let problem: NodeProblem
            do {
                try validate(node, plan)
                continue
            } catch let found as NodeProblem {
                problem = found
            } catch {
                problem = NodeProblem(nil, "\(error)")
            }
            let owner = "node '\(node.name)' (\(node.op))"
            var at = checked.flat.location
            var message = "\(owner): \(problem.message)"
            if let parameter = problem.parameter, checked.spec?.parameter(parameter) != nil || checked.spec?.input(parameter) != nil {
                message = "'\(parameter)' of \(owner): \(problem.message)"
                if let field = checked.flat.fields.first(where: { $0.key.scalar == parameter }) { at = field.value.location }
            }
            diagnostics.append(.error(at, message, notes: checked.flat.context))
        }
        return diagnostics
    }
}
