import Graph
import Support

/// One parameter of an op, declared once: its `ParameterSpec` (name, type, default, range, doc),
/// which the compiler checks and `decograph ops` prints, and its typed read, `node[Self.tokens]`.
///
/// The read takes the default from the spec itself, so an op never restates it: the plan's
/// lowering has filled it in already, and a node without it (one built by hand) reads the same
/// value. It lives here, not in Graph beside `ParameterSpec`, because it is the op-authoring half
/// of the table: Graph checks untyped values for every section of a graph file, while only ops
/// read them as Swift values, and a value an op cannot use is an `OperatorError` like every other
/// refusal of binding.
struct OpParameter<Value: ParameterConvertible>: Sendable {
    /// The declaration the compiler checks and the reference documents.
    private(set) var spec: ParameterSpec

    /// A parameter with a default.
    /// - Parameters:
    ///   - name: its key in the graph file.
    ///   - defaultValue: the value when the graph leaves it out.
    ///   - range: allowed numbers.
    ///   - doc: what it does, and the paper or measurement its default comes from.
    init(_ name: String, default defaultValue: Value, range: ValueRange? = nil, doc: String) {
        spec = ParameterSpec(name, Value.parameterType, default: defaultValue.parameterValue, range: range, doc: doc)
    }

    /// A parameter without a default: required, or optional when `Value` is an `Optional` (the
    /// read is then `nil` when the graph leaves it out).
    /// - Parameters:
    ///   - name: its key in the graph file.
    ///   - type: its type in the graph language where `Value` does not say it alone (a model,
    ///     store or constraint name is a `String`); `nil` for `Value`'s own.
    ///   - range: allowed numbers.
    ///   - nonEmpty: whether strings must have a character.
    ///   - doc: what it does.
    init(_ name: String, _ type: ParameterType? = nil, range: ValueRange? = nil, nonEmpty: Bool = false, doc: String) {
        spec = ParameterSpec(name, type ?? Value.parameterType, optional: Value.absent != nil, range: range,
                             nonEmpty: nonEmpty, doc: doc)
    }

    /// The key in the graph file.
    var name: String { spec.name }

    /// The same parameter — name, type, default, range — as another op documents it (what it
    /// means there).
    /// - Parameter doc: the other op's sentence.
    /// - Returns: the parameter with that documentation.
    func documented(_ doc: String) -> OpParameter {
        var copy = self
        copy.spec.doc = doc
        return copy
    }
}

extension Plan.Node {
    /// A parameter's value: as written, else the spec's default, else `nil` for an optional one.
    /// - Parameter parameter: the op's declaration of it.
    /// - Returns: the value.
    /// - Throws: `OperatorError.invalidParameter` at the parameter for a required one that is
    ///   missing or a value of another type (both ruled out by the compiler for a lowered plan),
    ///   or one `Value` cannot hold (a float too large for `Float`).
    subscript<Value>(_ parameter: OpParameter<Value>) -> Value {
        get throws {
            guard let value = parameters[parameter.name] ?? parameter.spec.defaultValue else {
                guard let absent = Value.absent else {
                    throw OperatorError(.invalidParameter, at: parameter.name, "missing; give it on the node (\(parameter.spec.typeSummary))")
                }
                return absent
            }
            return try Value(parameter: value, name: parameter.name)
        }
    }
}

/// A Swift type an op parameter can be read as.
protocol ParameterConvertible: Sendable {
    /// Its type in the graph language.
    static var parameterType: ParameterType { get }
    /// The value of a parameter left out without a default: `nil` (required) except for
    /// `Optional`, whose reads are then `nil`.
    static var absent: Self? { get }
    /// Reads a checked value.
    /// - Parameters:
    ///   - parameter: the value.
    ///   - name: the parameter's key, for errors.
    /// - Throws: `OperatorError.invalidParameter` for a value of another type or one this type
    ///   cannot hold.
    init(parameter: ParameterValue, name: String) throws
    /// The value as the graph language holds it (a default), `nil` for an absent optional.
    var parameterValue: ParameterValue? { get }
}

extension ParameterConvertible {
    /// Required unless `Optional`.
    static var absent: Self? { nil }

    /// The error for a value of another type than declared.
    static func mismatch(_ value: ParameterValue, _ name: String) -> OperatorError {
        OperatorError(.invalidParameter, at: name, "\(value) is not a \(parameterType)")
    }
}

