import Graph

/// Builds an op's `OpSpec.validate` from the checks its binding makes, so `decograph check` and
/// binding run one code path: each op factors the parameter-dependent part of its `init` (the
/// drafter, the pipeline, the compiled grammar) into a function of the plan node, calls it from
/// `init`, and declares it here as its validation.
enum OpValidation {
    /// A validation closure that runs `checks` and reports their `OperatorError` as a `NodeProblem`
    /// located at the parameter the error names.
    /// - Parameter checks: the op's checks of a node and its plan.
    /// - Returns: the closure for `OpSpec(validate:)`.
    static func checks(_ checks: @escaping @Sendable (Plan.Node, Plan) throws -> Void) -> @Sendable (Plan.Node, Plan) throws -> Void {
        { node, plan in
            do {
                try checks(node, plan)
            } catch let error as OperatorError {
                throw error.problem
            }
        }
    }
}

extension OperatorError {
    /// The error as the compiler reports it: at the parameter its location begins with (`stop[0]`
    /// is parameter `stop`), the rest of the location kept in the message.
    var problem: NodeProblem {
        let parameter = location.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        let rest = location.dropFirst(parameter.count)
        return NodeProblem(parameter.isEmpty ? nil : String(parameter), rest.isEmpty ? message : "\(location): \(message)")
    }
}
