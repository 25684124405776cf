import Foundation
import Graph
import ModelRuntime
import Operators
import Testing
@testable import Engine

/// graphs/lookback.yaml (`score.lookback`, Xu et al. 2023) against Algorithm 1 of the paper,
/// computed here without the engine: one forward per position on a fresh sequence, each candidate's
/// next distribution from a fork of it, every KL divergence in Double over the whole vocabulary.
@Suite struct LookBackTests {
    static let newTokens = 32
    static let limits = ("limits: { max_new_tokens: 256 }", "limits: { max_new_tokens: \(newTokens), ignore_eos: true }")
    static let model = try! DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-target").model
    static let prompts = ContrastiveGraphTests.prompts

    static func logSoftmax(_ row: [Float]) -> [Double] { Distribution.logSoftmaxDouble(row.map(Double.init)) }

    /// The smallest `KL(p ‖ q)` over `references`, from log-probabilities.
    static func nearest(_ p: [Double], _ references: some Collection<[Double]>) -> Double {
        let probabilities = p.map { exp($0) }
        var best = Double.infinity
        for q in references {
            var sum = 0.0
            for i in p.indices { sum += probabilities[i] * (p[i] - q[i]) }
            best = min(best, sum)
        }
        return best
    }

    /// What one alarm step computes: each candidate's smallest KL to the prompt's distributions.
    struct Alarm { var candidates: [Int32]; var divergences: [Double] }

    /// Look-back's tokens by Algorithm 1, with `sample` at temperature 0 (the candidate nearest the
    /// prompt, the lower id among equals), and each step's alarm if it sounded.
    static func reference(_ prompt: [Int32], topK: Int, alpha: Double, window: Int = 128) throws -> (tokens: [Int32], alarms: [Alarm?]) {
        let sequence = model.makeSequence()
        let first = try model.forward([ForwardItem(sequence: sequence, tokens: prompt, outputs: .all)])[0]
        // Distributions after each position; the prompt's but its last are the coherence reference.
        var positions = (0..<prompt.count).map { logSoftmax(Array(first.row($0))) }
        let prefix = Array(positions.dropLast())
        var tokens: [Int32] = [], alarms: [Alarm?] = []
        while tokens.count < newTokens {
            let current = positions.last!
            let nearest = Self.nearest(current, positions.dropLast().suffix(window))
            var next = Int32(current.indices.max { current[$0] < current[$1] || (current[$0] == current[$1] && $0 > $1) }!)
            var alarm: Alarm?
            if nearest <= alpha, !prefix.isEmpty {
                let candidates = current.indices.sorted { current[$0] > current[$1] || (current[$0] == current[$1] && $0 < $1) }
                    .prefix(topK).map { Int32($0) }
                let divergences = try candidates.map { token -> Double in
                    let row = try model.forward([ForwardItem(sequence: sequence.fork(), tokens: [token], outputs: .last)])[0].row(0)
                    let after = logSoftmax(Array(row))
                    return Self.nearest(after, prefix)
                }
                next = zip(candidates, divergences).min { ($0.1, $0.0) < ($1.1, $1.0) }!.0
                alarm = Alarm(candidates: candidates, divergences: divergences)
            }
            tokens.append(next)
            alarms.append(alarm)
            positions.append(logSoftmax(Array(try model.forward([ForwardItem(sequence: sequence, tokens: [next], outputs: .last)])[0].row(0))))
        }
        return (tokens, alarms)
    }

    static func session(_ edits: [(String, String)]) throws -> Session {
        try Session(plan: try DemoGraphs.plan("lookback.yaml", edits: [limits] + edits), resources: DemoGraphs.resources)
    }

