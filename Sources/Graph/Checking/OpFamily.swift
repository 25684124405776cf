/// Where an op sits in the step model (DESIGN.md: propose → filter → score → shape → select →
/// commit).
public enum OpFamily: String, Sendable, Hashable, CaseIterable {
    /// Drafters: propose continuations as a token tree.
    case propose
    /// Constraints: prune proposed tokens.
    case filter
    /// The target model over the tree.
    case score
    /// Logits processors: logits to distributions.
    case shape
    /// Verifiers and searches: choose what is accepted or kept.
    case select
    /// Effects after selection: stores learning, streaming.
    case commit
    /// Judges: what a finished output is worth. Not a stage of the step: searches and rerankers
    /// that name the node (a node parameter) call it on the outputs they weigh.
    case reward
}
