import Foundation
import Graph
import ModelRuntime
import Operators

/// Sequoia's acceptance vector (Chen et al. 2024) measured on a run's own output: at every
/// position of what a graph emits, the rank of the emitted token in the draft's distribution after
/// the same prefix. q_k, the share of positions where it is the draft's k-th most probable token,
/// is what `draft.model`'s `acceptance` takes to shape a static tree. Under a lossless greedy graph
/// the emitted tokens are the target's greedy choices, so q_1 is the draft's greedy agreement.
public struct AcceptanceProfile: Sendable, Equatable {
    /// Per rank k = 1…K, the positions where the emitted token was the draft's k-th choice.
    public var ranks: [Int]
    /// Positions read.
    public var positions: Int

    /// q_k: each rank's share of the positions.
    public var shares: [Double] { ranks.map { positions == 0 ? 0 : Double($0) / Double(positions) } }

    /// The rank of `token` in `row`, 0 for the most probable: higher values first, the lower index
    /// first among equals (as `Distribution.topIndices` orders them).
    static func rank(of token: Int32, in row: [Float]) -> Int {
        let value = row[Int(token)]
        var rank = 0
        for (i, v) in row.enumerated() where v > value || (v == value && i < Int(token)) { rank += 1 }
        return rank
    }

    /// Runs a session on the prompts and reads each output with the draft node's model.
    /// - Parameters:
    ///   - session: a graph with a `draft.model` node.
    ///   - prompts: token prompts.
    ///   - maxNewTokens: tokens per prompt.
    ///   - ranks: K, how many ranks to count.
    ///   - node: the draft node's name; the first `draft.model` when nil.
    /// - Returns: the profile.
    /// - Throws: `EngineError` for a graph without such a node; the run's errors.
    public static func measure(session: Session, prompts: [[Int32]], maxNewTokens: Int?, ranks: Int, node: String? = nil) throws -> AcceptanceProfile {
        let plan = session.plan
        guard let draft = plan.nodes.first(where: { $0.op == DraftModelOp.spec.name && (node == nil || $0.name == node) }) else {
            throw EngineError("the graph has no draft.model node\(node.map { " named '\($0)'" } ?? ""); the profile reads a draft model's ranks")
        }
        let model: String, layers: LayerSelection?
        do {
            (model, layers) = try DraftModelOp.drafting(draft, layerCount: session.layerCount(of:))
        } catch {
            throw EngineError(at: draft.location, "node '\(draft.name)': \(error)")
        }
        var profile = AcceptanceProfile(ranks: Array(repeating: 0, count: ranks), positions: 0)
        for prompt in prompts {
            let output = try session.run(prompt: prompt, maxNewTokens: maxNewTokens).tokens
            guard !output.isEmpty else { continue }
            let rows = try session.fullDepthRows(of: output, after: prompt, model: model, layers: layers)
            for (token, row) in zip(output, rows) {
                let k = rank(of: token, in: row)
                if k < ranks { profile.ranks[k] += 1 }
                profile.positions += 1
            }
        }
        return profile
    }
}

extension Session {
    /// The layer count of one of the graph's models.
    func layerCount(of name: String) throws -> Int {
        guard let use = modelUses.first(where: { $0.name == name }) else { throw EngineError("the graph has no model '\(name)'") }
        return use.service.model.config.layerCount
    }
}