    /// At temperature 0 the graph emits Algorithm 1's choices token for token, leaves greedy
    /// decoding where the alarm sounds, and costs one target call per token.
    @Test func graphFollowsAlgorithmOne() throws {
        let session = try Self.session([("temperature: 1", "temperature: 0")])
        var alarms = 0, changed = 0
        var readings = (lookBack: ContinuationReading(), greedy: ContinuationReading())
        for prompt in Self.prompts {
            let expected = try Self.reference(prompt, topK: 8, alpha: 0.9)
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == expected.tokens, "prompt \(prompt)")
            // A pass per step: the prompt's, a decode or an alarm's candidates, whose chosen row
            // serves the next step; an alarm on the last step is the one pass more.
            #expect(result.metrics.targetCalls <= result.metrics.steps + 1)
            alarms += expected.alarms.compactMap { $0 }.count
            let greedy = try GraphGreedyIdentityTests.reference(prompt, model: Self.model, newTokens: Self.newTokens)
            changed += expected.tokens == greedy ? 0 : 1
            readings.lookBack = readings.lookBack + (try session.read(result.tokens, after: prompt))
            readings.greedy = readings.greedy + (try session.read(greedy, after: prompt))
        }
        // The paper's claim on this model: fewer repeated n-grams than greedy decoding.
        #expect(readings.lookBack.diversity > readings.greedy.diversity,
                "diversity \(readings.lookBack.diversity) against greedy's \(readings.greedy.diversity)")
        #expect(alarms > 0 && alarms < Self.prompts.count * Self.newTokens, "the alarm should sound on some steps, not all: \(alarms)")
        #expect(changed > 0, "look-back never left greedy decoding, so the test would not see its rule missing")
    }

    /// With one candidate the alarm has nothing to choose between: every step is greedy, through
    /// the alarm's tree pass and the reuse of its row, whatever the threshold.
    @Test func oneCandidateIsGreedy() throws {
        let session = try Self.session([("top_k: 8, alpha: 0.9", "top_k: 1, alpha: 1000")])
        for prompt in Self.prompts.prefix(3) {
            let greedy = try GraphGreedyIdentityTests.reference(prompt, model: Self.model, newTokens: Self.newTokens)
            #expect(try session.run(prompt: prompt).tokens == greedy, "prompt \(prompt)")
        }
    }

    /// Where the alarm sounds, the op's output is the paper's distribution: −KL to the prompt at
    /// the top_k candidates (so `sample` at temperature 1 draws softmax(−KL)), −∞ elsewhere; where
    /// it does not, a single 0 at the greedy token.
    @Test func outputIsTheNegatedDivergence() throws {
        let plan = try DemoGraphs.plan("lookback.yaml")
        let node = try #require(plan.node(named: "look"))
        let op = try LookBackOp(node: node, environment: NoResourcesEnvironment(plan: plan))
        let service = try DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-target")
        var checkedAlarm = false, checkedGreedy = false
        for prompt in Self.prompts.prefix(3) {
            let expected = try Self.reference(prompt, topK: 8, alpha: 0.9)
            let scorer = ModelSequenceScorer(service: service)
            let state = try op.makeState()
            var rng = Xoshiro256StarStar(seed: 0)
            var context = prompt
            for (token, alarm) in zip(expected.tokens, expected.alarms) {
                let input = StepInput(history: LogitsContext(tokens: context, promptCount: prompt.count), inputs: [:],
                                      models: ["model": scorer], state: state)
                guard case .scores(_, let rows) = try op.run(input, rng: &rng) else { Issue.record("not scores"); return }
                let finite = rows[0].indices.filter { rows[0][$0] > -.infinity }
                if let alarm {
                    #expect(Set(finite) == Set(alarm.candidates.map(Int.init)))
                    for (candidate, value) in zip(alarm.candidates, alarm.divergences) {
                        #expect(abs(Double(rows[0][Int(candidate)]) + value) <= 1e-3 * max(1, value), "candidate \(candidate)")
                    }
                    checkedAlarm = true
                } else {
                    #expect(finite == [Int(token)] && rows[0][Int(token)] == 0)
                    checkedGreedy = true
                }
                context.append(token)
            }
        }
        #expect(checkedAlarm && checkedGreedy)
    }

    /// rep-n counts the n-grams that repeat an earlier one of the same continuation; readings pool
    /// by n-gram.
    @Test func repetitionCountsRepeatedNGrams() {
        var reading = ContinuationReading()
        reading.countRepetitions(of: [1, 2, 1, 2, 1, 2, 3])
        // Bigrams 12 21 12 21 12 23: three repeat; trigrams 121 212 121 212 123: two; 4-grams: one of four.
        #expect(reading.repetition(2) == 0.5 && reading.repetition(3) == 0.4 && reading.repetition(4) == 0.25)
        #expect(abs(reading.diversity - 0.5 * 0.6 * 0.75) < 1e-12)
        var other = ContinuationReading()
        other.countRepetitions(of: [5, 6])
        #expect((reading + other).repetition(2) == 3.0 / 7.0 && ContinuationReading().diversity == 1)
    }
}
