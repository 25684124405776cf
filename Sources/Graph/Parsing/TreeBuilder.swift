/// Builds the located tree from parse events.
struct TreeBuilder {
    /// The deepest nesting of mappings and sequences accepted. A graph nests four levels
    /// (section, node, field, list) and an inline JSON Schema a dozen or so; the limit keeps
    /// hostile input (`[[[[…`) from exhausting the stack of the recursive passes over the tree.
    static let maximumDepth = 64

    let file: String
    var root: YAMLNode?
    var diagnostics: [Diagnostic] = []
    private var documents = 0
    /// Set when the input nests too deep: reading stops there, because libyaml's scanner does
    /// work proportional to the depth for every token (measured: 100 000 nested `[` take over a
    /// minute), so a hostile file must not be read to its end.
    private(set) var aborted = false

    private enum Frame {
        case sequence(SourceLocation, [YAMLNode])
        case mapping(SourceLocation, [YAMLNode.Entry], pendingKey: YAMLNode?, seen: [String: SourceLocation])
    }
    private var stack: [Frame] = []

    init(file: String) { self.file = file }

    mutating func consume(_ event: YAMLEventReader.Event) {
        switch event {
        case .sequenceStart(_, _, let at) where stack.count >= Self.maximumDepth,
             .mappingStart(_, _, let at) where stack.count >= Self.maximumDepth:
            diagnostics.append(.error(at, "YAML nested more than \(Self.maximumDepth) levels deep; a graph file is not that deep"))
            aborted = true
            return
        default: break
        }
        switch event {
        case .streamStart, .streamEnd, .documentEnd: break
        case .documentStart(let at):
            documents += 1
            if documents == 2 {
                diagnostics.append(.error(at, "a graph file holds one YAML document; remove this '---' and what follows or move it to its own file"))
            }
        case .alias(let anchor, let at):
            diagnostics.append(.error(at, "YAML aliases ('*\(anchor)') are not supported; reuse a part of a graph with a 'use:' subgraph"))
            dropPendingEntry()
        case .scalar(let text, let plain, let anchor, let tag, let at):
            refuse(anchor: anchor, tag: tag, at: at)
            add(YAMLNode(.scalar(text, plain: plain), at: at))
        case .sequenceStart(let anchor, let tag, let at):
            refuse(anchor: anchor, tag: tag, at: at)
            stack.append(.sequence(at, []))
        case .mappingStart(let anchor, let tag, let at):
            refuse(anchor: anchor, tag: tag, at: at)
            stack.append(.mapping(at, [], pendingKey: nil, seen: [:]))
        case .sequenceEnd:
            guard case .sequence(let at, let items) = stack.popLast() else { return }
            add(YAMLNode(.sequence(items), at: at))
        case .mappingEnd:
            guard case .mapping(let at, let entries, _, _) = stack.popLast() else { return }
            add(YAMLNode(.mapping(entries), at: at))
        }
    }

    private mutating func refuse(anchor: String?, tag: String?, at: SourceLocation) {
        if let anchor {
            diagnostics.append(.error(at, "YAML anchors ('&\(anchor)') are not supported; reuse a part of a graph with a 'use:' subgraph"))
        }
        // Every explicit tag is refused, the standard `!!` ones too: `!!binary` and
        // `!!python/object:…` ask a loader to construct something, and even `!!str` changes a
        // value's type where a quoted scalar says the same thing visibly.
        if let tag {
            diagnostics.append(.error(at, "YAML tag '\(Self.written(tag))' is not supported; graph files use plain values (quote a value to make it a string)"))
        }
    }

    /// A tag as the file wrote it: libyaml expands the `!!` shorthand to the YAML namespace.
    private static func written(_ tag: String) -> String {
        let namespace = "tag:yaml.org,2002:"
        return tag.hasPrefix(namespace) ? "!!" + tag.dropFirst(namespace.count) : tag
    }

    /// Forgets the key waiting for the value that could not be read (an alias), so the refused
    /// alias is reported once rather than again as a missing value.
    private mutating func dropPendingEntry() {
        if case .mapping(let at, let entries, _?, let seen) = stack.last {
            stack[stack.count - 1] = .mapping(at, entries, pendingKey: nil, seen: seen)
        }
    }

    private mutating func add(_ node: YAMLNode) {
        guard let top = stack.popLast() else {
            if documents <= 1 { root = node }
            return
        }
        switch top {
        case .sequence(let at, var items):
            items.append(node)
            stack.append(.sequence(at, items))
        case .mapping(let at, var entries, let pendingKey, var seen):
            guard let key = pendingKey else {
                stack.append(.mapping(at, entries, pendingKey: node, seen: seen))
                return
            }
            if let name = key.scalar {
                if let first = seen[name] {
                    diagnostics.append(.error(key.location, "duplicate key '\(name)'; a mapping names each key once",
                                              notes: [.note(first, "'\(name)' is first defined here")]))
                } else {
                    seen[name] = key.location
                    entries.append(YAMLNode.Entry(key: key, value: node))
                }
            } else {
                diagnostics.append(.error(key.location, "a mapping key must be a plain name, not \(key.kindDescription)"))
            }
            stack.append(.mapping(at, entries, pendingKey: nil, seen: seen))
        }
    }
}
