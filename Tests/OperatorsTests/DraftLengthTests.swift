import Foundation
import Testing
@testable import Operators

/// The shared draft-length policy: transformers' heuristic schedule replayed by hand, and the
/// stopping rules' thresholds.
@Suite struct DraftLengthTests {
    /// transformers' `update_candidate_strategy` with the "heuristic" schedule: +2 when every
    /// candidate token matched, else −1 with a floor of 1. Replayed on an acceptance history.
    @Test func heuristicScheduleFollowsTransformers() throws {
        let policy = try DraftLength(schedule: .heuristic, initial: 5)
        // (proposed, accepted) per step, and the length transformers would use next.
        let history: [(Int, Int, Int)] = [(5, 5, 7), (7, 3, 6), (6, 0, 5), (5, 5, 7), (7, 7, 9), (9, 8, 8)]
        var length = policy.initial
        for (proposed, accepted, expected) in history {
            length = policy.next(after: length, proposed: proposed, accepted: accepted)
            #expect(length == expected)
        }
        // The floor, the ceiling, and steps where the drafter found nothing to propose.
        #expect(policy.next(after: 1, proposed: 1, accepted: 0) == 1)
        #expect(policy.next(after: DraftLength.longest - 1, proposed: 63, accepted: 63) == DraftLength.longest)
        #expect(policy.next(after: 4, proposed: 0, accepted: 0) == 4)
        let constant = try DraftLength(schedule: .constant, initial: 4)
        #expect(constant.next(after: 4, proposed: 4, accepted: 4) == 4)
        #expect(throws: OperatorError.self) { try DraftLength(schedule: .heuristic, initial: 0) }
    }

    @Test func commitsMoveOnlyTheirDrafter() throws {
        let policy = try DraftLength(schedule: .heuristic, initial: 3)
        var tree = TokenTree()
        try tree.append(1, parent: -1, source: "mine")
        try tree.append(2, parent: 0, source: "mine")
        try tree.append(3, parent: -1, source: "other")
        let state = policy.makeState()
        // Both of "mine" accepted: +2.
        policy.update(StepCommit(tree: tree, acceptedNodes: [0, 1], tokens: [1, 2, 9]), source: "mine", state: state)
        #expect(state.length == 5)
        // "other" was rejected while "mine" was not proposed at all on the accepted path: −1.
        policy.update(StepCommit(tree: tree, acceptedNodes: [2], tokens: [3, 9]), source: "mine", state: state)
        #expect(state.length == 4)
        let fork = try #require(state.fork() as? DraftLength.State)
        fork.length = 1
        #expect(state.length == 4, "a fork has its own length")
    }

