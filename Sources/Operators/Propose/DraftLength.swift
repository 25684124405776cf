import Foundation
import Graph

/// How many tokens a chain drafter proposes each step: a policy every drafter shares, declared
/// once (`DraftLength.schedule`, `DraftStopping.maxEntropy`, `DraftStopping.maxRejection`), not a
/// copy per drafter.
///
/// - `schedule: constant` proposes up to `tokens` every step.
/// - `schedule: heuristic` adapts the length to the run's acceptance as transformers' assisted
///   generation does (`num_assistant_tokens_schedule="heuristic"`): start at `tokens`, add 2 after a
///   step that accepted every drafted token, subtract 1 (never below 1) after one that did not —
///   DISCO-style dynamic speculation length without a trained classifier. Here the length also
///   stays at most `DraftLength.longest`, and it starts afresh with every run (transformers'
///   `heuristic_transient`), so runs of one session do not depend on each other's order.
/// - `schedule: optimal` picks each step the length γ that maximises Leviathan et al.'s (2023)
///   expected speedup `(1 − α^{γ+1}) / ((1 − α)(1 + row_cost · γ))`, where α, the chance that a
///   drafted token is accepted, is estimated from the run's commits (accepted tokens against
///   rejections, fading with `memory`, with a uniform prior) and `row_cost` is what one more
///   verification row costs against a one-row step on this machine (`decograph bench runtime`'s
///   verify-k against decode-1). When no length beats not drafting, the drafter is silent — the gate
///   every drafter shares — and after `probeInterval` silent steps it drafts one token to see
///   whether the text has changed; each probe that is rejected doubles the wait (up to
///   `longestWait`), an accepted token resets it, so text that never repeats costs few probes.
///
/// Drafters with draft distributions add two stopping rules that look only at what is already
/// drafted, so the draft length is a stopping time and speculative sampling stays exact:
/// - `max_entropy` (SVIP, Zhang et al. 2025, "Draft Model Knows When to Stop"): stop before a
///   position whose draft distribution has more than this entropy (nats): a high-entropy draft is
///   unlikely to be accepted;
/// - `max_rejection` (SpecDec++, Huang et al. 2024, without its trained head): stop once the
///   estimated probability that some drafted token is rejected, 1 − ∏ q(xᵢ) over the drafted
///   tokens' own draft probabilities, exceeds this value.
public struct DraftLength: Sendable, Equatable {
    /// The length schedules.
    public enum Schedule: String, Sendable, CaseIterable {
        /// Always `tokens`.
        case constant
        /// +2 after full acceptance, −1 otherwise (transformers' heuristic).
        case heuristic
        /// The length of largest expected speedup for the estimated acceptance and the row cost.
        case optimal
    }

    /// How much of the acceptance evidence a step keeps (a half-life of about 11 steps): the
    /// estimate follows the text as it moves between quoting and writing anew.
    static let memory = 0.94
    /// Silent steps after which `optimal` drafts one token to refresh its estimate.
    static let probeInterval = 8
    /// The longest wait between probes after repeated rejections.
    static let longestWait = 64

    /// Most tokens a schedule ever proposes: the `tokens` parameters' upper bound.
    public static let longest = 64

    /// The schedule.
    public let schedule: Schedule
    /// The first (constant: every) step's length; `optimal`'s longest.
    public let initial: Int
    /// One more verification row's cost against a one-row step (`optimal`; tree trimming).
    public let rowCost: Double

    /// Creates a policy.
    /// - Parameters:
    ///   - schedule: the schedule.
    ///   - initial: the starting length, in `1...longest`.
    ///   - rowCost: one more verification row's cost against a one-row step, ≥ 0.
    /// - Throws: `OperatorError.invalidParameter` for a length out of range.
    public init(schedule: Schedule, initial: Int, rowCost: Double = 0) throws {
        try OperatorError.require("tokens", initial, in: 1...Self.longest, "in 1...\(Self.longest)")
        try OperatorError.require("row_cost", rowCost, in: 0...10, "in [0, 10]")
        self.schedule = schedule
        self.initial = initial
        self.rowCost = rowCost
    }

