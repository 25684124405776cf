import Foundation
import Kernels

/// Operations on next-token distributions: softmax, argmax, sampling.
///
/// Sums run in `Double` so that vocabularies of 10⁵ entries lose no mass to rounding; results are
/// stored as `Float`, the width the model emits.
public enum Distribution {
    /// Probabilities from logits; `-inf` logits (masked tokens) get exactly zero.
    /// - Parameter logits: one row of logits with at least one finite entry.
    /// - Returns: probabilities summing to 1.
    /// - Throws: `OperatorError.invalidDistribution` when no logit is finite or one is NaN/+inf.
    public static func softmax(_ logits: [Float]) throws -> [Float] {
        let m = try maximum(logits)
        var total = 0.0
        var out = [Float](repeating: 0, count: logits.count)
        var exps = [Double](repeating: 0, count: logits.count)
        for (i, x) in logits.enumerated() where x != -.infinity {
            exps[i] = Foundation.exp(Double(x) - m)
            total += exps[i]
        }
        for i in out.indices { out[i] = Float(exps[i] / total) }
        return out
    }

    /// Log-probabilities from logits, `x − max − log Σ exp(x − max)`, the form torch computes.
    /// - Parameter logits: one row of logits with at least one finite entry.
    /// - Returns: log-probabilities (`-inf` where the logit was `-inf`).
    /// - Throws: `OperatorError.invalidDistribution` as `softmax` does.
    public static func logSoftmax(_ logits: [Float]) throws -> [Float] {
        let m = try maximum(logits)
        var total = 0.0
        for x in logits where x != -.infinity { total += Foundation.exp(Double(x) - m) }
        let shift = m + Foundation.log(total)
        return logits.map { $0 == -.infinity ? -.infinity : Float(Double($0) - shift) }
    }

    /// `logSoftmax` with the exponentials in `Float`, vectorised (within 2 ulp), and their sum in
    /// `Double`: for a search that ranks every token of every hypothesis each step (beam search's
    /// candidates), where the scalar `Double` exponentials were most of the op's time. Agrees
    /// with `logSoftmax` to about 1e-7 (torch computes the whole of it in `float32`).
    /// - Parameter logits: one row of logits with at least one finite entry.
    /// - Returns: log-probabilities (`-inf` where the logit was `-inf`).
    /// - Throws: `OperatorError.invalidDistribution` as `softmax` does.
    public static func logSoftmaxVectorised(_ logits: [Float]) throws -> [Float] {
        let m = try maximum(logits)
        let top = Float(m)
        var terms = logits.map { $0 - top }
        terms.withUnsafeMutableBufferPointer { Vector.exp($0.baseAddress!, into: $0.baseAddress!, count: $0.count) }
        var total = 0.0
        for t in terms { total += Double(t) }
        let shift = m + Foundation.log(total)
        return logits.map { $0 == -.infinity ? -.infinity : Float(Double($0) - shift) }
    }

    /// Log-probabilities in `Double`, for methods that compare whole distributions (DoLa's
    /// Jensen–Shannon choice, dynamic focus's KL) where `Float` rounding of small probabilities
    /// would move the comparison.
    /// - Parameter logits: one row with at least one finite entry.
    /// - Returns: log-probabilities.
    public static func logSoftmaxDouble(_ logits: [Double]) -> [Double] {
        let top = logits.max() ?? 0
        let shift = top + Foundation.log(logits.reduce(0.0) { $0 + Foundation.exp($1 - top) })
        return logits.map { $0 - shift }
    }

    /// Shannon entropy in nats, `−Σ p·log p`, from log-probabilities. Masked tokens (`-inf`)
    /// contribute nothing, as torch's `nansum` and `Categorical.entropy` skip them.
    /// - Parameter logProbabilities: a row from `logSoftmax`.
    /// - Returns: the entropy, ≥ 0.
    public static func entropy(logProbabilities: [Float]) -> Double {
        var sum = 0.0
        for l in logProbabilities where l > -.infinity {
            let x = Double(l)
            sum -= Foundation.exp(x) * x
        }
        return sum
    }

    /// Shannon entropy in nats, `−Σ p·log p`, from probabilities (zeros contribute nothing).
    /// - Parameter probabilities: a row from `softmax`.
    /// - Returns: the entropy, ≥ 0.
    public static func entropy(probabilities: [Float]) -> Double {
        var sum = 0.0
        for p in probabilities where p > 0 {
            let x = Double(p)
            sum -= x * Foundation.log(x)
        }
        return sum
    }

