/// Allowed numeric values: an interval whose ends may be open, closed or absent.
public struct ValueRange: Sendable, Hashable, CustomStringConvertible {
    /// One end of a range.
    public struct Bound: Sendable, Hashable {
        /// Where it is.
        public var value: Double
        /// Whether the value itself is allowed.
        public var inclusive: Bool
    }

    /// The lower end, or `nil` for none.
    public var lower: Bound?
    /// The upper end, or `nil` for none.
    public var upper: Bound?

    /// Creates a range.
    /// - Parameters:
    ///   - lower: the lower end and whether it is allowed, or `nil` for none.
    ///   - upper: the upper end and whether it is allowed, or `nil` for none.
    public init(lower: (value: Double, inclusive: Bool)?, upper: (value: Double, inclusive: Bool)?) {
        self.lower = lower.map { Bound(value: $0.value, inclusive: $0.inclusive) }
        self.upper = upper.map { Bound(value: $0.value, inclusive: $0.inclusive) }
    }

    /// `min ≤ x ≤ max`.
    /// - Parameters:
    ///   - min: smallest allowed value.
    ///   - max: largest allowed value.
    /// - Returns: the closed range.
    public static func closed(_ min: Double, _ max: Double) -> ValueRange {
        ValueRange(lower: (min, true), upper: (max, true))
    }

    /// `x ≥ min`.
    /// - Parameter min: smallest allowed value.
    /// - Returns: the half-bounded range.
    public static func atLeast(_ min: Double) -> ValueRange { ValueRange(lower: (min, true), upper: nil) }

    /// `x > min`.
    /// - Parameter min: the excluded lower end.
    /// - Returns: the half-bounded range.
    public static func greaterThan(_ min: Double) -> ValueRange { ValueRange(lower: (min, false), upper: nil) }

    /// `min < x ≤ max`.
    /// - Parameters:
    ///   - min: the excluded lower end.
    ///   - max: the largest allowed value.
    /// - Returns: the half-open range.
    public static func openClosed(_ min: Double, _ max: Double) -> ValueRange {
        ValueRange(lower: (min, false), upper: (max, true))
    }

    /// `min ≤ x < max`.
    /// - Parameters:
    ///   - min: the smallest allowed value.
    ///   - max: the excluded upper end.
    /// - Returns: the half-open range.
    public static func closedOpen(_ min: Double, _ max: Double) -> ValueRange {
        ValueRange(lower: (min, true), upper: (max, false))
    }

    /// `min < x < max`.
    /// - Parameters:
    ///   - min: the excluded lower end.
    ///   - max: the excluded upper end.
    /// - Returns: the open range.
    public static func open(_ min: Double, _ max: Double) -> ValueRange {
        ValueRange(lower: (min, false), upper: (max, false))
    }

    /// Whether `x` lies in the range.
    /// - Parameter x: the value.
    /// - Returns: `true` when allowed.
    public func contains(_ x: Double) -> Bool {
        if let lower, lower.inclusive ? x < lower.value : x <= lower.value { return false }
        if let upper, upper.inclusive ? x > upper.value : x >= upper.value { return false }
        return true
    }

    /// Interval notation: `[1, 64]`, `(0, 1]`, `>= 0`, `> 0`.
    public var description: String {
        func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
        switch (lower, upper) {
        case let (l?, u?):
            return (l.inclusive ? "[" : "(") + number(l.value) + ", " + number(u.value) + (u.inclusive ? "]" : ")")
        case let (l?, nil): return (l.inclusive ? ">= " : "> ") + number(l.value)
        case let (nil, u?): return (u.inclusive ? "<= " : "< ") + number(u.value)
        case (nil, nil): return "any"
        }
    }
}
