import Foundation
import Graph
import NGramStore

/// Checks of a node's store against its declaration under `stores:` that need the store's file.
enum StoreDeclarations {
    /// Refuses `learn: true` on a store whose file is a suffix array: a suffix array is built from a
    /// whole corpus and cannot be added to, so a run could not open it writable. Checked when the
    /// graph is compiled, so `decograph check` refuses what `decograph run` would.
    /// - Parameters:
    ///   - name: the store's qualified name (`nil`: the node names no store).
    ///   - plan: the plan declaring it.
    ///   - parameter: the node's parameter naming the store, where the error is located.
    /// - Throws: `OperatorError.invalidParameter`.
    static func refuseLearningSuffixArray(_ name: String?, plan: Plan, at parameter: String) throws {
        guard let name, let declaration = plan.stores.first(where: { $0.name == name }),
              declaration.fields["learn"] == .bool(true), let path = declaration.path,
              SuffixArrayStore.isSuffixArray(at: path) else { return }
        throw OperatorError(.invalidParameter, at: parameter,
                            "store '\(name)' is a suffix-array store (\(path)), which is read-only: remove learn: true from its declaration, or learn into an LMDB store")
    }
}

extension StoreDeclarations {
    /// Checks a store a node only reads: its file must exist unless the graph learns into it (a
    /// learning declaration creates the file on the first run), and an existing store must match
    /// contexts of at least `minimumContext` tokens. Checked when the graph is compiled, so
    /// `decograph check` refuses what `decograph run` would.
    /// - Parameters:
    ///   - name: the store's qualified name (`nil`: the node names no store).
    ///   - plan: the plan declaring it.
    ///   - parameter: the node's parameter naming the store, where the error is located.
    ///   - minimumContext: the shortest longest-context the node can use.
    /// - Throws: `OperatorError.invalidParameter`.
    static func requireReadable(_ name: String?, plan: Plan, at parameter: String, minimumContext: Int = 1) throws {
        try refuseLearningSuffixArray(name, plan: plan, at: parameter)
        guard let name, let declaration = plan.stores.first(where: { $0.name == name }), let path = declaration.path else { return }
        guard FileManager.default.fileExists(atPath: path) else {
            guard declaration.fields["learn"] == .bool(true) else {
                throw OperatorError(.invalidParameter, at: parameter,
                                    "store '\(name)' (\(path)) does not exist: build it with 'decograph store build', or declare learn: true so runs create and fill it")
            }
            return
        }
        guard minimumContext > 1 else { return }
        let longest: Int
        do {
            longest = try RetrievalStores.open(at: path, tokenizerFingerprint: nil).withContinuationIndex { $0.longestContext }
        } catch {
            throw OperatorError(.invalidParameter, at: parameter, "store '\(name)' cannot be opened: \(error)")
        }
        guard longest >= minimumContext else {
            throw OperatorError(.invalidParameter, at: parameter,
                                "store '\(name)' (\(path)) matches contexts of at most \(longest) token(s); this node needs \(minimumContext) (build the store with a longer context length)")
        }
    }
}
