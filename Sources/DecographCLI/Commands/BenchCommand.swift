extension CommandSpec {
    /// `decograph bench`: the speed measurements of each layer.
    static let bench = CommandSpec(
        "bench", abstract: "Measure speed; prints ratios measured in one run.",
        subcommands: [.benchTokenizer, .benchStore])
}
