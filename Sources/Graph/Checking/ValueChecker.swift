import Support

/// Turns a YAML value into a typed `ParameterValue`, or says, located, why it cannot.
enum ValueChecker {
    /// Checks one value against a parameter.
    /// - Parameters:
    ///   - node: the value as written.
    ///   - spec: the parameter.
    ///   - subject: how the message names it (`parameter 'tokens' of op 'draft.model'`).
    /// - Returns: the value, or the diagnostics explaining why it is not one.
    static func check(_ node: YAMLNode, against spec: ParameterSpec, subject: String) -> Result<ParameterValue, Diagnostics> {
        convert(node, type: spec.type, range: spec.range, nonEmpty: spec.nonEmpty, subject: subject, expected: spec.typeSummary)
    }

    /// A list of diagnostics as an `Error`, for `Result`.
    struct Diagnostics: Error { var items: [Diagnostic] }

    private static func convert(_ node: YAMLNode, type: ParameterType, range: ValueRange?, nonEmpty: Bool,
                                subject: String, expected: String) -> Result<ParameterValue, Diagnostics> {
        func fail(_ message: String? = nil) -> Result<ParameterValue, Diagnostics> {
            .failure(Diagnostics(items: [.error(node.location, message ?? "\(subject) expects \(expected), got \(describe(node))")]))
        }
        func inRange(_ value: ParameterValue) -> Result<ParameterValue, Diagnostics> {
            if let range, let x = value.number, !range.contains(x) {
                let value = node.scalar ?? value.description
                let bounds = range.description
                let phrase = bounds.first == "[" || bounds.first == "(" ? "in \(bounds)" : bounds
                return fail("\(subject) must be \(phrase), got \(value)")
            }
            return .success(value)
        }
        if case .list(let element) = type {
            let items: [YAMLNode]
            switch node.kind {
            case .sequence(let xs): items = xs
            case .scalar where node.isNull: items = []
            case .scalar: items = [node]
            case .mapping: return fail()
            }
            var values: [ParameterValue] = []
            var problems: [Diagnostic] = []
            for item in items {
                switch convert(item, type: element, range: range, nonEmpty: nonEmpty, subject: subject, expected: expected) {
                case .success(let v): values.append(v)
                case .failure(let d): problems += d.items
                }
            }
            return problems.isEmpty ? .success(.list(values)) : .failure(Diagnostics(items: problems))
        }
        if case .document = type { return .success(.document(node)) }
        guard case .scalar(let text, let plain) = node.kind, !node.isNull || type == .string && !plain else { return fail() }
        switch type {
        case .int:
            guard plain, let v = Int(text) else { return fail() }
            return inRange(.int(v))
        case .float:
            guard plain, let v = Double(text), v.isFinite, text.first != "." else { return fail() }
            return inRange(.float(v))
        case .bool:
            guard plain else { return fail() }
            switch text {
            case "true", "True", "TRUE": return .success(.bool(true))
            case "false", "False", "FALSE": return .success(.bool(false))
            default: return fail()
            }
        case .string:
            if nonEmpty, text.isEmpty { return fail("\(subject) must not be an empty string") }
            return .success(.string(text))
        case .graphFile:
            guard !text.isEmpty else { return fail("\(subject) must name a graph file") }
            return .success(.string(text))
        case .enumeration(let cases):
            guard cases.contains(text) else {
                var message = "\(subject) expects \(expected), got '\(text)'"
                if let s = Suggestion.closest(to: text, among: cases) { message += " (did you mean '\(s)'?)" }
                return fail(message)
            }
            return .success(.string(text))
        case .modelRef, .storeRef, .constraintRef, .nodeRef:
            guard !text.isEmpty else { return fail() }
            return .success(.reference(text))
        case .list, .document:
            return fail()
        }
    }

    /// Why a value (a default) does not fit its parameter, or `nil` when it fits.
    /// - Parameters:
    ///   - value: the value.
    ///   - spec: the parameter.
    /// - Returns: a clause such as `is 0, outside [1, 64]`.
    static func problem(with value: ParameterValue, for spec: ParameterSpec) -> String? {
        func fits(_ value: ParameterValue, _ type: ParameterType) -> Bool {
            switch (type, value) {
            case (.int, .int), (.float, .float), (.float, .int), (.bool, .bool), (.string, .string), (.graphFile, .string), (.document, _): true
            case (.enumeration(let cases), .string(let s)): cases.contains(s)
            case (.list(let element), .list(let items)): items.allSatisfy { fits($0, element) }
            case (.modelRef, .reference), (.storeRef, .reference), (.constraintRef, .reference), (.nodeRef, .reference): true
            default: false
            }
        }
        if !fits(value, spec.type) { return "is \(value), not a \(spec.type)" }
        let strings: [ParameterValue] = if case .list(let items) = value { items } else { [value] }
        if spec.nonEmpty, strings.contains(.string("")) { return "is an empty string" }
        let numbers: [Double] = if case .list(let items) = value { items.compactMap(\.number) } else { value.number.map { [$0] } ?? [] }
        if let range = spec.range, let bad = numbers.first(where: { !range.contains($0) }) {
            return "is \(ParameterValue.float(bad)), outside \(range)"
        }
        return nil
    }

    /// A value as a message quotes it: `'six'`, `a list`, `a mapping`, `null`.
    static func describe(_ node: YAMLNode) -> String {
        if node.isNull { return "null" }
        if case .scalar(let text, let plain) = node.kind, !plain { return "the string \"\(text)\"" }
        return node.kindDescription
    }
}
