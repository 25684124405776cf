/// `decograph bench graphs`: several graphs' sessions on the same prompts, interleaved, against the
/// first. Every prompt is run by every graph in turn (prompt-major, so load changes on the machine
/// hit all graphs alike) after one short warm-up run per graph. Each graph's output is also read
/// by the first graph's target at full depth, outside the timed runs: the quality of a lossy
/// graph against the model it approximates.
public enum GraphsBenchmark {
    /// New tokens of each warm-up run: enough to load weights into the page cache and fault the
    /// KV pools in.
    public static let warmUpTokens = 8

    /// One graph's figures over all prompts.
    public struct Row: Sendable {
        /// Tokens, target calls, steps and seconds, summed over the prompts.
        public var metrics = RunMetrics()
        /// Prompts whose tokens equal the first graph's.
        public var identicalPrompts = 0
        /// The first graph's target reading this graph's outputs (agreement, perplexity).
        public var reading = ContinuationReading()
        /// Tokens/s over the first graph's (0 when the first made none).
        public var speedup = 0.0
    }

    /// Runs every prompt through every session.
    /// - Parameters:
    ///   - sessions: one per graph; the first is the baseline, and its target reads every output.
    ///   - prompts: prompt token ids (at least one).
    ///   - maxTokens: new tokens per prompt, overriding each graph's limit, or nil.
    ///   - seed: the seed of every sampling node.
    ///   - progress: called after each prompt with (prompts done, prompts).
    /// - Returns: one row per session, in order.
    /// - Throws: `EngineError` when a run or reading fails.
    public static func run(sessions: [Session], prompts: [[Int32]], maxTokens: Int?, seed: UInt64,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> [Row] {
        for session in sessions {
            _ = try session.run(prompt: prompts[0], maxNewTokens: min(maxTokens ?? warmUpTokens, warmUpTokens), seed: seed)
        }
        var rows = [Row](repeating: Row(), count: sessions.count)
        for (p, prompt) in prompts.enumerated() {
            var baseline: [Int32] = []
            for (g, session) in sessions.enumerated() {
                let result = try session.run(prompt: prompt, maxNewTokens: maxTokens, seed: seed)
                if g == 0 { baseline = result.tokens }
                if result.tokens == baseline { rows[g].identicalPrompts += 1 }
                rows[g].reading = rows[g].reading + (try sessions[0].read(result.tokens, after: prompt))
                rows[g].metrics.tokens += result.metrics.tokens
                rows[g].metrics.targetCalls += result.metrics.targetCalls
                rows[g].metrics.steps += result.metrics.steps
                rows[g].metrics.seconds += result.metrics.seconds
            }
            progress(p + 1, prompts.count)
        }
        let base = rows.first?.metrics.tokensPerSecond ?? 0
        for g in rows.indices { rows[g].speedup = base > 0 ? rows[g].metrics.tokensPerSecond / base : 0 }
        return rows
    }
}