extension Int: ParameterConvertible {
    static var parameterType: ParameterType { .int }
    init(parameter: ParameterValue, name: String) throws {
        guard case .int(let v) = parameter else { throw Self.mismatch(parameter, name) }
        self = v
    }
    var parameterValue: ParameterValue? { .int(self) }
}

extension Double: ParameterConvertible {
    static var parameterType: ParameterType { .float }
    /// An integer written for a float reads as its value.
    init(parameter: ParameterValue, name: String) throws {
        guard let v = parameter.number else { throw Self.mismatch(parameter, name) }
        self = v
    }
    var parameterValue: ParameterValue? { .float(self) }
}

extension Float: ParameterConvertible {
    static var parameterType: ParameterType { .float }
    /// A float parameter as the `Float` logits are computed in.
    /// - Throws: `OperatorError.invalidParameter` when the value overflows a `Float` (`1e300`
    ///   would become infinity, and every logit divided by it zero).
    init(parameter: ParameterValue, name: String) throws {
        let value = try Double(parameter: parameter, name: name)
        guard Float(value).isFinite else {
            throw OperatorError(.invalidParameter, at: name, "\(value) is too large for the 32-bit floats logits are computed in (at most \(Float.greatestFiniteMagnitude))")
        }
        self = Float(value)
    }
    /// The shortest decimal that reads back as this `Float` (`0.7`, not `0.699999988079071`), so
    /// a default prints in the reference as it was written.
    var parameterValue: ParameterValue? { .float(Double(description) ?? Double(self)) }
}

extension Bool: ParameterConvertible {
    static var parameterType: ParameterType { .bool }
    init(parameter: ParameterValue, name: String) throws {
        guard case .bool(let v) = parameter else { throw Self.mismatch(parameter, name) }
        self = v
    }
    var parameterValue: ParameterValue? { .bool(self) }
}

/// Text, or the qualified name of a model, store or constraint (declared with that `type`).
extension String: ParameterConvertible {
    static var parameterType: ParameterType { .string }
    init(parameter: ParameterValue, name: String) throws {
        switch parameter {
        case .string(let v), .reference(let v): self = v
        default: throw Self.mismatch(parameter, name)
        }
    }
    var parameterValue: ParameterValue? { .string(self) }
}

/// YAML kept as written (an inline JSON Schema).
extension YAMLNode: ParameterConvertible {
    static var parameterType: ParameterType { .document }
    init(parameter: ParameterValue, name: String) throws {
        guard case .document(let v) = parameter else { throw Self.mismatch(parameter, name) }
        self = v
    }
    var parameterValue: ParameterValue? { .document(self) }
}

extension Array: ParameterConvertible where Element: ParameterConvertible {
    static var parameterType: ParameterType { .list(Element.parameterType) }
    /// Each item read as `Element`, errors located at `name[i]`.
    init(parameter: ParameterValue, name: String) throws {
        guard case .list(let items) = parameter else { throw Self.mismatch(parameter, name) }
        self = try items.enumerated().map { try Element(parameter: $1, name: "\(name)[\($0)]") }
    }
    var parameterValue: ParameterValue? { .list(compactMap(\.parameterValue)) }
}

/// A parameter that may be left out without a default.
extension Optional: ParameterConvertible where Wrapped: ParameterConvertible {
    static var parameterType: ParameterType { Wrapped.parameterType }
    static var absent: Self? { .some(nil) }
    init(parameter: ParameterValue, name: String) throws { self = try Wrapped(parameter: parameter, name: name) }
    var parameterValue: ParameterValue? { self?.parameterValue }
}

/// A parameter that takes one of a fixed set of words: a Swift enumeration whose raw values are
/// the words, in the order the reference lists them.
protocol ParameterEnumeration: ParameterConvertible, RawRepresentable<String>, CaseIterable {}

extension ParameterEnumeration {
    static var parameterType: ParameterType { .enumeration(allCases.map(\.rawValue)) }
    init(parameter: ParameterValue, name: String) throws {
        guard case .string(let word) = parameter, let value = Self(rawValue: word) else { throw Self.mismatch(parameter, name) }
        self = value
    }
    var parameterValue: ParameterValue? { .string(rawValue) }
}
