import Foundation

/// Contrastive decoding's combination of an expert's and an amateur's logits for one position.
///
/// With `e` the expert's logits, `a` the amateur's and `p_e = softmax(e)`:
///
/// - the plausible set is `V_head = { x : p_e(x) ≥ α · max_y p_e(y) }` (Li et al. 2023, §3.2),
///   computed as `e_x − max e ≥ ln α` so no probability underflows; `α = 0` keeps every token;
/// - on `V_head` the score is
///   - `.extrapolate`: `(1 + β) · e_x − β · a_x`, on raw logits (O'Brien & Lewis 2023, Eq. 1);
///   - `.difference`: `log p_e(x) − log p_a(x)` (Li et al. 2023's objective, log-probabilities);
///   - `.subtract`: `e_x − β · a_x` on raw logits (instructive decoding, Kim et al. 2024, whose ε is β;
///     the same argmax as `.extrapolate` with β/(1 − β), but not the same distribution);
/// - off `V_head` it is `−inf`.
///
/// `.difference` is the β → ∞ limit of `.extrapolate` at temperature β (the row-constant log-sum-exp
/// terms do not change a softmax). β = 0 returns `e` on `V_head` bit for bit.
///
/// The selective rule (USCD, Wang et al. 2024) contrasts only rows where the expert is uncertain —
/// its entropy above a threshold, or its top probability below one — and passes the expert's row
/// through unchanged (no cut) elsewhere.
struct ContrastiveCombination: Sendable, Equatable {
    /// How the expert's and amateur's scores combine on the plausible set.
    enum Formula: String, Sendable, CaseIterable {
        /// `(1 + β) · e − β · a` on logits (O'Brien & Lewis 2023).
        case extrapolate
        /// `log softmax(e) − log softmax(a)` (Li et al. 2023).
        case difference
        /// `e − β · a` on logits (Kim et al. 2024).
        case subtract
    }

    /// Which rows are contrasted.
    enum Selection: Sendable, Equatable {
        /// Every row (contrastive decoding).
        case always
        /// Rows whose expert entropy, in nats, exceeds the bound.
        case entropyAbove(Double)
        /// Rows whose expert top probability is below the bound.
        case maxProbabilityBelow(Double)
    }

    /// The amateur's weight in `.extrapolate`.
    var beta: Double
    /// The plausibility cut, relative to the expert's top probability.
    var alpha: Double
    /// The combination.
    var formula: Formula
    /// Which rows are contrasted.
    var selection: Selection

    /// Combines one row.
    /// - Parameters:
    ///   - expert: the expert's logits (`-inf` entries are tokens it rules out).
    ///   - amateur: the amateur's logits, as wide as `expert`.
    ///   - position: the row's index, for messages.
    /// - Returns: the contrasted row, or `expert` itself where the selection leaves the row alone.
    /// - Throws: `OperatorError` for rows of different widths, a NaN or `+inf` entry, an expert
    ///   row with no finite entry, or an amateur that rules out (`-inf`) a plausible token its
    ///   weight would then turn into `+inf`.
    func combine(expert: [Float], amateur: [Float], position: Int) throws -> [Float] {
        guard expert.count == amateur.count else {
            throw OperatorError(.shapeMismatch, at: "amateur", "position \(position): the amateur's row has \(amateur.count) logits, the expert's \(expert.count); expert and amateur must share one vocabulary")
        }
        try Self.requireNoNaNOrPositiveInfinity(expert, port: "expert", position: position)
        try Self.requireNoNaNOrPositiveInfinity(amateur, port: "amateur", position: position)
        let maximum = expert.reduce(-Float.infinity) { Swift.max($0, $1) }
        guard maximum > -.infinity else {
            throw OperatorError(.invalidDistribution, at: "expert", "position \(position): every logit is -inf, so no token is plausible")
        }
        // Σ exp(e − max), shared by the entropy, the top probability and log p_e.
        var mass = 0.0
        for x in expert where x > -.infinity { mass += Foundation.exp(Double(x) - Double(maximum)) }
        guard isSelected(expert, maximum: Double(maximum), mass: mass) else { return expert }

        let cut = alpha > 0 ? Foundation.log(alpha) : -Double.infinity
        var amateurShift = 0.0
        var expertShift = 0.0
        if formula == .difference {
            let amateurMax = amateur.reduce(-Float.infinity) { Swift.max($0, $1) }
            var amateurMass = 0.0
            for x in amateur where x > -.infinity { amateurMass += Foundation.exp(Double(x) - Double(amateurMax)) }
            amateurShift = Double(amateurMax) + Foundation.log(amateurMass)
            expertShift = Double(maximum) + Foundation.log(mass)
        }
        var out = [Float](repeating: -.infinity, count: expert.count)
        for x in expert.indices {
            let e = Double(expert[x])
            guard e > -.infinity, e - Double(maximum) >= cut else { continue }
            let a = Double(amateur[x])
            switch formula {
            case .extrapolate:
                if beta == 0 {
                    out[x] = expert[x]
                    continue
                }
                guard a > -.infinity else { throw Self.ruledOut(x, position: position) }
                out[x] = Float((1 + beta) * e - beta * a)
            case .difference:
                guard a > -.infinity else { throw Self.ruledOut(x, position: position) }
                out[x] = Float((e - expertShift) - (a - amateurShift))
            case .subtract:
                if beta == 0 {
                    out[x] = expert[x]
                    continue
                }
                guard a > -.infinity else { throw Self.ruledOut(x, position: position) }
                out[x] = Float(e - beta * a)
            }
            guard out[x].isFinite else {
                throw OperatorError(.invalidParameter, at: "beta", "position \(position): the contrast of token \(x) overflows a 32-bit float with beta \(beta); use a smaller beta")
            }
        }
        return out
    }

    /// Whether the selection contrasts a row.
    /// - Parameters:
    ///   - expert: the row.
    ///   - maximum: its largest logit.
    ///   - mass: `Σ exp(e − maximum)`.
    func isSelected(_ expert: [Float], maximum: Double, mass: Double) -> Bool {
        switch selection {
        case .always:
            return true
        case .maxProbabilityBelow(let bound):
            return 1 / mass < bound
        case .entropyAbove(let bound):
            // H = −Σ p ln p with ln p = e − maximum − ln mass.
            let logMass = Foundation.log(mass)
            var entropy = 0.0
            for x in expert where x > -.infinity {
                let logP = Double(x) - maximum - logMass
                entropy -= Foundation.exp(logP) * logP
            }
            return entropy > bound
        }
    }

    static func requireNoNaNOrPositiveInfinity(_ row: [Float], port: String, position: Int) throws {
        guard let bad = row.firstIndex(where: { $0.isNaN || $0 == .infinity }) else { return }
        throw OperatorError(.invalidDistribution, at: port, "position \(position): logit \(row[bad]) for token \(bad) is not a number or +inf")
    }

    static func ruledOut(_ token: Int, position: Int) -> OperatorError {
        OperatorError(.invalidDistribution, at: "amateur",
                      "position \(position): the amateur rules out token \(token) (logit -inf) though the expert finds it plausible, so its contrast would be +inf; feed the amateur a model's scores, not a cut row")
    }
}

/// `formula:` names a formula by its raw value.
extension ContrastiveCombination.Formula: ParameterEnumeration {}