    /// The index of the largest value, the first one on ties (as `torch.argmax`).
    ///
    /// Every path that picks a token from a row goes through here, so a row no token can be
    /// picked from is an error rather than token 0: a NaN compares false with everything, so
    /// weights that overflowed would otherwise decode token 0 forever, and a row where every
    /// token is masked (`-inf`) would emit a forbidden token.
    /// - Parameter values: a row of logits, processed logits or probabilities.
    /// - Returns: the index of the maximum.
    /// - Throws: `OperatorError.invalidDistribution` for an empty row, a NaN or `+inf` entry
    ///   (naming the token), or a row whose every entry is `-inf`.
    public static func argmax(_ values: [Float]) throws -> Int {
        var best = -1
        var bestValue = -Float.infinity
        for (i, x) in values.enumerated() {
            guard !x.isNaN, x != .infinity else {
                throw OperatorError(.invalidDistribution, at: "logits", "logit \(x) at token \(i) is not a number or +inf (broken weights or config?)")
            }
            if x > bestValue {
                best = i
                bestValue = x
            }
        }
        guard best >= 0 else {
            throw OperatorError(.invalidDistribution, at: "logits",
                                values.isEmpty ? "the row is empty" : "every token is masked (all logits are -inf): nothing may come next")
        }
        return best
    }

    /// The k-th largest value (1-based), by quickselect: expected O(n) instead of a full sort, which
    /// matters for top-k over 10⁵-token vocabularies at every node of a tree.
    /// - Parameters:
    ///   - values: a non-empty row without NaN.
    ///   - k: in `1...values.count`.
    /// - Returns: the value that a descending sort would put at index `k − 1`.
    public static func kthLargest(_ values: [Float], _ k: Int) -> Float {
        var a = values
        var low = 0, high = a.count - 1
        let target = k - 1
        while low < high {
            // Median of three as pivot keeps sorted and reversed rows linear.
            let mid = low + (high - low) / 2
            let pivot = max(min(a[low], a[mid]), min(max(a[low], a[mid]), a[high]))
            var i = low, j = high
            while i <= j {
                while a[i] > pivot { i += 1 }
                while a[j] < pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { high = j } else if target >= i { low = i } else { return a[target] }
        }
        return a[target]
    }

    /// The indices of the `k` largest values above `-inf`, largest first and the lower index first
    /// among equals: `kthLargest`'s threshold, then a sort of the `k` survivors only.
    /// - Parameters:
    ///   - values: a row without NaN.
    ///   - k: how many, ≥ 0 (fewer come back when fewer values are above `-inf`).
    /// - Returns: the indices.
    public static func topIndices(_ values: [Float], _ k: Int) -> [Int] {
        let live = values.reduce(0) { $0 + ($1 > -.infinity ? 1 : 0) }
        guard k > 0, live > 0 else { return [] }
        let threshold = k < live ? kthLargest(values, k) : -Float.greatestFiniteMagnitude
        var picked = values.indices.filter { values[$0] > threshold && values[$0] > -.infinity }
        for i in values.indices where picked.count < k && values[i] == threshold { picked.append(i) }
        return picked.sorted { (values[$0], -$0) > (values[$1], -$1) }
    }

    /// Draws an index with probability proportional to `weights`, by inverting the cumulative sum.
    /// - Parameters:
    ///   - weights: non-negative weights with a positive sum (need not be normalised).
    ///   - rng: the generator; exactly one 64-bit draw is consumed.
    /// - Returns: the drawn index; never one whose weight is zero.
    /// - Throws: `OperatorError.invalidDistribution` when the weights are negative, non-finite or
    ///   sum to zero.
    public static func sample<R: RandomNumberGenerator>(_ weights: [Float], using rng: inout R) throws -> Int {
        try sample(weights.map(Double.init), using: &rng)
    }

    /// `sample(_:using:)` over `Double` weights (residual distributions are formed in `Double`).
    /// - Parameters:
    ///   - weights: non-negative weights with a positive sum.
    ///   - rng: the generator; exactly one 64-bit draw is consumed.
    /// - Returns: the drawn index.
    /// - Throws: `OperatorError.invalidDistribution` for weights that cannot be sampled.
    public static func sample<R: RandomNumberGenerator>(_ weights: [Double], using rng: inout R) throws -> Int {
        var total = 0.0
        for w in weights {
            guard w.isFinite, w >= 0 else {
                throw OperatorError(.invalidDistribution, at: "weights", "weight \(w) is negative or not finite")
            }
            total += w
        }
        guard total > 0 else { throw OperatorError(.invalidDistribution, at: "weights", "all weights are zero") }
        let target = unitDouble(using: &rng) * total
        var cumulative = 0.0
        var last = 0
        for (i, w) in weights.enumerated() where w > 0 {
            cumulative += w
            last = i
            if target < cumulative { return i }
        }
        return last  // rounding left target ≥ the running sum: the last positive weight owns the gap.
    }

    /// A uniform double in [0, 1) from the top 53 bits of one draw (the xoshiro authors'
    /// conversion), so results do not depend on the standard library's unspecified one.
    /// - Parameter rng: the generator.
    /// - Returns: a multiple of 2⁻⁵³ in [0, 1).
    public static func unitDouble<R: RandomNumberGenerator>(using rng: inout R) -> Double {
        Double(rng.next() >> 11) * 0x1.0p-53
    }

    private static func maximum(_ logits: [Float]) throws -> Double { Double(logits[try argmax(logits)]) }
}
