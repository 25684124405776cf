import Engine
import Foundation
import Testing
@testable import Serving

/// The chat shape of `logprobs` (the demo models have no chat template, so the server tests reach
/// only the completions shape): `{"content": [{token, logprob, bytes, top_logprobs}]}`, with a
/// token the row rules out written as −9999.
@Suite struct ChunkWriterTests {
    @Test func chatChunksCarryContentEntries() throws {
        let pieces: [Int32: [UInt8]] = [1: Array("Hi".utf8), 2: [0xE2, 0x82], 3: [0xAC]]
        var writer = ChunkWriter(id: "chatcmpl-1", created: 0, model: "m", endpoint: .chat, tokenBytes: { pieces[$0] ?? [] })
        let entries = [
            TokenLogProbability(token: 1, logProbability: -0.25, alternatives: [.init(token: 1, logProbability: -0.25), .init(token: 3, logProbability: -.infinity)]),
            TokenLogProbability(token: 2, logProbability: -1.5, alternatives: []),
        ]
        let event = String(decoding: writer.chunk(text: "Hi", role: false, finish: nil, logprobs: entries), as: UTF8.self)
        #expect(event.hasPrefix("data: ") && event.hasSuffix("\n\n"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(event.dropFirst(6).utf8)) as? [String: Any])
        let choice = try #require((json["choices"] as? [[String: Any]])?.first)
        let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
        #expect(content.count == 2)
        #expect(content[0]["token"] as? String == "Hi")
        #expect(content[0]["logprob"] as? Double == -0.25)
        #expect(content[0]["bytes"] as? [Int] == [72, 105])
        let top = try #require(content[0]["top_logprobs"] as? [[String: Any]])
        #expect(top.map { $0["logprob"] as? Double } == [-0.25, -9999])
        // A token that is part of a character: its text is the replacement character, its bytes exact.
        #expect(content[1]["bytes"] as? [Int] == [0xE2, 0x82])
        #expect(content[1]["token"] as? String == "\u{FFFD}")
        #expect((content[1]["top_logprobs"] as? [Any])?.isEmpty == true)
        // Without entries the member is null.
        let plain = String(decoding: writer.chunk(text: "x", role: false, finish: nil), as: UTF8.self)
        #expect(plain.contains("\"logprobs\":null"))
    }
}
