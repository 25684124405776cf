extension Plan.Node {
    /// An integer parameter (checked by the compiler, default filled in).
    /// - Parameter name: the parameter's key.
    /// - Returns: its value, or `nil` when the op declares it optional and the graph left it out.
    public func int(_ name: String) -> Int? {
        if case .int(let v)? = parameters[name] { return v }
        return nil
    }

    /// A float parameter; an integer written for a float reads as its value.
    /// - Parameter name: the parameter's key.
    /// - Returns: its value, or `nil` when absent.
    public func double(_ name: String) -> Double? { parameters[name]?.number }

    /// A bool parameter.
    /// - Parameter name: the parameter's key.
    /// - Returns: its value, or `nil` when absent.
    public func bool(_ name: String) -> Bool? {
        if case .bool(let v)? = parameters[name] { return v }
        return nil
    }

    /// A string or enumeration parameter.
    /// - Parameter name: the parameter's key.
    /// - Returns: its value, or `nil` when absent.
    public func string(_ name: String) -> String? {
        if case .string(let v)? = parameters[name] { return v }
        return nil
    }

    /// A list-of-integers parameter.
    /// - Parameter name: the parameter's key.
    /// - Returns: its values, or `nil` when absent.
    public func ints(_ name: String) -> [Int]? {
        guard case .list(let items)? = parameters[name] else { return nil }
        return items.compactMap { if case .int(let v) = $0 { v } else { nil } }
    }

    /// A list-of-strings parameter.
    /// - Parameter name: the parameter's key.
    /// - Returns: its values, or `nil` when absent.
    public func strings(_ name: String) -> [String]? {
        guard case .list(let items)? = parameters[name] else { return nil }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    /// A reference parameter: the qualified name of a model, store, constraint or node, as the
    /// plan's `models`, `stores`, `constraints` and `nodes` name them.
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
}

extension Plan.Node {
    /// A string parameter naming a file, resolved against the directory of the graph file that
    /// declares the node (a subgraph's own directory for its nodes).
    /// - Parameter name: the parameter's key.
    /// - Returns: the resolved path, or `nil` when absent.
    public func path(_ name: String) -> String? {
        string(name).map { GraphFileLoader.join(GraphFileLoader.directory(of: location.file), $0) }
    }
}
