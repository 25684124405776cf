import Constraints
import Graph
import NGramStore
import Operators
import Tokenization

/// What a session's nodes bind when they are built: the plan's stores and the target's
/// constraint vocabulary, from the process-wide `ResourceRegistry`.
struct SessionEnvironment: OperatorEnvironment {
    let plan: Plan
    let resources: ResourceRegistry
    let tokenizer: Tokenizer?
    let targetPath: String?
    let endOfSequence: Set<Int32>
    let samplingDefaults: [String: Double]
    /// The target's vocabulary, which an inner graph's target must share.
    let vocabularySize: Int
    /// The inner graphs' sessions bound so far, for the outer session's `admit`.
    let innerSessions = InnerSessions()

    /// Sessions bound while the outer session's nodes are built. `@unchecked Sendable`: it is
    /// written only then, by the one thread building the outer session, and read after.
    final class InnerSessions: @unchecked Sendable {
        private(set) var bound: [Session] = []
        func add(_ session: Session) { bound.append(session) }
    }

    /// Opens a declared store: writable (created when missing) when it says `learn: true`, else
    /// read-only; checked against the target's tokenizer.
    func store(named name: String, writable: Bool) throws -> NGramStore {
        try openStore(named: name, writable: writable) { path, learns, fingerprint in
            try resources.store(at: path, writable: learns, tokenizerFingerprint: fingerprint)
        }
    }

    /// Opens a declared store for drafting: a suffix-array store when the file is one (read-only,
    /// so `learn: true` on it is refused), else the LMDB store as `store(named:writable:)` does.
    func retrievalStore(named name: String) throws -> any RetrievalStore {
        try openStore(named: name, writable: false) { path, learns, fingerprint in
            if SuffixArrayStore.isSuffixArray(at: path) {
                if learns { throw EngineError("a suffix-array store is read-only; remove learn: true from its declaration") }
                return try resources.suffixArrayStore(at: path, tokenizerFingerprint: fingerprint)
            }
            return try resources.store(at: path, writable: learns, tokenizerFingerprint: fingerprint)
        }
    }

    /// Finds a store's declaration, checks what the node may do with it, and opens it with `open`
    /// (its path, whether it learns, the target's tokenizer fingerprint), locating errors at the
    /// declaration.
    private func openStore<S>(named name: String, writable: Bool, _ open: (String, Bool, String) throws -> S) throws -> S {
        guard let declaration = plan.stores.first(where: { $0.name == name }), let path = declaration.path else {
            throw EngineError("store '\(name)' is not declared with a path under 'stores'")
        }
        let learns = declaration.fields["learn"] == .bool(true)
        if writable && !learns {
            throw EngineError(at: declaration.location, "store '\(name)' is written by a store.learn node, so its declaration needs learn: true")
        }
        guard let tokenizer else {
            throw EngineError(at: declaration.location, "store '\(name)' needs the target's tokenizer.json: a store is checked against the tokenizer it was built with")
        }
        do {
            return try open(path, learns, tokenizer.vocabularyFingerprint)
        } catch let error as EngineError {
            throw EngineError(at: declaration.location, "store '\(name)': \(error.message)")
        } catch {
            throw EngineError(at: declaration.location, "store '\(name)' cannot be opened: \(error)")
        }
    }

    /// The target's tokenizer as constraints see it, ending at the run's end-of-sequence tokens.
    func constraintVocabulary() throws -> TokenVocabulary {
        guard !endOfSequence.isEmpty else {
            throw OperatorError(.invalidParameter, at: "constraint",
                                "a constraint needs an end-of-sequence token to end the output; the graph ignores EOS and lists no stop_token_ids")
        }
        guard let targetPath, let vocabulary = try resources.constraintVocabulary(modelAt: targetPath, endOfSequence: endOfSequence) else {
            throw OperatorError(.invalidParameter, at: "constraint", "a constraint needs the target's tokenizer.json to know each token's bytes")
        }
        return vocabulary
    }

    /// Binds an inner graph as a session of its own on the same resources (a model both graphs
    /// name is loaded once); its target must share the outer target's vocabulary.
    func innerGraph(_ inner: Plan, for node: Plan.Node) throws -> any InnerGraphRunner {
        let session: Session
        do {
            session = try Session(plan: inner, resources: resources)
        } catch let error as EngineError {
            throw EngineError(at: node.location, "node '\(node.name)' (\(node.op)): its graph '\(inner.file)' cannot be bound: \(error.description)")
        }
        if session.vocabularySize != vocabularySize {
            throw EngineError(at: node.location, "node '\(node.name)' (\(node.op)): its graph's target '\(session.targetModel)' has a vocabulary of \(session.vocabularySize) tokens, the outer target's has \(vocabularySize)")
        }
        innerSessions.add(session)
        return InnerGraph(session: session)
    }
}
