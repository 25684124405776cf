/// Percentiles of timing samples, as the constraint tools report them.
public enum Percentile {
    /// The value at rank `round(q · (n − 1))` of ascending `sorted` values (nearest rank, so a
    /// reported p99 is a time that was actually measured).
    /// - Parameters:
    ///   - q: the quantile, 0…1.
    ///   - sorted: samples in ascending order.
    /// - Returns: the sample at that rank, or 0 when there are none.
    public static func of(_ q: Double, sorted: [Double]) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q + 0.5))]
    }
}
