extension Plan.Node {
    /// A reference parameter: the qualified name of a model, store, constraint or node, as the
    /// plan's `models`, `stores`, `constraints` and `nodes` name them. Ops read their parameters
    /// typed, through the declarations in their specs; this is for the engine, which binds every
    /// node's `model` the same way.
    /// - Parameter name: the parameter's key.
    /// - Returns: the qualified name, or `nil` when absent.
    public func reference(_ name: String) -> String? {
        if case .reference(let v)? = parameters[name] { return v }
        return nil
    }

    /// The nodes feeding an input port.
    /// - Parameter port: the port's name.
    /// - Returns: indices into the plan's `nodes`, empty when the port is not connected.
    public func sources(_ port: String) -> [Int] { inputs.first { $0.port == port }?.sources ?? [] }

    /// A file named in a parameter, resolved against the directory of the graph file that
    /// declares the node (a subgraph's own directory for its nodes).
    /// - Parameter path: the path as written.
    /// - Returns: the resolved path.
    public func resolving(path: String) -> String {
        GraphFileLoader.join(GraphFileLoader.directory(of: location.file), path)
    }
}
