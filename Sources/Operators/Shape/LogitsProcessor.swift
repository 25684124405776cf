/// What a logits processor may look at besides the logits: the tokens before the position.
public struct LogitsContext: Sendable, Equatable {
    /// Every token before the scored position: prompt, generated tokens, and any accepted draft path.
    public var tokens: [Int32]
    /// How many of `tokens` are the prompt; the rest were generated. Penalties that count only
    /// generated tokens (presence, frequency) start here.
    public var promptCount: Int

    /// Creates a context.
    /// - Parameters:
    ///   - tokens: the tokens before the position.
    ///   - promptCount: how many of them are the prompt (clamped to `tokens.count`).
    public init(tokens: [Int32], promptCount: Int) {
        self.tokens = tokens
        self.promptCount = max(0, min(promptCount, tokens.count))
    }

    /// The generated part of `tokens`.
    public var generated: ArraySlice<Int32> { tokens[promptCount...] }

    /// The same context extended by a draft path, for shaping the logits of a tree node.
    /// - Parameter path: tokens accepted before the node.
    /// - Returns: a context whose generated part ends with `path`.
    public func extended(by path: [Int32]) -> LogitsContext {
        LogitsContext(tokens: tokens + path, promptCount: promptCount)
    }
}

/// One stage of the `shape` step: a pure function from logits (and context) to logits.
///
/// Filters set removed tokens to `-inf` (transformers' `filter_value`), so a later softmax gives them
/// exactly zero probability.
public protocol LogitsProcessor: Sendable {
    /// The processor's name in the graph language (`temperature`, `top_k`…).
    var name: String { get }

    /// Rewrites one row of logits in place.
    /// - Parameters:
    ///   - logits: one row of `vocabularySize` logits.
    ///   - context: the tokens before the position.
    func process(_ logits: inout [Float], context: LogitsContext)

    /// Whether the result depends on the context's tokens (penalties, n-gram bans): a tree's rows
    /// then each need their own path's context.
    var readsContext: Bool { get }
}

extension LogitsProcessor {
    /// Most processors read only the row.
    public var readsContext: Bool { false }
}
