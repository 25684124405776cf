extension GraphChecker {
    /// The nodes the committed tokens depend on whose op approximates its model (`OpSpec.approximates`).
    ///
    /// The walk follows every input edge back from the output except token trees: a proposal is
    /// only ever worth what the verifier downstream makes of it, so a shallow or early-exit
    /// drafter leaves a speculative graph lossless, while early-exit *scores* that a verifier or
    /// a selection reads do not.
    /// - Parameter output: the output node.
    /// - Returns: the approximating nodes, in declaration order.
    func approximations(output: Int) -> [Plan.Approximated] {
        var found: [Plan.Approximated] = [], visited = Set<Int>(), queue = [output]
        while let n = queue.popLast() {
            guard visited.insert(n).inserted, let spec = nodes[n].spec else { continue }
            if let approximation = spec.approximates, approximation.when.holds(for: nodes[n].parameters) {
                found.append(Plan.Approximated(node: n, reason: approximation.reason))
            }
            for input in nodes[n].inputs where input.port.type != .tokenTree { queue += input.sources }
        }
        return found.sorted { $0.node < $1.node }
    }

    /// Refuses `lossless: true` on a graph whose committed tokens depend on an approximation,
    /// pointing at the claim and noting each approximating node.
    /// - Parameters:
    ///   - claim: the document's `lossless:` value.
    ///   - approximations: what `approximations(output:)` found.
    /// - Returns: the error, if the claim is false.
    func refuseLosslessClaim(_ claim: Located<Bool>?, approximations: [Plan.Approximated]) -> Diagnostic? {
        guard let claim, claim.value, !approximations.isEmpty else { return nil }
        let names = approximations.map { "'\(nodes[$0.node].flat.name)' (\(nodes[$0.node].flat.op.value))" }
        let notes = approximations.map {
            Diagnostic.note(nodes[$0.node].flat.location, "'\(nodes[$0.node].flat.name)' \($0.reason)")
        }
        return .error(claim.location, "the graph is declared lossless, but its output depends on " + names.joined(separator: ", ")
                      + ", which only approximate\(names.count == 1 ? "s" : "") \(names.count == 1 ? "its model" : "their models"); remove 'lossless: true' or score with the full model",
                      notes: notes)
    }
}
