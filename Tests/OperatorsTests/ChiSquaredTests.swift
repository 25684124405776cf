import Foundation
import Testing

/// The survival function against closed forms that share no code with it: for even k,
/// Q(k/2, y) = e^{-y} Σ_{i<k/2} yⁱ/i!; for odd k, Q(1/2, y) = erfc(√y) and
/// Q(a+1, y) = Q(a, y) + yᵃe^{-y}/Γ(a+1).
@Suite struct ChiSquaredTests {
    static func closedForm(_ x: Double, _ k: Int) -> Double {
        let y = x / 2
        if k % 2 == 0 {
            var term = 1.0, sum = 1.0
            for i in stride(from: 1, to: k / 2, by: 1) { term *= y / Double(i); sum += term }
            return exp(-y) * sum
        }
        var q = erfc(y.squareRoot())
        var a = 0.5
        while a < Double(k) / 2 { q += exp(a * log(y) - y - lgamma(a + 1)); a += 1 }
        return q
    }

    @Test(arguments: [1, 2, 3, 5, 10, 17, 30, 63])
    func survivalMatchesClosedForms(k: Int) {
        for x in [0.01, 0.5, 1, 3.84, Double(k), Double(k) + 10, 3 * Double(k) + 20] {
            let expected = Self.closedForm(x, k)
            #expect(abs(ChiSquared.survival(x, degreesOfFreedom: k) - expected) <= 1e-10 + 1e-9 * expected, "k=\(k) x=\(x)")
        }
    }

    @Test func goodnessOfFitAcceptsAndRejects() {
        // Exact expected counts give χ² = 0; an impossible cell gives p = 0; a skew is detected.
        #expect(ChiSquared.test(observed: [250, 250, 500], expected: [0.25, 0.25, 0.5]).pValue == 1)
        #expect(ChiSquared.test(observed: [1, 499, 500], expected: [0, 0.5, 0.5]).pValue == 0)
        #expect(ChiSquared.test(observed: [300, 200, 500], expected: [0.25, 0.25, 0.5]).pValue < 1e-3)
    }
}
