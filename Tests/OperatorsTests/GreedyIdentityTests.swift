import Testing
@testable import Operators

/// Speculative greedy ≡ plain greedy, token for token: 24 prompts × 128 tokens on a trigram table
/// model, for prompt-lookup drafts, draft-model chains and both merged as a tree — with and without
/// a repetition penalty (which makes every tree node's shaping depend on its own path).
@Suite struct GreedyIdentityTests {
    static let target = try! TableModel(vocabularySize: 40, order: 3, seed: 21, scale: 2)
    static let draft = target.perturbed(seed: 22, noise: 1.2)
    static let newTokens = 128
    static let prompts: [[Int32]] = {
        var rng = Xoshiro256StarStar(seed: 23)
        return (0..<24).map { i in
            // Half the prompts repeat a phrase, so lookup has something to find from the start.
            let phrase = (0..<(3 + i % 5)).map { _ in Int32(rng.next() % 40) }
            return i % 2 == 0 ? phrase + phrase + [phrase[0]] : phrase + (0..<6).map { _ in Int32(rng.next() % 40) }
        }
    }()

    enum Method: String, CaseIterable, Sendable { case lookup, draftChain, mergedTree }

    static func plainGreedy(_ prompt: [Int32], pipeline: LogitsPipeline) throws -> [Int32] {
        var context = prompt
        var rng = Xoshiro256StarStar(seed: 0)  // unused by greedy selection
        while context.count < prompt.count + newTokens {
            context.append(try pipeline.select(try target.logits(after: context), context: LogitsContext(tokens: context, promptCount: prompt.count), using: &rng))
        }
        return Array(context[prompt.count...])
    }

    /// Returns the generated tokens and the number of target calls.
    static func speculative(_ prompt: [Int32], method: Method, pipeline: LogitsPipeline) throws -> ([Int32], Int) {
        let lookup = try PromptLookupDrafter(minMatch: 1, maxMatch: 3, maxTokens: 6)
        let drafter = try ModelDrafter(tokens: 5, settings: pipeline.settings)
        var rng = Xoshiro256StarStar(seed: 0)
        var context = prompt
        var calls = 0
        while context.count < prompt.count + newTokens {
            let history = LogitsContext(tokens: context, promptCount: prompt.count)
            let tree: TokenTree
            switch method {
            case .lookup: tree = lookup.draft(context: context)
            case .draftChain: tree = try drafter.draft(model: draft, context: history, using: &rng)
            case .mergedTree:
                tree = try TokenTree.merged([lookup.draft(context: context), drafter.draft(model: draft, context: history, using: &rng)],
                                            budget: 8, rule: .deduplicateAll)
            }
            let rows = try pipeline.distributions(treeLogits: try target.score(context: context, tree: tree), context: history, tree: tree)
            calls += 1
            context += try GreedyVerifier.verify(tree: tree, rows: rows).tokens
        }
        return (Array(context[prompt.count..<(prompt.count + newTokens)]), calls)
    }

    @Test(arguments: Method.allCases, [Float(1), 1.3])
    func matchesPlainGreedy(method: Method, repetitionPenalty: Float) throws {
        var settings = SamplingSettings.greedy
        settings.repetitionPenalty = repetitionPenalty
        let pipeline = try LogitsPipeline(settings)
        var calls = 0
        for prompt in Self.prompts {
            let (tokens, used) = try Self.speculative(prompt, method: method, pipeline: pipeline)
            #expect(tokens == (try Self.plainGreedy(prompt, pipeline: pipeline)), "\(method) prompt \(prompt)")
            calls += used
        }
        let mat = Double(Self.prompts.count * Self.newTokens) / Double(calls)
        print("greedy identity \(method) repetition_penalty=\(repetitionPenalty): \(Self.prompts.count)×\(Self.newTokens) tokens, MAT \(mat)")
        #expect(mat > 1, "speculation should commit more than one token per target call")
    }
}
