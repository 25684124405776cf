import Operators

/// What a session reports as it runs: one event per step that emitted tokens.
public struct SessionEvent: Sendable, Codable, Equatable {
    /// The step (0-based).
    public var step: Int
    /// Tokens emitted by the step.
    public var tokens: [Int32]
    /// Their text, as far as it is complete (a character split across steps appears whole in the
    /// later step; a stop string is never emitted).
    public var text: String
    /// Draft tokens the verifier accepted this step (the step emits these plus one of its own).
    public var accepted: Int
    /// Draft tokens proposed this step (tree nodes scored).
    public var proposed: Int
    /// Why the run ended, on its last event: `eos`, `max_tokens`, `stop`, `search`, or `closed`
    /// (the budget cut a constrained value and the constraint closed it: the event's tokens end
    /// with `closingTokens` tokens the constraint appended).
    public var finishReason: String?
    /// On a `closed` run's last event: how many tokens the constraint appended to close the output.
    public var closingTokens: Int?
    /// One entry per token of `tokens`, when the run was asked for log-probabilities
    /// (`Session.run(…, logProbabilities:)`); `nil` otherwise.
    public var logProbabilities: [TokenLogProbability]?

    /// Creates an event.
    /// - Parameters:
    ///   - step: the step (0-based).
    ///   - tokens: the tokens emitted.
    ///   - text: their text.
    ///   - accepted: draft tokens accepted.
    ///   - proposed: draft tokens proposed.
    ///   - finishReason: why the run ended, on its last event.
    ///   - closingTokens: on a `closed` run's last event, the tokens appended to close it.
    ///   - logProbabilities: one entry per token, when the run was asked for them.
    public init(step: Int, tokens: [Int32], text: String, accepted: Int, proposed: Int, finishReason: String?,
                closingTokens: Int? = nil, logProbabilities: [TokenLogProbability]? = nil) {
        self.step = step
        self.tokens = tokens
        self.text = text
        self.accepted = accepted
        self.proposed = proposed
        self.finishReason = finishReason
        self.closingTokens = closingTokens
        self.logProbabilities = logProbabilities
    }
}

/// The outcome of a run.
public struct RunResult: Sendable {
    /// Every emitted token.
    public var tokens: [Int32]
    /// Their text (empty without a tokenizer).
    public var text: String
    /// Why it ended.
    public var finishReason: String
    /// What it measured.
    public var metrics: RunMetrics
    /// A search's finished hypotheses, best first — the first is `tokens` (before stop strings cut
    /// it); empty when the output is not a search.
    public var candidates: [FrontierCandidate] = []
    /// The lattice a lattice search grew (`search.lattice`), `nil` otherwise.
    public var lattice: SearchLattice?
    /// One entry per token of `tokens`, when the run was asked for log-probabilities; `nil`
    /// otherwise.
    public var logProbabilities: [TokenLogProbability]?
}
