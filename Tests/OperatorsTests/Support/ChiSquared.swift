import Foundation

/// Pearson's χ² goodness-of-fit test with its own survival function, for the statistical tests of
/// speculative sampling.
enum ChiSquared {
    struct Result: CustomStringConvertible {
        var statistic: Double
        var degreesOfFreedom: Int
        var pValue: Double
        var description: String { "χ²=\(statistic) dof=\(degreesOfFreedom) p=\(pValue)" }
    }

    /// Cells whose expected count is below this are pooled into one (Cochran's rule of thumb).
    static let minimumExpected = 5.0

    /// Tests observed counts against expected probabilities. A count in a cell of probability zero
    /// is impossible under the hypothesis and gives p = 0.
    static func test(observed: [Int], expected probabilities: [Double]) -> Result {
        let n = Double(observed.reduce(0, +))
        var statistic = 0.0
        var cells = 0
        var pooledObserved = 0.0, pooledExpected = 0.0
        for (o, p) in zip(observed, probabilities) {
            if p == 0 {
                if o > 0 { return Result(statistic: .infinity, degreesOfFreedom: 0, pValue: 0) }
                continue
            }
            let e = p * n
            if e < minimumExpected {
                pooledObserved += Double(o)
                pooledExpected += e
                continue
            }
            statistic += (Double(o) - e) * (Double(o) - e) / e
            cells += 1
        }
        if pooledExpected > 0 {
            statistic += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected
            cells += 1
        }
        let dof = max(1, cells - 1)
        return Result(statistic: statistic, degreesOfFreedom: dof, pValue: survival(statistic, degreesOfFreedom: dof))
    }

    /// P(χ²_k ≥ x) = Q(k/2, x/2), the regularised upper incomplete gamma function.
    static func survival(_ x: Double, degreesOfFreedom k: Int) -> Double {
        if x <= 0 { return 1 }
        return upperRegularizedGamma(Double(k) / 2, x / 2)
    }

    /// Q(a, x): the power series for P when x < a + 1, else Legendre's continued fraction for Q
    /// evaluated by the modified Lentz method.
    static func upperRegularizedGamma(_ a: Double, _ x: Double) -> Double {
        let logPrefix = a * log(x) - x - lgamma(a)
        let tolerance = 1e-15, tiny = 1e-300, iterations = 1000
        if x < a + 1 {
            var term = 1 / a, sum = term, denominator = a
            for _ in 0..<iterations {
                denominator += 1
                term *= x / denominator
                sum += term
                if abs(term) < abs(sum) * tolerance { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...iterations {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < tolerance { break }
        }
        return exp(logPrefix) * h
    }
}