    /// The `schedule` parameter, declared once for every drafter that proposes chains.
    static let schedule = OpParameter<Schedule>(
        "schedule", default: .constant,
        doc: "constant proposes up to `tokens` each step; heuristic starts at `tokens` and adds 2 after a fully accepted draft, subtracts 1 otherwise (transformers' assisted-generation heuristic; DISCO-style dynamic length), up to 64; optimal picks the length (0 to `tokens`) of largest expected speedup for the acceptance rate measured so far and `row_cost` (Leviathan et al. 2023's formula), drafting nothing when nothing pays — the gate.")
    /// The `row_cost` parameter, declared once with `schedule`.
    static let rowCost = OpParameter<Double>(
        "row_cost", default: 0, range: .closed(0, 10),
        doc: "What one more verification row costs against a one-row step on this machine (from `decograph bench runtime`: (verify-k time / decode time − 1) / (k − 1); about 0.05 for bf16 and 0.15–0.25 for 4-bit weights on an AVX2 host). Used by `schedule: optimal` and by drafted trees; 0: rows are free, as on a GPU.")
    /// The length parameters every chain drafter declares.
    static let parameters = [schedule.spec, rowCost.spec]

    /// The policy a node's parameters describe.
    /// - Parameters:
    ///   - node: a node whose op declares `schedule`.
    ///   - tokens: its `tokens` value.
    /// - Returns: the policy.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    static func of(_ node: Plan.Node, tokens: Int) throws -> DraftLength {
        try DraftLength(schedule: node[schedule], initial: tokens, rowCost: node[rowCost])
    }

    /// A fresh run's state.
    /// - Returns: the state, at the initial length (`optimal`: the best for the prior).
    public func makeState() -> State {
        let state = State(length: initial)
        if schedule == .optimal { state.length = optimalLength(acceptance: state.acceptance) }
        return state
    }

    /// Leviathan et al.'s expected tokens per unit of cost for `length` drafted tokens each
    /// accepted with probability `alpha`, against one token per one-row step.
    /// - Parameters:
    ///   - length: drafted tokens.
    ///   - alpha: the acceptance rate, in [0, 1).
    /// - Returns: the expected speedup.
    func speedup(length: Int, alpha: Double) -> Double {
        let expected = (0...length).reduce(0.0) { sum, i in sum + Foundation.pow(alpha, Double(i)) }
        return expected / (1 + rowCost * Double(length))
    }

    /// The length in `0...initial` of largest expected speedup (the shorter among equals).
    /// - Parameter alpha: the acceptance rate.
    /// - Returns: the length.
    func optimalLength(acceptance alpha: Double) -> Int {
        let speedups = (0...initial).map { speedup(length: $0, alpha: alpha) }
        return speedups.indices.max { speedups[$0] < speedups[$1] || (speedups[$0] == speedups[$1] && $0 > $1) }!
    }

    /// The next length after a step.
    /// - Parameters:
    ///   - length: this step's length.
    ///   - proposed: tokens the drafter proposed this step (0 when it found nothing: no change).
    ///   - accepted: of those, accepted.
    /// - Returns: the next step's length.
    public func next(after length: Int, proposed: Int, accepted: Int) -> Int {
        guard schedule == .heuristic, proposed > 0 else { return length }
        return accepted >= proposed ? min(Self.longest, length + 2) : max(1, length - 1)
    }

    /// The current length of one hypothesis's drafter.
    public final class State: HypothesisState, @unchecked Sendable {
        /// Tokens to propose at the next step.
        public var length: Int
        /// Accepted drafted tokens, fading (`optimal`).
        var accepted = 0.0
        /// Rejections, fading (`optimal`).
        var rejected = 0.0
        /// Steps drafted nothing since the last draft (`optimal`).
        var silent = 0
        /// Silent steps before the next probe (`optimal`; doubles after a rejected probe).
        var wait = DraftLength.probeInterval
        /// Whether the last draft was a probe.
        var probing = false
        init(length: Int) { self.length = length }
        /// The acceptance estimate: the posterior mean under a uniform prior.
        var acceptance: Double { (accepted + 1) / (accepted + rejected + 2) }
        /// A copy for a forked hypothesis.
        public func fork() -> any HypothesisState {
            let copy = State(length: length)
            (copy.accepted, copy.rejected, copy.silent, copy.wait, copy.probing) = (accepted, rejected, silent, wait, probing)
            return copy
        }
    }

    /// Moves a hypothesis's length after a commit.
    /// - Parameters:
    ///   - commit: the step's commit.
    ///   - source: the drafter's source tag.
    ///   - state: the drafter's state.
    func update(_ commit: StepCommit, source: String, state: (any HypothesisState)?) {
        guard let state = state as? State else { return }
        let proposed = commit.proposed(by: source), accepted = commit.accepted(from: source)
        guard schedule == .optimal else {
            state.length = next(after: state.length, proposed: proposed, accepted: accepted)
            return
        }
        if proposed > 0 {
            state.accepted = Self.memory * state.accepted + Double(accepted)
            state.rejected = Self.memory * state.rejected + (accepted < proposed ? 1 : 0)
            state.silent = 0
            if accepted > 0 {
                state.wait = Self.probeInterval
            } else if state.probing {
                state.wait = min(Self.longestWait, 2 * state.wait)
            }
            state.probing = false
        } else if state.length == 0 {
            state.silent += 1
        }
        state.length = optimalLength(acceptance: state.acceptance)
        if state.length == 0, state.silent >= state.wait {
            state.length = 1
            state.silent = 0
            state.probing = true
        }
    }
}

