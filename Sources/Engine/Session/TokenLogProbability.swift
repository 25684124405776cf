import Foundation
import ModelRuntime
import Operators

/// An emitted token's log-probability under the run's target: the log-softmax of the row the
/// target's `score` node gave the position before it — the model's own distribution, before any
/// sampling processor (temperature, top-p, penalties) or constraint mask, as vLLM's default
/// `raw_logprobs` and OpenAI's `logprobs` report. Under speculation the row is the verifier's
/// row for that position, which row independence makes the row plain decoding would have read.
public struct TokenLogProbability: Sendable, Codable, Equatable {
    /// One of the most likely tokens at the position.
    public struct Alternative: Sendable, Codable, Equatable {
        /// The token.
        public var token: Int32
        /// Its log-probability (natural log); `-infinity` for a token the row rules out.
        public var logProbability: Float

        /// Creates an alternative.
        public init(token: Int32, logProbability: Float) {
            self.token = token
            self.logProbability = logProbability
        }
    }

    /// The emitted token.
    public var token: Int32
    /// Its log-probability (natural log).
    public var logProbability: Float
    /// The position's most likely tokens, most likely first (as many as the run asked for).
    public var alternatives: [Alternative]

    /// Creates an entry.
    public init(token: Int32, logProbability: Float, alternatives: [Alternative]) {
        self.token = token
        self.logProbability = logProbability
        self.alternatives = alternatives
    }

    /// The entry of `token` read from a row of logits.
    /// - Parameters:
    ///   - token: the emitted token.
    ///   - logits: the position's row.
    ///   - top: how many alternatives to list.
    /// - Returns: the entry.
    /// - Throws: `OperatorError.invalidDistribution` for a row without a finite maximum.
    static func reading(_ token: Int32, logits: [Float], top: Int) throws -> TokenLogProbability {
        let logProbabilities = try Distribution.logSoftmax(logits)
        let alternatives = Distribution.topIndices(logProbabilities, top).map {
            Alternative(token: Int32($0), logProbability: logProbabilities[$0])
        }
        return TokenLogProbability(token: token, logProbability: logProbabilities[Int(token)], alternatives: alternatives)
    }

    /// The entries of a step's committed tokens from the target's scored tree: the first token is
    /// read at the root's row, each later one at the row of the tree node holding the token before
    /// it (the committed tokens are a path from the root, the last one possibly off the tree — the
    /// verifier's own token).
    /// - Parameters:
    ///   - committed: the step's tokens.
    ///   - tree: the tree the target scored.
    ///   - logits: its rows: the root's, then one per node.
    ///   - top: how many alternatives per entry.
    /// - Returns: one entry per committed token, or `nil` when the tokens do not follow the tree
    ///   (a verifier that committed what the target did not score).
    /// - Throws: `OperatorError.invalidDistribution` for a row without a finite maximum.
    static func readings(_ committed: [Int32], tree: TokenTree, logits: [[Float]], top: Int) throws -> [TokenLogProbability]? {
        let children = tree.childLists()
        var row = 0
        var entries: [TokenLogProbability] = []
        for (i, token) in committed.enumerated() {
            guard row < logits.count else { return nil }
            entries.append(try reading(token, logits: logits[row], top: top))
            guard i + 1 < committed.count else { break }
            guard let child = children[row].first(where: { tree.nodes[$0].token == token }) else { return nil }
            row = child + 1
        }
        return entries
    }
}

extension Session {
    /// A model's logits for each token of `continuation` after `prompt`, from a fresh sequence
    /// (the run's own caches are untouched): row i is the distribution `continuation[i]` was
    /// chosen from.
    /// - Parameters:
    ///   - continuation: tokens after the prompt (non-empty).
    ///   - prompt: the tokens before them (non-empty).
    ///   - name: the graph's model entry; the target when nil.
    ///   - layers: the layers to run; every layer when nil.
    /// - Returns: one row per continuation token.
    /// - Throws: the model's error.
    func fullDepthRows(of continuation: [Int32], after prompt: [Int32], model name: String? = nil, layers: LayerSelection? = nil) throws -> [[Float]] {
        let model = modelUses.first { $0.name == (name ?? targetModel) }!.service.model
        let sequence = model.makeSequence()
        defer { sequence.truncate(to: 0) }
        func forward(_ item: ForwardItem) throws -> Logits {
            try (layers.map { try model.forward([item], layers: $0) } ?? model.forward([item]))[0]
        }
        // Prompt rows are not read: no LM head over them.
        if prompt.count > 1 { _ = try forward(ForwardItem(sequence: sequence, tokens: Array(prompt.dropLast()), outputs: .none)) }
        let fed = [prompt.last!] + continuation.dropLast()
        let logits = try forward(ForwardItem(sequence: sequence, tokens: fed, outputs: .all))
        return continuation.indices.map { Array(logits.row($0)) }
    }

    /// The log-probabilities of a step's committed tokens, from the target score node's value.
    /// - Parameters:
    ///   - committed: the step's tokens.
    ///   - value: the target score node's value in the step.
    ///   - top: alternatives per entry.
    /// - Returns: one entry per token.
    /// - Throws: `EngineError` when the value does not cover the tokens.
    func logProbabilities(of committed: [Int32], in value: StepValue?, top: Int) throws -> [TokenLogProbability] {
        guard case .scores(let tree, let logits)? = value,
              let entries = try TokenLogProbability.readings(committed, tree: tree, logits: logits, top: top) else {
            throw EngineError("the target's scores do not cover the tokens the step committed, so their log-probabilities are unknown")
        }
        return entries
    }
}
