import Foundation
import Graph
import Tokenization

/// `rerank`: orders a search's finished hypotheses (beams, samples) once the search ends, and
/// answers with the first. `by: logprob` scores each candidate under a model — the target's own
/// or another — as Σ log p(token) / length^length_penalty, every candidate of a chunk in one
/// forward pass (their shared prefixes merged into one token tree). `by: mbr` is minimum Bayes risk
/// decoding (Kumar & Byrne 2004; Freitag et al. 2022, "High Quality Rather than High Model
/// Probability: Minimum Bayes Risk Decoding with Neural Metrics"; Fernandes et al. 2022,
/// "Quality-Aware Decoding for Neural Machine Translation"): the candidate with the highest mean
/// utility (chrF, BLEU or edit similarity) against the others, the candidates standing in for
/// samples of the model's distribution.
public struct RerankOp: CandidateRanker {
    /// The declaration.
    public static let spec = OpSpec(
        "rerank", family: .select,
        doc: "Orders a search's finished hypotheses when it ends and answers with the best: by: logprob scores them under a model (Σ log p / length^length_penalty, one batched pass per chunk of candidates); by: mbr picks the minimum-Bayes-risk candidate, the highest mean utility (chrf, bleu or edit) against the others; by: reward asks a reward node (the judge a search.mcts may share).",
        parameters: [by.spec, utility.spec, model.spec, lengthPenalty.spec, reward.spec],
        inputs: [PortSpec("from", .frontier, doc: "The search whose finished hypotheses are ranked (a search.* node).")],
        output: OutputSpec(.frontier, doc: "The ranked candidates; the first is the output."),
        validate: OpValidation.checks { node, plan in
            try RerankOp.validate(node)
            _ = try RewardOp.named(node[reward], in: plan, at: reward.name)
        })

    /// What candidates are ranked by.
    public enum Criterion: String, Sendable, CaseIterable, ParameterEnumeration {
        /// Their log-probability under `model`, length-normalised.
        case logprob
        /// Minimum Bayes risk: mean utility against the other candidates.
        case mbr
        /// A reward node's judgement.
        case reward
    }

    static let by = OpParameter<Criterion>("by", default: .mbr, doc: "logprob: Σ log p(token) under model / length^length_penalty; mbr: mean utility against the other candidates (minimum Bayes risk); reward: the judgement of the reward node `reward` names.")
    static let reward = OpParameter<String?>("reward", .nodeRef, doc: "by: reward: the reward node (op: reward) that judges each candidate; a loglik judge reads the candidate's log-probability as its search scored it, per token.")
    static let utility = OpParameter<SentenceUtility>("utility", default: .chrf,
                                                      doc: "MBR's utility: chrf (chrF2, sacrebleu's sentence chrF), bleu (sacrebleu's sentence BLEU, 13a tokens) or edit (1 − token edit distance / length).")
    static let model = OpParameter<String?>("model", .modelRef, doc: "by: logprob: the model that scores the candidates (the target or another).")
    static let lengthPenalty = OpParameter<Double>("length_penalty", default: 1, range: .closed(-10, 10),
                                                   doc: "by: logprob: the exponent of the candidate's length dividing its log-probability (0 ranks by the plain sum).")