    /// `schedule: optimal` takes the length of largest expected speedup, Leviathan et al.'s
    /// closed form (1 − α^{γ+1}) / ((1 − α)(1 + cγ)), for its acceptance estimate; free rows mean
    /// the longest draft.
    @Test func optimalLengthMaximisesTheExpectedSpeedup() throws {
        func closedForm(_ g: Int, _ a: Double, _ c: Double) -> Double { (1 - pow(a, Double(g + 1))) / ((1 - a) * (1 + c * Double(g))) }
        for c in [0.0, 0.05, 0.2, 0.6] {
            let policy = try DraftLength(schedule: .optimal, initial: 10, rowCost: c)
            for a in stride(from: 0.05, to: 1, by: 0.1) {
                let chosen = policy.optimalLength(acceptance: a)
                let best = (0...10).map { closedForm($0, a, c) }.max()!
                #expect(abs(closedForm(chosen, a, c) - best) < 1e-12, "α \(a), c \(c): length \(chosen)")
                if c == 0 { #expect(chosen == 10) }
            }
        }
        #expect(try DraftLength(schedule: .optimal, initial: 10, rowCost: 0.2).optimalLength(acceptance: 0.1) == 0)
        #expect(throws: OperatorError.self) { try DraftLength(schedule: .optimal, initial: 4, rowCost: -1) }
    }

    /// The gate: rejections drive the length to 0 (the drafter falls silent), a silent stretch of
    /// `probeInterval` steps brings one probe token, a rejected probe doubles the wait, and
    /// acceptances bring the length back.
    @Test func optimalScheduleGatesAndProbes() throws {
        let policy = try DraftLength(schedule: .optimal, initial: 6, rowCost: 0.2)
        let state = policy.makeState()
        #expect(state.length == policy.optimalLength(acceptance: 0.5) && state.length > 0)
        func step(proposed: Int, accepted: Int) throws {
            var tree = TokenTree()
            for i in 0..<proposed { try tree.append(Int32(i), parent: i - 1, source: "mine") }
            let kept = Array(0..<accepted)
            policy.update(StepCommit(tree: tree, acceptedNodes: kept, tokens: kept.map(Int32.init) + [99]), source: "mine", state: state)
        }
        var steps = 0
        while state.length > 0 && steps < 50 { try step(proposed: state.length, accepted: 0); steps += 1 }
        #expect(state.length == 0 && steps < 20, "rejections silence the drafter (\(steps) steps)")
        for _ in 1..<DraftLength.probeInterval { try step(proposed: 0, accepted: 0); #expect(state.length == 0) }
        try step(proposed: 0, accepted: 0)
        #expect(state.length == 1, "a probe after \(DraftLength.probeInterval) silent steps")
        // A rejected probe doubles the wait before the next.
        try step(proposed: 1, accepted: 0)
        var silentSteps = 0
        while state.length == 0 && silentSteps < 100 { try step(proposed: 0, accepted: 0); silentSteps += 1 }
        #expect(silentSteps == 2 * DraftLength.probeInterval && state.length == 1)
        for _ in 0..<12 { try step(proposed: max(state.length, 1), accepted: max(state.length, 1)) }
        #expect(state.length == 6, "acceptances restore the longest draft")
    }

    @Test func stoppingRules() {
        let uniform4: [Float] = [0.25, 0.25, 0.25, 0.25]  // entropy ln 4 ≈ 1.386
        let peaked: [Float] = [0.97, 0.01, 0.01, 0.01]     // ≈ 0.168
        let rules = DraftStopping(maxEntropy: 1.0, maxRejection: 0.5)
        #expect(rules.stopsBefore(uniform4))
        #expect(!rules.stopsBefore(peaked))
        #expect(!rules.stopsAfter(confidence: 0.6))
        #expect(rules.stopsAfter(confidence: 0.4))
        let none = DraftStopping()
        #expect(!none.stopsBefore(uniform4) && !none.stopsAfter(confidence: 0))
    }
}

/// SWIFT's skip-set search: the sets it starts from and moves between.
@Suite struct SkipSetSearchTests {
    @Test func setsKeepTheirSizeAndStayInTheModel() throws {
        let search = try SkipSetSearch(ratio: 0.4, steps: 8, window: 16)
        for total in [2, 6, 30] {
            let initial = search.initialSet(layers: total)
            let expected = min(total - 1, max(1, Int((Double(total) * 0.4).rounded())))
            #expect(initial.count == expected, "\(total) layers")
            #expect(initial.allSatisfy { (0..<total).contains($0) })
            var rng = Xoshiro256StarStar(seed: UInt64(total))
            var set = initial
            for _ in 0..<50 {
                let next = search.mutate(set, layers: total, using: &rng)
                #expect(next.count == set.count && next.allSatisfy { (0..<total).contains($0) })
                #expect(next.symmetricDifference(set).count <= 2, "one swap at a time")
                set = next
            }
        }
        #expect(try SkipSetSearch(ratio: 0.5, steps: 1, window: 1).initialSet(layers: 30).count == 15)
        #expect(throws: OperatorError.self) { try SkipSetSearch(ratio: 1, steps: 1, window: 1) }
        #expect(throws: OperatorError.self) { try SkipSetSearch(ratio: 0.3, steps: 1, window: 0) }
    }

    @Test func matchesCountGreedyHits() throws {
        let rows: [[Float]] = [[0, 5, 1], [2, 1, 0], [0, 0, 9]]
        #expect(try SkipSetSearch.matches((rows, [1, 0, 1])) == 2)
        #expect(try SkipSetSearch.matches(([], [])) == 0)
    }
}

/// SWIFT's Bayesian proposals (`SkipSetBayes`): the Gaussian process reproduces what it was shown
/// and proposes where the scores say the good layers are.
@Suite struct SkipSetBayesTests {
    /// At an observed point the posterior mean is the observation (up to the noise term) and the
    /// deviation small; far from every observation the deviation returns to the prior's.
    @Test func posteriorInterpolatesTheObservations() throws {
        var gp = SkipSetBayes()
        let points: [[Double]] = [[0, 0, 1, 1], [1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]]
        let scores = [0.9, 0.1, 0.5, 0.4]
        for (p, s) in zip(points, scores) { gp.observe(p, score: s) }
        let posterior = try #require(gp.posterior())
        let spread = (scores.map { ($0 - 0.475) * ($0 - 0.475) }.reduce(0, +) / 4).squareRoot()
        for (p, s) in zip(points, scores) {
            let (mean, deviation) = posterior.predict(p)
            #expect(abs(mean - s) < 0.05, "mean \(mean) at a point scored \(s)")
            #expect(deviation < 0.2 * spread)
        }
        let far = posterior.predict([10, -10, 10, -10])
        #expect(abs(far.mean - 0.475) < 1e-6 && abs(far.deviation - spread) < 1e-6)
    }

    /// When skipping layers 0–2 scores well and skipping 3–5 badly, the proposal skips the good
    /// layers; without observations there is no proposal.
    @Test func proposalFollowsTheScores() {
        var rng = Xoshiro256StarStar(seed: 7)
        var gp = SkipSetBayes()
        #expect(gp.propose(count: 3, layers: 6, using: &rng) == nil)
        // Score = how many of layers 0, 1, 2 a set skips, over random three-layer sets.
        for _ in 0..<24 {
            let set = Set((0..<6).shuffled(using: &rng).prefix(3))
            gp.observe(SkipSetBayes.point(of: set, layers: 6), score: Double(set.intersection([0, 1, 2]).count) / 3)
        }
        var hits = 0
        for _ in 0..<5 {
            let proposal = gp.propose(count: 3, layers: 6, using: &rng)!
            #expect(proposal.skipped.count == 3 && proposal.point.count == 6)
            hits += proposal.skipped.intersection([0, 1, 2]).count
        }
        #expect(hits >= 12, "\(hits) of 15 proposed layers among the good ones")
    }

    /// The Cholesky solve inverts the kernel matrix it factors.
    @Test func choleskySolves() throws {
        let a: [[Double]] = [[4, 2, 0.4], [2, 5, 1], [0.4, 1, 3]]
        let l = try #require(SkipSetBayes.cholesky(a))
        let b = [1.0, -2, 0.5]
        let x = SkipSetBayes.solve(l, SkipSetBayes.solve(l, b), transposed: true)
        for i in 0..<3 {
            #expect(abs((0..<3).reduce(0) { $0 + a[i][$1] * x[$1] } - b[i]) < 1e-12)
        }
        #expect(SkipSetBayes.cholesky([[1, 2], [2, 1]]) == nil)
    }
}
