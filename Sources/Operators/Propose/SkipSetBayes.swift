import Foundation

/// SWIFT's Bayesian-optimisation proposals (Xia et al. 2025; the reference code's
/// `layer_bayes_search` over `bayes_opt`): a Gaussian process over the skip sets scored so far —
/// each a point of `[0, 1]^layers`, 1 where a layer is skipped — proposes the next set to score by
/// the upper confidence bound `μ + κ·σ`, and the proposal's `count` largest coordinates are the
/// layers it skips. As in the reference, the GP has a Matérn-5/2 kernel on standardised scores with
/// noise `alpha` on the diagonal, the kernel's length scale is the one of largest marginal
/// likelihood, and the bound is maximised over uniform random points of the box, the proposal
/// itself (not its rounding to a set) being what is registered with the set's score. Departures:
/// the length scale is chosen on a log grid rather than by L-BFGS, and the random search is not
/// polished by L-BFGS afterwards.
struct SkipSetBayes: Sendable {
    /// The exploration weight κ of the bound (the reference's `UtilityFunction(kind="ucb", kappa=2.5)`).
    static let kappa = 2.5
    /// Noise added to the kernel's diagonal (the reference's `set_gp_params(alpha=1e-2)`): the same
    /// set scores differently on different windows of text.
    static let alpha = 1e-2
    /// Random points the bound is maximised over. `bayes_opt` draws 10 000; a fifth of that keeps a
    /// proposal within a few milliseconds on a CPU at 30 layers and 64 observations.
    static let candidates = 2_000
    /// Length scales tried for the kernel, a log grid over the box's scale (its diagonal is √layers).
    static let lengthScales = (0...24).map { pow(10, -1.5 + Double($0) * 0.125) }

    /// Scored points, each of `dimension` coordinates in [0, 1].
    private(set) var points: [[Double]] = []
    /// Their scores.
    private(set) var scores: [Double] = []

    /// Registers a scored point.
    /// - Parameters:
    ///   - point: the point (a skip set's indicator, or a proposal).
    ///   - score: its score (SWIFT's matchness).
    mutating func observe(_ point: [Double], score: Double) {
        points.append(point)
        scores.append(score)
    }

    /// Matérn ν = 5/2 at distance `r` and length scale `l`.
    static func matern(_ r: Double, _ l: Double) -> Double {
        let s = 5.0.squareRoot() * r / l
        return (1 + s + s * s / 3) * Foundation.exp(-s)
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += (a[i] - b[i]) * (a[i] - b[i]) }
        return sum.squareRoot()
    }

    /// The lower Cholesky factor of a symmetric positive-definite matrix, `nil` if it is not.
    static func cholesky(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                var sum = a[i][j]
                for k in 0..<j { sum -= l[i][k] * l[j][k] }
                if i == j {
                    guard sum > 0 else { return nil }
                    l[i][i] = sum.squareRoot()
                } else {
                    l[i][j] = sum / l[j][j]
                }
            }
        }
        return l
    }

    /// Solves `L·x = b` (`transposed`: `Lᵀ·x = b`) for a lower-triangular `L`.
    static func solve(_ l: [[Double]], _ b: [Double], transposed: Bool = false) -> [Double] {
        let n = b.count
        var x = b
        if transposed {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for k in (i + 1)..<n { x[i] -= l[k][i] * x[k] }
                x[i] /= l[i][i]
            }
        } else {
            for i in 0..<n {
                for k in 0..<i { x[i] -= l[i][k] * x[k] }
                x[i] /= l[i][i]
            }
        }
        return x
    }

    /// The GP conditioned on the observations: standardised scores, the chosen length scale, the
    /// Cholesky factor and `K⁻¹·y`.
    struct Posterior {
        var mean: Double, spread: Double, lengthScale: Double
        var factor: [[Double]], weights: [Double]
        var points: [[Double]]

        /// Predictive mean and standard deviation at `x`, in the scores' units.
        func predict(_ x: [Double]) -> (mean: Double, deviation: Double) {
            let k = points.map { SkipSetBayes.matern(SkipSetBayes.distance($0, x), lengthScale) }
            let mu = zip(k, weights).reduce(0) { $0 + $1.0 * $1.1 }
            let v = SkipSetBayes.solve(factor, k)
            let variance = max(0, 1 - v.reduce(0) { $0 + $1 * $1 })
            return (mean + spread * mu, spread * variance.squareRoot())
        }
    }

    /// Conditions the GP, choosing the length scale of largest log marginal likelihood.
    /// - Returns: the posterior, `nil` without observations.
    func posterior() -> Posterior? {
        guard !scores.isEmpty else { return nil }
        let mean = scores.reduce(0, +) / Double(scores.count)
        let variance = scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(scores.count)
        // sklearn's normalize_y: a constant series keeps unit spread.
        let spread = variance > 0 ? variance.squareRoot() : 1
        let y = scores.map { ($0 - mean) / spread }
        let distances = points.map { a in points.map { Self.distance(a, $0) } }
        var best: (likelihood: Double, posterior: Posterior)?
        for l in Self.lengthScales {
            let k = distances.enumerated().map { i, row in row.enumerated().map { j, r in Self.matern(r, l) + (i == j ? Self.alpha : 0) } }
            guard let factor = Self.cholesky(k) else { continue }
            let weights = Self.solve(factor, Self.solve(factor, y), transposed: true)
            // log p(y) = −½ yᵀK⁻¹y − Σ log Lᵢᵢ − n/2 log 2π
            let likelihood = -0.5 * zip(y, weights).reduce(0) { $0 + $1.0 * $1.1 }
                - (0..<y.count).reduce(0) { $0 + Foundation.log(factor[$1][$1]) }
            if best == nil || likelihood > best!.likelihood {
                best = (likelihood, Posterior(mean: mean, spread: spread, lengthScale: l, factor: factor, weights: weights, points: points))
            }
        }
        return best?.posterior
    }

    /// The next point to score and the skip set it names.
    /// - Parameters:
    ///   - count: how many layers the set skips.
    ///   - layers: the model's layer count (the points' dimension).
    ///   - rng: the generator of the random points.
    /// - Returns: the proposal and its `count` largest coordinates (the lower layer among equals);
    ///   `nil` without observations.
    func propose<R: RandomNumberGenerator>(count: Int, layers: Int, using rng: inout R) -> (point: [Double], skipped: Set<Int>)? {
        guard let posterior = posterior() else { return nil }
        var best: (bound: Double, point: [Double])?
        for _ in 0..<Self.candidates {
            let x = (0..<layers).map { _ in Double.random(in: 0...1, using: &rng) }
            let (mu, sigma) = posterior.predict(x)
            let bound = mu + Self.kappa * sigma
            if best == nil || bound > best!.bound { best = (bound, x) }
        }
        let point = best!.point
        let order = point.indices.sorted { point[$0] > point[$1] || (point[$0] == point[$1] && $0 < $1) }
        return (point, Set(order.prefix(count)))
    }

    /// A skip set as a point: 1 where a layer is skipped.
    static func point(of set: Set<Int>, layers: Int) -> [Double] {
        (0..<layers).map { set.contains($0) ? 1 : 0 }
    }
}
