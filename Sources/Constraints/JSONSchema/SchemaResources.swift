/// The schema resources of a compilation's documents: which absolute URI (from `$id`/`id`) and which
/// anchor (`$anchor`, `$dynamicAnchor`, draft 4–7 `#name` ids) names which subschema, and the base URI
/// every subschema resolves `$ref` against. Only subschemas in keyword positions are walked, so an
/// `$id` inside `enum`, `const` or an unknown keyword names nothing (as the specification says).
struct SchemaResources {
    /// A subschema: its document (0 is the schema compiled, then `JSONSchemaOptions.documents`) and
    /// JSON pointer tokens.
    struct Location: Hashable {
        var document: Int
        var path: [String]
    }

    /// The base URI of a document without `$id`; it only needs to be absolute (nothing is fetched).
    static let defaultBase = "https://decograph.invalid/schema.json"

    let draft: JSONSchemaDraft
    private(set) var documents: [JSONValue] = []
    private(set) var resources: [String: Location] = [:]
    private(set) var anchors: [String: Location] = [:]
    /// `$dynamicAnchor` names, each with the resource URIs that define it dynamically.
    private(set) var dynamicAnchors: [String: [String]] = [:]
    /// Resources whose root says `$recursiveAnchor: true` (2019-09).
    private(set) var recursiveAnchors: [Location] = []
    /// The base URI where it changes, by document and path.
    private var bases: [Location: String] = [:]

    /// The keywords whose value is one subschema, a map of them, or an array of them.
    static let schemaKeywords: Set<String> = [
        "items", "additionalItems", "additionalProperties", "not", "if", "then", "else", "contains",
        "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema",
    ]
    static let schemaMapKeywords: Set<String> = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"]
    static let schemaArrayKeywords: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems", "items"]

    init(root: JSONValue, documents: [String: JSONValue], draft: JSONSchemaDraft) {
        self.draft = draft
        add(root, uri: Self.defaultBase)
        for (uri, document) in documents.sorted(by: { $0.key < $1.key }) {
            add(document, uri: SchemaURI.splitFragment(uri).resource)
        }
    }

    private mutating func add(_ document: JSONValue, uri: String) {
        let index = documents.count
        documents.append(document)
        let location = Location(document: index, path: [])
        resources[uri] = location
        bases[location] = uri
        walk(document, location, base: uri)
    }

    /// The base URI `$ref` resolves against at `location` (its own `$id` included).
    func base(at location: Location) -> String {
        var path = location.path
        while true {
            if let b = bases[Location(document: location.document, path: path)] { return b }
            if path.isEmpty { return Self.defaultBase }
            path.removeLast()
        }
    }

    /// The subschema at a location (nil when the path leaves the document).
    func value(at location: Location) -> JSONValue? {
        var node = documents[location.document]
        for token in location.path {
            guard let child = SchemaCompilation.child(node, token) else { return nil }
            node = child
        }
        return node
    }

    /// The location an absolute URI names: a resource, a JSON pointer into one, or an anchor.
    func locate(_ uri: String) -> Location? {
        let (resource, fragment) = SchemaURI.splitFragment(uri)
        if fragment.isEmpty || fragment.hasPrefix("/") {
            guard var location = resources[resource] else { return nil }
            if !fragment.isEmpty {
                for raw in fragment.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                    location.path.append(String(raw).replacing("~1", with: "/").replacing("~0", with: "~"))
                }
            }
            return value(at: location) == nil ? nil : location
        }
        return anchors[resource + "#" + fragment]
    }

    private mutating func walk(_ node: JSONValue, _ location: Location, base: String) {
        guard case .object = node else { return }
        var base = base
        // Before 2019-09 `$ref` replaces its siblings, `id` included.
        let idIgnored = draft.refOverridesSiblings && node["$ref"] != nil
        if !idIgnored, case .string(let id)? = node[draft.idKeyword] {
            let resolved = SchemaURI.resolve(id, against: base)
            let (resource, fragment) = SchemaURI.splitFragment(resolved)
            if id.hasPrefix("#") {
                if draft.idMayBeAnchor && !fragment.isEmpty { anchors[resource + "#" + fragment] = location }
            } else {
                base = resource
                resources[resource] = location
                bases[location] = resource
                if draft.idMayBeAnchor && !fragment.isEmpty { anchors[resolved] = location }
            }
        }
        if draft >= .draft2019_09, case .string(let name)? = node["$anchor"] { anchors[base + "#" + name] = location }
        if draft == .draft2020_12, case .string(let name)? = node["$dynamicAnchor"] {
            anchors[base + "#" + name] = location
            dynamicAnchors[name, default: []].append(base)
        }
        if draft == .draft2019_09, case .bool(true)? = node["$recursiveAnchor"] { recursiveAnchors.append(location) }
        guard case .object(let members) = node else { return }
        for (keyword, value) in members {
            let here = location.path + [keyword]
            if Self.schemaMapKeywords.contains(keyword), case .object(let entries) = value {
                for (name, schema) in entries { walk(schema, Location(document: location.document, path: here + [name]), base: base) }
            }
            if Self.schemaArrayKeywords.contains(keyword), case .array(let items) = value {
                for (i, schema) in items.enumerated() { walk(schema, Location(document: location.document, path: here + [String(i)]), base: base) }
            }
            if Self.schemaKeywords.contains(keyword) { walk(value, Location(document: location.document, path: here), base: base) }
        }
    }
}
