/// The `shape` and `select` settings of a sampling node, as the graph language names them.
///
/// Defaults are the neutral values (transformers' `GenerationConfig` defaults except
/// `temperature`, which is 1 there too; 0 selects greedy decoding).
public struct SamplingSettings: Sendable, Equatable {
    /// 0 for greedy decoding (argmax after penalties and masks), else the sampling temperature.
    public var temperature: Float = 1
    /// Keep only the `topK` largest logits; 0 turns the filter off.
    public var topK: Int = 0
    /// Nucleus mass; 1 turns the filter off.
    public var topP: Float = 1
    /// Min-p fraction; 0 turns the filter off.
    public var minP: Float = 0
    /// Locally typical sampling mass (Meister et al. 2023); 1 turns the filter off.
    public var typicalP: Float = 1
    /// Epsilon sampling's probability floor (Hewitt et al. 2022); 0 turns the filter off.
    public var epsilonCutoff: Float = 0
    /// Eta sampling's `ε` (Hewitt et al. 2022); 0 turns the filter off.
    public var etaCutoff: Float = 0
    /// CTRL repetition penalty; 1 turns it off.
    public var repetitionPenalty: Float = 1
    /// OpenAI presence penalty; 0 turns it off.
    public var presencePenalty: Float = 0
    /// OpenAI frequency penalty; 0 turns it off.
    public var frequencyPenalty: Float = 0
    /// transformers' `no_repeat_ngram_size`: no n-gram of the context twice; 0 turns it off.
    public var noRepeatNGramSize: Int = 0
    /// Tokens never produced (transformers' `suppress_tokens`).
    public var suppressedTokens: [Int32] = []
    /// Tokens the truncation filters always keep (transformers' `min_tokens_to_keep`).
    public var minTokensToKeep: Int = 1

    /// Neutral settings: plain sampling at temperature 1.
    public init() {}

    /// Settings with the most used knobs.
    /// - Parameters:
    ///   - temperature: 0 for greedy.
    ///   - topK: 0 for off.
    ///   - topP: 1 for off.
    ///   - minP: 0 for off.
    public init(temperature: Float, topK: Int = 0, topP: Float = 1, minP: Float = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
    }

    /// Greedy decoding.
    public static let greedy = SamplingSettings(temperature: 0)

    /// Whether selection is argmax rather than a draw.
    public var isGreedy: Bool { temperature == 0 }
}