/// The stopping rules of a drafter with draft distributions (`DraftStopping.parameters`).
public struct DraftStopping: Sendable, Equatable {
    /// Stop before a position whose draft entropy exceeds this (nats); `nil`: never.
    public var maxEntropy: Float?
    /// Stop once the estimated rejection probability exceeds this; `nil`: never.
    public var maxRejection: Float?

    /// Creates rules.
    /// - Parameters:
    ///   - maxEntropy: the entropy bound, ≥ 0.
    ///   - maxRejection: the rejection bound, in (0, 1].
    public init(maxEntropy: Float? = nil, maxRejection: Float? = nil) {
        self.maxEntropy = maxEntropy
        self.maxRejection = maxRejection
    }

    /// The stopping rules' parameters, declared once for every drafter with draft distributions.
    static let maxEntropy = OpParameter<Float?>(
        "max_entropy", range: .atLeast(0),
        doc: "Stop before a position whose draft distribution has more entropy than this, in nats (SVIP, Zhang et al. 2025): uncertain drafts are rarely accepted. Absent: never.")
    static let maxRejection = OpParameter<Float?>(
        "max_rejection", range: .openClosed(0, 1),
        doc: "Stop once 1 − ∏ q(xᵢ) over the drafted tokens, the estimated chance that one is rejected, exceeds this (SpecDec++, Huang et al. 2024, with draft confidence in place of its trained head). Absent: never.")
    static let parameters = [maxEntropy.spec, maxRejection.spec]

    /// The rules a node's parameters describe.
    /// - Throws: `OperatorError.invalidParameter` for a bound too large for a `Float`.
    static func of(_ node: Plan.Node) throws -> DraftStopping {
        DraftStopping(maxEntropy: try node[maxEntropy], maxRejection: try node[maxRejection])
    }

    /// Whether to stop before drafting from `distribution` (the entropy rule).
    /// - Parameter distribution: the next position's draft distribution.
    /// - Returns: whether its entropy exceeds the bound.
    func stopsBefore(_ distribution: [Float]) -> Bool {
        guard let maxEntropy else { return false }
        return Distribution.entropy(probabilities: distribution) > Double(maxEntropy)
    }

    /// Whether to stop after a drafted token, given the product of the drafted tokens' draft
    /// probabilities so far (the rejection rule).
    /// - Parameter confidence: ∏ q(xᵢ) over the drafted tokens.
    /// - Returns: whether 1 − confidence exceeds the bound.
    func stopsAfter(confidence: Float) -> Bool {
        guard let maxRejection else { return false }
        return 1 - confidence > maxRejection
    }
}

/// `schedule:` names a schedule by its raw value.
extension DraftLength.Schedule: ParameterEnumeration {}
