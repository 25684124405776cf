import Foundation
import Testing
@testable import Tokenization

@Suite struct JSONParserTests {
    static func parse(_ text: String) throws -> Any { try JSONValue.jsonObject(Data(text.utf8), displayName: "t.json") }

    static func message(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return (error as? TokenizerError)?.description
        }
    }

    @Test func objectsKeepEveryKeyScalarForScalar() throws {
        let o = try #require(try Self.parse(#"{"\u00e9": 1, "e\u0301": 2, "\ufeffx": true, "n": null}"#) as? JSONObject)
        #expect(o.keys.map { Array($0.unicodeScalars) } == [["\u{E9}"], ["e", "\u{301}"], ["\u{FEFF}", "x"], ["n"]])
        #expect((o.value("e\u{301}") as? NSNumber)?.intValue == 2)
        #expect((o.value("\u{E9}") as? NSNumber)?.intValue == 1)
        #expect(o.value("n") is NSNull)
    }

    @Test func literalByteOrderMarkInsideAStringSurvives() throws {
        let s = try #require(try Self.parse("[\"a\u{FEFF}b\"]") as? [Any])
        #expect(Array((s[0] as! String).unicodeScalars) == ["a", "\u{FEFF}", "b"])
        #expect(try Self.parse("\u{FEFF}[1]") is [Any])
    }

    @Test func numbersParseExactly() throws {
        let a = try #require(try Self.parse("[-12.5e-1, 9007199254740993, 0.1, -0]") as? [Any])
        #expect((a[0] as! NSNumber).doubleValue == -1.25)
        #expect((a[1] as! NSNumber).int64Value == 9_007_199_254_740_993)
        #expect((a[2] as! NSNumber).doubleValue == 0.1)
    }

    @Test(arguments: [
        ("{\"a\": 1,\n  \"b\" 2}", "line 2, column 7"),
        ("[1, 2", "line 1, column 6"),
        ("[\"\\ud800\"]", "lone leading surrogate"),
        ("[\"\\udc00\"]", "lone trailing surrogate"),
        ("[01]", "leading zero"),
        ("[tru]", "invalid literal"),
        ("[1] x", "after the JSON value"),
        ("[\"a\nb\"]", "control character"),
    ])
    func syntaxErrorsSayWhereAndWhat(text: String, expected: String) throws {
        let m = try #require(Self.message(text))
        #expect(m.hasPrefix("t.json: not valid JSON at line"))
        #expect(m.contains(expected))
    }

    @Test func invalidUTF8IsAnError() throws {
        let e = try #require(Self.error(Data([0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D])))
        #expect(e.description.contains("not valid UTF-8"))
    }

    /// Hostile nesting is refused at a fixed depth instead of overflowing the stack.
    @Test func deepNestingIsBounded() throws {
        let depth = JSONParser.maximumDepth * 40
        let m = try #require(Self.message(String(repeating: "[", count: depth) + String(repeating: "]", count: depth)))
        #expect(m.contains("nested deeper than \(JSONParser.maximumDepth)"))
        #expect(try Self.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) is [Any])
    }

    static func error(_ data: Data) -> TokenizerError? {
        do {
            _ = try JSONValue.jsonObject(data, displayName: "t.json")
            return nil
        } catch {
            return error as? TokenizerError
        }
    }
}
