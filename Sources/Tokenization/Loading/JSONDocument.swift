import Foundation

/// The JSON reader of this module for other modules: objects come back as `JSONObject` with their
/// members in document order (chat templates iterate tool schemas and print them with `tojson`,
/// so the order a file wrote must survive), arrays as `[Any]`, strings as `String`, numbers and
/// booleans as `NSNumber` (tell them apart with `scalar(_:)`) and `null` as `NSNull`.
public enum JSONDocument {
    /// A JSON number or boolean, told apart.
    public enum Scalar: Equatable, Sendable {
        case bool(Bool)
        case int(Int)
        case double(Double)
    }

    /// Parses a whole JSON text.
    /// - Parameters:
    ///   - data: the UTF-8 text.
    ///   - displayName: the file name that errors name.
    /// - Returns: the value, in the representation described on the type.
    /// - Throws: `TokenizerError` (`.malformed`) with the line and column where the text stops being JSON.
    public static func parse(_ data: Data, displayName: String) throws -> Any {
        try JSONValue.jsonObject(data, displayName: displayName)
    }

    /// What an `NSNumber` from `parse` holds: integers that fit in `Int` were parsed as such, every
    /// other number as a `Double`, and booleans as `NSNumber(value: Bool)`.
    public static func scalar(_ number: NSNumber) -> Scalar {
        if ObjectIdentifier(type(of: number)) == booleanType { return .bool(number.boolValue) }
        let kind = String(cString: number.objCType)
        if kind == "d" || kind == "f" { return .double(number.doubleValue) }
        return .int(number.intValue)
    }

    /// Booleans are a distinct NSNumber subclass (on Linux and Darwin alike).
    private static let booleanType = ObjectIdentifier(type(of: NSNumber(value: true)))
}
