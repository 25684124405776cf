import Foundation

/// Loads the JSON fixtures written by `tools/oracle/make_operator_fixtures.py`.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/operators")

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return object
    }

    /// A float32 row; the script writes non-finite values as the strings "inf" / "-inf".
    static func floats(_ value: Any?) -> [Float] {
        (value as? [Any] ?? []).map { element in
            if let s = element as? String { return s == "-inf" ? -.infinity : .infinity }
            return Float((element as? NSNumber)?.doubleValue ?? .nan)
        }
    }

    static func ints(_ value: Any?) -> [Int32] {
        (value as? [Any] ?? []).map { Int32(truncating: $0 as? NSNumber ?? -1) }
    }
}
