extension Duration {
    /// The duration in seconds, as a `Double` (timers add these up and print them).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
