extension CommandSpec {
    /// `decograph bench …`: speed measurements, shared by the layers' benchmarks.
    static let bench = CommandSpec("bench", abstract: "Measure speed; prints ratios measured in one run.", subcommands: [.benchStore])
}
