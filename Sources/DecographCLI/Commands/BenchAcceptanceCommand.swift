import Engine
import Foundation
import Operators

extension CommandSpec {
    /// `decograph bench acceptance`: Sequoia's acceptance vector of a draft model, and the static
    /// trees it gives.
    static let benchAcceptance = CommandSpec(
        "acceptance", abstract: "Measure a draft model's rank-acceptance vector (Sequoia's q_k) on prompts, and the expected tokens per step of the static trees it gives.",
        discussion: """
            Runs the graph on every prompt and reads its output with the graph's draft.model node (its model and \
            layers): at each position, the rank of the emitted token in the draft's distribution after the same \
            prefix. q_k is the share of positions where it was the draft's k-th most probable token. Under a \
            lossless greedy graph the emitted tokens are the target's own, so q_1 is the draft's greedy agreement. \
            The table then gives, per node budget, the expected tokens per step (1 + Σ over nodes of ∏ q along the \
            path) of Sequoia's static tree (Chen et al. 2024), and the line to paste into a draft.model node \
            (`nodes: N, acceptance: [...]`).
            """,
        options: [
            .value("graph", "FILE", help: "A graph with a draft.model node (its output is read)."),
            .value("prompts", "FILE", help: "One prompt per line, or a .jsonl file of {prompt|messages|ids} objects."),
            DecographCLI.modelOption,
            .value("max-tokens", "N", help: "New tokens per prompt (overrides the graph's limit)."),
            .value("ranks", "K", help: "Ranks counted (default 8)."),
            .value("node", "NAME", help: "The draft.model node (default: the first)."),
            .value("depth", "D", help: "Most layers of the static trees (default 8)."),
        ],
        body: { arguments, context in
            let file = try arguments.required("graph")
            let promptsFile = try arguments.required("prompts")
            let maxTokens = try arguments.int("max-tokens", in: 1...Int(Int32.max))
            let ranks = try arguments.int("ranks", in: 1...64) ?? 8
            let depth = try arguments.int("depth", in: 1...64) ?? 8
            guard let compiled = DecographCLI.compileGraph(file, context: context) else { return 1 }
            let plan = try DecographCLI.replacingModels(in: compiled, option: arguments.values("model").isEmpty ? nil : arguments.values("model").joined(separator: ","))
            do {
                let session = try Session(plan: plan)
                let prompts = try PromptInput.tokens(ofFile: promptsFile, for: session).map(\.tokens)
                let profile = try AcceptanceProfile.measure(session: session, prompts: prompts, maxNewTokens: maxTokens, ranks: ranks,
                                                            node: arguments.value("node"))
                let q = profile.shares
                context.print("positions read: \(profile.positions)")
                context.print("rank  share   cumulative")
                var cumulative = 0.0
                for (k, share) in q.enumerated() {
                    cumulative += share
                    context.print(String(format: "%4d  %.4f  %.4f", k + 1, share, cumulative))
                }
                context.print("\nnodes  expected tokens/step (static tree, depth ≤ \(depth))")
                for budget in [1, 2, 4, 8, 16, 32, 64] {
                    let tree = SequoiaTree.expectedTokens(acceptance: q, nodes: budget, depth: depth)
                    context.print(String(format: "%5d  %.3f", budget, tree.tokens))
                }
                context.print("\nacceptance: [" + q.map { String(format: "%.4f", $0) }.joined(separator: ", ") + "]")
            } catch let error as EngineError {
                throw CommandFailure(error.description)
            }
            return 0
        })
}
