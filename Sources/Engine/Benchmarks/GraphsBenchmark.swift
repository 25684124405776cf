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

        /// Adds another run's counts (speedup is set once all are in).
        mutating func add(_ other: Row) {
            metrics.tokens += other.metrics.tokens
            metrics.targetCalls += other.metrics.targetCalls
            metrics.steps += other.metrics.steps
            metrics.seconds += other.metrics.seconds
            metrics.frontierTokens += other.metrics.frontierTokens
            metrics.widestFrontier = max(metrics.widestFrontier, other.metrics.widestFrontier)
            metrics.addCalls(of: other.metrics)
            identicalPrompts += other.identicalPrompts
            reading = reading + other.reading
        }
    }

    /// One category's rows (Spec-Bench's kinds of task), for prompts that name one.
    public struct Category: Sendable {
        /// The category's name.
        public var name: String
        /// Prompts in it.
        public var prompts: Int
        /// One row per session, over the category's prompts only (speedup against the first's there).
        public var rows: [Row]
    }

    /// Runs every prompt through every session and splits the figures by the prompts' categories.
    /// - Parameters:
    ///   - sessions: one per graph; the first is the baseline, and its target reads every output.
    ///   - prompts: prompt token ids (at least one).
    ///   - categories: per prompt, its category or nil (no split when every one is nil).
    ///   - maxTokens: new tokens per prompt, overriding each graph's limit, or nil.
    ///   - seed: the seed of every sampling node.
    ///   - progress: called after each prompt with (prompts done, prompts).
    /// - Returns: the overall rows, and per category (in order of first appearance) its rows.
    /// - Throws: `EngineError` when a run or reading fails.
    public static func run(sessions: [Session], prompts: [[Int32]], categories: [String?], maxTokens: Int?, seed: UInt64,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> (overall: [Row], categories: [Category]) {
        var names: [String] = []
        for case let name? in categories where !names.contains(name) { names.append(name) }
        var split = names.map { Category(name: $0, prompts: 0, rows: [Row](repeating: Row(), count: sessions.count)) }
        let overall = try run(sessions: sessions, prompts: prompts, maxTokens: maxTokens, seed: seed, progress: progress) { p, g, row in
            guard p < categories.count, let name = categories[p], let c = names.firstIndex(of: name) else { return }
            if g == 0 { split[c].prompts += 1 }
            split[c].rows[g].add(row)
        }
        for c in split.indices { finish(&split[c].rows) }
        return (overall, split)
    }

    /// Runs every prompt through every session.
    /// - Parameters:
    ///   - sessions: one per graph; the first is the baseline, and its target reads every output.
    ///   - prompts: prompt token ids (at least one).
    ///   - maxTokens: new tokens per prompt, overriding each graph's limit, or nil.
    ///   - seed: the seed of every sampling node.
    ///   - progress: called after each prompt with (prompts done, prompts).
    ///   - each: called with (prompt, graph, that run's row) after each run.
    /// - Returns: one row per session, in order.
    /// - Throws: `EngineError` when a run or reading fails.
    public static func run(sessions: [Session], prompts: [[Int32]], maxTokens: Int?, seed: UInt64,
                           progress: (Int, Int) -> Void = { _, _ in }, each: (Int, Int, Row) -> Void = { _, _, _ in }) throws -> [Row] {
        for session in sessions {
            _ = try session.run(prompt: prompts[0], maxNewTokens: min(maxTokens ?? warmUpTokens, warmUpTokens), seed: seed)
        }
        var rows = [Row](repeating: Row(), count: sessions.count)
        for (p, prompt) in prompts.enumerated() {
            var baseline: [Int32] = []
            for (g, session) in sessions.enumerated() {
                let result = try session.run(prompt: prompt, maxNewTokens: maxTokens, seed: seed)
                if g == 0 { baseline = result.tokens }
                var row = Row()
                row.identicalPrompts = result.tokens == baseline ? 1 : 0
                row.reading = try sessions[0].read(result.tokens, after: prompt)
                row.metrics = result.metrics
                rows[g].add(row)
                each(p, g, row)
            }
            progress(p + 1, prompts.count)
        }
        finish(&rows)
        return rows
    }

    /// Sets each row's speedup against the first's tokens/s.
    static func finish(_ rows: inout [Row]) {
        let base = rows.first?.metrics.tokensPerSecond ?? 0
        for g in rows.indices { rows[g].speedup = base > 0 ? rows[g].metrics.tokensPerSecond / base : 0 }
    }
}
