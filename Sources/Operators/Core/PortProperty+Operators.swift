import Graph

extension PortProperty {
    /// Every proposed node either carries the distribution it was drawn from or is a deterministic
    /// function of the context — what exact speculative sampling needs of each node. Unlike
    /// `draftProbabilities` and `deterministic`, it survives `tree.merge` of a sampling drafter with
    /// a retrieval drafter (a property passes a merge only when every input has it).
    public static let exactDraft = PortProperty(rawValue: "exactDraft")
    /// The tree carries a constraint's allowed-next mask for every row (a `constrain.*` node's
    /// output); an op that rebuilds the tree would drop them (`tree.merge` refuses it).
    public static let constraintMasks = PortProperty(rawValue: "constraintMasks")
}
