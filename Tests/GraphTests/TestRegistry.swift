import Graph

/// Specs shaped like the first ops of issue 4, for compiler tests only: the real specs live with
/// their implementations in the Operators module. They cover every feature the compiler checks
/// (each parameter type, ranges, one and many ports, previous-step ports, property requirements,
/// conditional capabilities).
enum TestRegistry {
    static let samplingNeedsQ = PropertyRequirement(
        anyOf: [.draftProbabilities, .deterministic], when: .equals("mode", .string("sampling")),
        reason: "speculative sampling accepts a draft token with probability min(1, p/q)")

    static let specs: [OpSpec] = [
        OpSpec("draft.model", family: .propose, doc: "k tokens from a draft model, with their probabilities.",
               parameters: [
                   ParameterSpec("model", .modelRef, doc: "The draft model."),
                   ParameterSpec("tokens", .int, default: .int(4), range: .closed(1, 64), doc: "Tokens proposed per step."),
                   ParameterSpec("temperature", .float, default: .float(0), range: .atLeast(0), doc: "Drafting temperature."),
                   ParameterSpec("min_prob", .float, default: .float(0), range: .closed(0, 1), doc: "Stop drafting below this probability."),
               ],
               output: OutputSpec(.tokenTree, provides: [PropertyRule(.draftProbabilities),
                                                         PropertyRule(.deterministic, when: .equals("temperature", .float(0)))],
                                  doc: "A chain of proposed tokens."),
               needs: [CapabilityRule(.rollback)]),
        OpSpec("draft.lookup", family: .propose, doc: "Prompt lookup: continue the longest suffix match in the context.",
               parameters: [
                   ParameterSpec("tokens", .int, default: .int(8), range: .closed(1, 64), doc: "Tokens proposed."),
                   ParameterSpec("min_match", .int, default: .int(2), range: .atLeast(1), doc: "Shortest suffix match."),
               ],
               output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic)], doc: "A chain."),
               needs: [CapabilityRule(.rollback)]),
        OpSpec("draft.ngram", family: .propose, doc: "Continuations from an n-gram store, sampled by count when temperature > 0.",
               parameters: [
                   ParameterSpec("store", .storeRef, doc: "The store."),
                   ParameterSpec("tokens", .int, default: .int(8), range: .closed(1, 64), doc: "Tokens proposed."),
                   ParameterSpec("temperature", .float, default: .float(0), range: .atLeast(0), doc: "Sampling temperature over counts."),
               ],
               output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic, when: .equals("temperature", .float(0)))], doc: "A chain."),
               needs: [CapabilityRule(.rollback)]),
        OpSpec("constrain", family: .filter, doc: "Prunes proposed tokens a constraint forbids.",
               parameters: [ParameterSpec("constraint", .constraintRef, doc: "The constraint.")],
               inputs: [PortSpec("tree", .tokenTree, doc: "Proposals to prune.")],
               output: OutputSpec(.tokenTree, propagates: ["tree"], doc: "The pruned tree.")),
        OpSpec("tree.merge", family: .propose, doc: "Merges proposals into one deduplicated tree under a node budget.",
               parameters: [ParameterSpec("budget", .int, default: .int(32), range: .closed(1, 512), doc: "Most tree nodes.")],
               inputs: [PortSpec("from", .tokenTree, multiplicity: .many, doc: "The proposals.")],
               output: OutputSpec(.tokenTree, propagates: ["from"], doc: "The merged tree."),
               needs: [CapabilityRule(.tokenTrees)]),
        OpSpec("score", family: .score, doc: "The target model over the root and the proposed tree, in one forward pass.",
               parameters: [ParameterSpec("model", .modelRef, doc: "The target model.")],
               inputs: [PortSpec("tree", .tokenTree, optional: true, doc: "Proposals; without one only the root is scored.")],
               output: OutputSpec(.scores, propagates: ["tree"], doc: "Logits at the root and every tree node.")),
        OpSpec("sample", family: .shape, doc: "Logits to distributions: temperature, top-k, top-p, min-p.",
               parameters: [
                   ParameterSpec("temperature", .float, default: .float(1), range: .atLeast(0), doc: "0 is greedy."),
                   ParameterSpec("top_k", .int, default: .int(0), range: .atLeast(0), doc: "0 keeps all."),
                   ParameterSpec("top_p", .float, default: .float(1), range: .openClosed(0, 1), doc: "Nucleus mass."),
                   ParameterSpec("stop_words", .list(.string), default: .list([]), doc: "Banned words."),
               ],
               inputs: [PortSpec("from", .scores, doc: "The scores.")],
               output: OutputSpec(.distribution, propagates: ["from"], doc: "Distributions.")),
        OpSpec("verify", family: .select, doc: "Accepts a prefix of the tree plus one token of the target's own.",
               parameters: [ParameterSpec("mode", .enumeration(["greedy", "sampling"]), default: .string("greedy"), doc: "Greedy matching or speculative sampling.")],
               inputs: [PortSpec("from", .distribution, requires: [samplingNeedsQ], doc: "The target's distributions over the tree.")],
               output: OutputSpec(.selection, doc: "Accepted tokens."),
               needs: [CapabilityRule(.rollback)]),
        OpSpec("search.beam", family: .select, doc: "Beam search with a length penalty.",
               parameters: [
                   ParameterSpec("width", .int, default: .int(4), range: .closed(1, 64), doc: "Beams kept."),
                   ParameterSpec("length_penalty", .float, default: .float(1), doc: "Exponent of the length normalisation."),
                   ParameterSpec("early_stop", .bool, default: .bool(false), doc: "Stop when width hypotheses finished."),
               ],
               inputs: [PortSpec("from", .distribution, doc: "Next-token distributions of each beam."),
                        PortSpec("frontier", .frontier, optional: true, timing: .previousStep, doc: "Last step's beams.")],
               output: OutputSpec(.frontier, doc: "The next beams."),
               needs: [CapabilityRule(.fork)]),
        OpSpec("store.learn", family: .commit, doc: "Adds committed tokens to a store.",
               parameters: [ParameterSpec("store", .storeRef, doc: "The store."),
                            ParameterSpec("after", .nodeRef, optional: true, doc: "A node whose commit it follows.")],
               inputs: [PortSpec("from", .selection, doc: "What was committed.")],
               output: OutputSpec(.selection, propagates: [], doc: "The same selection.")),
        OpSpec("score.early", family: .score, doc: "The target's root logits from an early exit.",
               parameters: [ParameterSpec("model", .modelRef, doc: "The target model."),
                            ParameterSpec("exit", .bool, default: .bool(true), doc: "Whether tokens may exit early.")],
               output: OutputSpec(.scores, doc: "Logits at the root."),
               approximates: Approximation(when: .equals("exit", .bool(true)), "exits before the last layer")),
        OpSpec("draft.early", family: .propose, doc: "Tokens from the target's first layers.",
               parameters: [ParameterSpec("model", .modelRef, doc: "The target model.")],
               output: OutputSpec(.tokenTree, doc: "The drafted tokens."),
               approximates: Approximation("drafts from the first layers")),
    ]

    static let registry = OpRegistry(specs)
}
