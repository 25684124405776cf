import Graph

/// Every op of the graph language, one line each, in the order `decograph ops` prints them.
public enum OperatorRegistry {
    /// The op types.
    public static let operators: [any StepOperator.Type] = [
        DraftModelOp.self,
        DraftLookupOp.self,
        DraftNGramOp.self,
        DraftRecycleOp.self,
        DraftPhrasesOp.self,
        DraftSuffixOp.self,
        DraftLookaheadOp.self,
        DraftADEDOp.self,
        DraftGraphOp.self,
        TreeMergeOp.self,
        ConstrainRegexOp.self,
        ConstrainJSONSchemaOp.self,
        ConstrainGrammarOp.self,
        ConstrainPhrasesOp.self,
        ScoreOp.self,
        RouteOp.self,
        ExitOp.self,
        DepthOp.self,
        ContrastiveSearchOp.self,
        LookBackOp.self,
        DoLaOp.self,
        FocusOp.self,
        ContrastOp.self,
        SampleOp.self,
        VerifyOp.self,
        BeamSearchOp.self,
        SampleSearchOp.self,
        LatticeSearchOp.self,
        MCTSOp.self,
        ForesightSearchOp.self,
        RerankOp.self,
        RewardOp.self,
        StoreLearnOp.self,
    ]

    /// The registry the compiler checks graphs against.
    public static let all = OpRegistry(operators.map { $0.spec })

    /// The type implementing an op.
    /// - Parameter name: the op's name.
    /// - Returns: its type, if registered.
    public static func operatorType(named name: String) -> (any StepOperator.Type)? {
        operators.first { $0.spec.name == name }
    }
}