    let criterion: Criterion
    let utilityMeasure: SentenceUtility
    let exponent: Double
    let tokenizer: Tokenizer?
    let judge: RewardOp?

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: the target's tokenizer (chrF and BLEU compare texts).
    /// - Throws: `OperatorError.invalidParameter` for settings that do not go together, or a text
    ///   utility without a tokenizer.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        try Self.validate(node)
        criterion = try node[Self.by]
        utilityMeasure = try node[Self.utility]
        exponent = try node[Self.lengthPenalty]
        tokenizer = environment.tokenizer
        judge = try RewardOp.judge(named: node[Self.reward], environment: environment, at: Self.reward.name)
        if criterion == .mbr, utilityMeasure != .edit, tokenizer == nil {
            throw OperatorError(.invalidParameter, at: "utility", "\(utilityMeasure.rawValue) compares texts and the target has no tokenizer; use utility: edit")
        }
    }

    /// The checks the compiler runs: a model exactly when ranking by log-probability.
    static func validate(_ node: Plan.Node) throws {
        let criterion = try node[by]
        let model = try node[model]
        if criterion == .logprob, model == nil {
            throw OperatorError(.invalidParameter, at: "model", "by: logprob needs the model that scores the candidates")
        }
        if criterion == .mbr, model != nil {
            throw OperatorError(.invalidParameter, at: "model", "by: mbr ranks by utility among the candidates and reads no model; remove model or use by: logprob")
        }
        if criterion == .logprob, node.written.contains(utility.name) {
            throw OperatorError(.invalidParameter, at: "utility", "utility is MBR's; by: logprob ranks by the model")
        }
        if criterion == .reward, try node[reward] == nil {
            throw OperatorError(.invalidParameter, at: "reward", "by: reward needs the reward node that judges the candidates")
        }
        if criterion != .reward, node.written.contains(reward.name) {
            throw OperatorError(.invalidParameter, at: "reward", "reward is read only with by: reward")
        }
        if criterion == .reward, node.written.contains(utility.name) || node.written.contains(lengthPenalty.name) || node.written.contains(Self.model.name) {
            throw OperatorError(.invalidParameter, at: "by", "by: reward ranks by the reward node's judgement and reads no utility, length_penalty or model")
        }
        if criterion == .mbr, node.written.contains(lengthPenalty.name) {
            throw OperatorError(.invalidParameter, at: "length_penalty", "length_penalty is by: logprob's; MBR ranks by utility")
        }
    }

    /// Orders the candidates.
    /// - Parameters:
    ///   - prompt: the run's prompt.
    ///   - candidates: the search's finished hypotheses.
    ///   - models: `model`'s fresh scorer for `by: logprob`.
    /// - Returns: the candidates best first, `score` being the log-probability per length^penalty or the expected utility.
    /// - Throws: the model's errors.
    public func rank(prompt: [Int32], candidates: [FrontierCandidate], models: [String: any TreeScorer]) throws -> [FrontierCandidate] {
        guard !candidates.isEmpty else { return [] }
        var ranked = candidates
        switch criterion {
        case .logprob:
            guard let scorer = models[Self.model.name] else {
                throw OperatorError(.unscorableContext, at: "model", "no model is bound to this node's 'model'")
            }
            let sums = try Self.logProbabilities(of: candidates.map(\.tokens), after: prompt, scorer: scorer)
            for i in ranked.indices {
                ranked[i].logProbability = sums[i]
                ranked[i].score = sums[i] / Float(pow(Double(max(1, candidates[i].tokens.count)), exponent))
            }
        case .mbr:
            let prepared = candidates.map { utilityMeasure.prepare(text: tokenizer?.decode($0.tokens) ?? "", tokens: $0.tokens) }
            for i in ranked.indices {
                var total = 0.0
                for j in prepared.indices where j != i { total += utilityMeasure.score(prepared[i], against: prepared[j]) }
                ranked[i].score = Float(candidates.count > 1 ? total / Double(candidates.count - 1) : 1)
            }
        case .reward:
            guard let judge else { throw OperatorError(.invalidParameter, at: "reward", "by: reward needs the reward node that judges the candidates") }
            for i in ranked.indices {
                let mean = Double(candidates[i].logProbability) / Double(max(1, candidates[i].tokens.count))
                ranked[i].score = Float(try judge.reward(candidates[i].tokens, meanLogProbability: mean))
            }
        }
        // Stable: among equal scores the search's order stands.
        return FrontierCandidate.bestFirst(ranked)
    }

    /// Most tree nodes per scoring pass: candidates are packed into chunks of at most this many
    /// (a longer candidate goes alone).
    static let nodesPerPass = 512

    /// Σ log p(token | prompt, earlier tokens) of each candidate under the scorer: candidates
    /// packed into token trees (shared prefixes merged), one pass per tree.
    /// - Parameters:
    ///   - candidates: the token sequences.
    ///   - prompt: what they continue.
    ///   - scorer: the model.
    /// - Returns: each candidate's summed log-probability.
    /// - Throws: the model's errors.
    public static func logProbabilities(of candidates: [[Int32]], after prompt: [Int32], scorer: any TreeScorer) throws -> [Float] {
        var sums = Array(repeating: Float(0), count: candidates.count)
        var start = 0
        while start < candidates.count {
            // Build one trie from as many candidates as fit.
            var tree = TokenTree()
            var child: [Int: [Int32: Int]] = [:]  // parent node (-1: root) → token → node
            var paths: [(candidate: Int, nodes: [Int])] = []
            var end = start
            while end < candidates.count {
                let tokens = candidates[end]
                var parent = -1, shared = 0
                for token in tokens {
                    guard let next = child[parent]?[token] else { break }
                    parent = next
                    shared += 1
                }
                if end > start, tree.count + tokens.count - shared > nodesPerPass { break }
                var nodes: [Int] = []
                parent = -1
                for token in tokens {
                    if let existing = child[parent]?[token] {
                        parent = existing
                    } else {
                        try tree.append(token, parent: parent, source: "rerank")
                        child[parent, default: [:]][token] = tree.count - 1
                        parent = tree.count - 1
                    }
                    nodes.append(parent)
                }
                paths.append((end, nodes))
                end += 1
            }
            let rows = try scorer.score(context: prompt, tree: tree)
            var logSoftmax: [Int: [Float]] = [:]  // row index → log-probabilities, computed once per row
            for (candidate, nodes) in paths {
                var sum: Float = 0
                for position in nodes.indices {
                    // The token at `position` is scored by its parent's row: the root's is row 0, node k's row k + 1.
                    let row = position == 0 ? 0 : nodes[position - 1] + 1
                    if logSoftmax[row] == nil { logSoftmax[row] = try Distribution.logSoftmax(rows[row]) }
                    sum += logSoftmax[row]![Int(candidates[candidate][position])]
                }
                sums[candidate] = sum
            }
            start = end
        }
        return sums
    }
}

/// `utility:` names a measure by its raw value.
extension SentenceUtility: ParameterEnumeration {}
