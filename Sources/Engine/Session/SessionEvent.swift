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
    /// Why the run ended, on its last event: `eos`, `max_tokens`, `stop`, `search`.
    public var finishReason: String?
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
}
