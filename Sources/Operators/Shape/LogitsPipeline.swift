/// The `shape` → `select` half of a step: the logits processors of a `SamplingSettings` in the order
/// transformers applies them, then argmax or a seeded draw.
///
/// Order (transformers 5 `GenerationMixin._get_logits_processor`, checked by
/// `tools/oracle/make_operator_fixtures.py`): repetition penalty, then the presence/frequency
/// penalties (not in transformers; vLLM applies them with the repetition penalty, before
/// temperature), then `no_repeat_ngram_size` (after the repetition penalty, as transformers has
/// it), then token masks (`suppress_tokens`), then — only when sampling — temperature,
/// top-k, top-p, min-p, typical, epsilon, eta. Greedy decoding skips the sampling warpers, as
/// transformers does with `do_sample=False`.
public struct LogitsPipeline: Sendable {
    /// The settings the pipeline was built from.
    public let settings: SamplingSettings
    /// The processors, in application order.
    public let processors: [any LogitsProcessor]

    /// Builds the processors that `settings` turns on.
    /// - Parameter settings: the node's settings.
    /// - Throws: `OperatorError.invalidParameter` for any setting outside its range.
    public init(_ settings: SamplingSettings) throws {
        self.settings = settings
        try OperatorError.require("temperature", settings.temperature, in: 0..., "≥ 0 (0 = greedy)")
        try OperatorError.require("top_k", settings.topK, in: 0..., "≥ 0 (0 = off)")
        // Checked whatever the mode, so a typo is reported even where greedy decoding ignores the knob.
        try OperatorError.require("top_p", settings.topP, in: Float.leastNonzeroMagnitude...1, "in (0, 1]")
        try OperatorError.require("min_p", settings.minP, in: 0...1, "in [0, 1]")
        // transformers silently ignores typical_p > 1 and cutoffs ≥ 1; a graph gets an error instead.
        try OperatorError.require("typical_p", settings.typicalP, in: Float.leastNonzeroMagnitude...1, "in (0, 1] (1 = off)")
        try OperatorError.require("epsilon_cutoff", settings.epsilonCutoff, in: 0..<1, "in [0, 1) (0 = off)")
        try OperatorError.require("eta_cutoff", settings.etaCutoff, in: 0..<1, "in [0, 1) (0 = off)")
        try OperatorError.require("min_tokens_to_keep", settings.minTokensToKeep, in: 1..., "≥ 1")
        try OperatorError.require("no_repeat_ngram_size", settings.noRepeatNGramSize, in: 0..., "≥ 0 (0 = off)")
        var list: [any LogitsProcessor] = []
        if settings.repetitionPenalty != 1 { list.append(try RepetitionPenaltyProcessor(penalty: settings.repetitionPenalty)) }
        if settings.presencePenalty != 0 || settings.frequencyPenalty != 0 {
            list.append(try OccurrencePenaltyProcessor(presence: settings.presencePenalty, frequency: settings.frequencyPenalty))
        }
        if settings.noRepeatNGramSize > 0 { list.append(try NoRepeatNGramProcessor(size: settings.noRepeatNGramSize)) }
        if !settings.suppressedTokens.isEmpty { list.append(try TokenMaskProcessor(.forbid, tokens: settings.suppressedTokens)) }
        if !settings.isGreedy {
            if settings.temperature != 1 { list.append(try TemperatureProcessor(temperature: settings.temperature)) }
            if settings.topK != 0 { list.append(try TopKProcessor(k: settings.topK, minTokensToKeep: settings.minTokensToKeep)) }
            if settings.topP < 1 { list.append(try TopPProcessor(p: settings.topP, minTokensToKeep: settings.minTokensToKeep)) }
            if settings.minP > 0 { list.append(try MinPProcessor(minP: settings.minP, minTokensToKeep: settings.minTokensToKeep)) }
            if settings.typicalP < 1 { list.append(try TypicalProcessor(mass: settings.typicalP, minTokensToKeep: settings.minTokensToKeep)) }
            if settings.epsilonCutoff > 0 { list.append(try EpsilonProcessor(epsilon: settings.epsilonCutoff, minTokensToKeep: settings.minTokensToKeep)) }
            if settings.etaCutoff > 0 { list.append(try EtaProcessor(epsilon: settings.etaCutoff, minTokensToKeep: settings.minTokensToKeep)) }
        }
        processors = list
    }

    /// Applies every processor in order.
    /// - Parameters:
    ///   - logits: one row, rewritten in place.
    ///   - context: the tokens before the position.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        for processor in processors { processor.process(&logits, context: context) }
    }

    /// The next-token distribution the pipeline samples from: the softmax of the processed logits,
    /// or, when greedy, one-hot on their argmax — so a sampling verifier fed greedy settings
    /// accepts exactly what a greedy verifier accepts.
    /// - Parameters:
    ///   - logits: one row of raw logits.
    ///   - context: the tokens before the position.
    /// - Returns: probabilities summing to 1.
    /// - Throws: `OperatorError.invalidDistribution` when processing leaves no token.
    public func distribution(_ logits: [Float], context: LogitsContext) throws -> [Float] {
        var row = logits
        process(&row, context: context)
        if settings.isGreedy {
            var oneHot = [Float](repeating: 0, count: row.count)
            oneHot[try Distribution.argmax(row)] = 1
            return oneHot
        }
        return try Distribution.softmax(row)
    }

    /// Selects the next token: argmax when greedy, else one draw from `distribution`.
    /// - Parameters:
    ///   - logits: one row of raw logits.
    ///   - context: the tokens before the position.
    ///   - rng: the seeded generator; one draw is consumed when sampling, none when greedy.
    /// - Returns: the selected token.
    /// - Throws: `OperatorError.invalidDistribution` when processing leaves no token.
    public func select<R: RandomNumberGenerator>(_ logits: [Float], context: LogitsContext, using rng: inout R) throws -> Int32 {
        var row = logits
        process(&row, context: context)
        if settings.isGreedy { return Int32(try Distribution.argmax(row)) }
        return Int32(try Distribution.sample(try Distribution.softmax(row), using: &rng))
    }

    /// Next-token distributions for the root and every node of a scored tree, each shaped with its
    /// own history (context plus the draft path to the node), so penalties see what the hypothesis
    /// would have generated had it accepted that path.
    /// - Parameters:
    ///   - logits: `tree.count + 1` rows from a `TreeScorer`.
    ///   - context: the committed tokens before the root.
    ///   - tree: the scored tree.
    /// - Returns: one distribution per row.
    /// - Throws: `OperatorError.shapeMismatch` when the row count is wrong, and what
    ///   `distribution(_:context:)` throws.
    public func distributions(treeLogits logits: [[Float]], context: LogitsContext, tree: TokenTree) throws -> [[Float]] {
        guard logits.count == tree.count + 1 else {
            throw OperatorError(.shapeMismatch, at: "logits", "\(logits.count) rows for a tree of \(tree.count) nodes (expected \(tree.count + 1))")
        }
        if !processors.contains(where: \.readsContext) {
            return try logits.map { try distribution($0, context: context) }
        }
        return try logits.indices.map { row in
            try distribution(logits[row], context: context.extended(by: tree.tokens(to: row - 1)))
        }
    }
}
