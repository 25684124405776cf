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
