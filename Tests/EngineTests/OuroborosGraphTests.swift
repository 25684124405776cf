import Foundation
import Operators
import Testing
@testable import Engine

/// graphs/ouroboros.yaml on the demo pair, beyond greedy identity (GraphGreedyIdentityTests, on
/// the fixtures, whose unrelated draft model is rarely accepted far enough for the phrases below
/// its chain to count): the pool's phrases are accepted past the draft model's chain, and the
/// pool outlives a run.
@Suite struct OuroborosGraphTests {
    static let newTokens = 48

    static func session(_ file: String) throws -> Session {
        try Session(plan: try DemoGraphs.plan(file), resources: DemoGraphs.resources)
    }

    /// The first lines of examples/prompts.txt, encoded.
    static func prompts(_ session: Session) throws -> [[Int32]] {
        try DemoGraphs.prompt("prompts.txt").split(separator: "\n").prefix(4).map { try session.encode(String($0)) }
    }

    @Test func phrasesLengthenAcceptedDrafts() throws {
        let ouroboros = try Self.session("ouroboros.yaml"), speculative = try Self.session("speculative.yaml")
        // The draft model proposes 4 tokens: acceptance at depth 5 and beyond is the pool's.
        let chain = 4
        var calls = (ouroboros: 0, speculative: 0), pastTheChain = 0
        for prompt in try Self.prompts(ouroboros) {
            let a = try ouroboros.run(prompt: prompt, maxNewTokens: Self.newTokens)
            let b = try speculative.run(prompt: prompt, maxNewTokens: Self.newTokens)
            #expect(a.tokens == b.tokens)
            calls.ouroboros += a.metrics.targetCalls
            calls.speculative += b.metrics.targetCalls
            pastTheChain += a.metrics.acceptedByPosition.dropFirst(chain).reduce(0, +)
        }
        #expect(pastTheChain > 0, "no phrase was accepted past the draft model's chain")
        #expect(calls.ouroboros < calls.speculative, "\(calls.ouroboros) target calls against speculative decoding's \(calls.speculative)")
    }

    @Test func thePoolOutlivesARun() throws {
        // graphs/phrases.yaml, the op alone: the same prompt twice in one session, and the second
        // run starts with the first one's phrases.
        let session = try Self.session("phrases.yaml")
        let prompt = try Self.prompts(session)[0]
        let first = try session.run(prompt: prompt, maxNewTokens: Self.newTokens)
        let second = try session.run(prompt: prompt, maxNewTokens: Self.newTokens)
        #expect(second.tokens == first.tokens)
        #expect(second.metrics.targetCalls < first.metrics.targetCalls)
    }
}
