import Foundation
import Graph
import Kernels
import ModelRuntime
import Testing
@testable import Engine

/// A model's `generation_config.json`: its end-of-sequence list ends runs, and its sampling values
/// are the defaults of `sample` parameters the graph does not write.
@Suite struct GenerationDefaultsTests {
    /// A copy of a fixture model (links to its files) with the given `generation_config.json`.
    static func model(generationConfig: String) throws -> String {
        let source = Fixtures.target
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("generation-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where name != "generation_config.json" {
            try FileManager.default.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: source + "/" + name)
        }
        try generationConfig.write(toFile: directory + "/generation_config.json", atomically: true, encoding: .utf8)
        return directory
    }

    static func graph(model: String, sampleFields: String) -> String {
        """
        models:
          target: { path: \(model) }
        nodes:
          scores: { op: score, model: target }
          pick: { op: sample, from: scores\(sampleFields) }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: 12 }
        """
    }

    /// temperature 0 in generation_config.json makes a `sample` node without a temperature greedy
    /// (its output equals the explicitly greedy graph's on every seed), and the run says where it
    /// came from; a temperature written on the node wins.
    @Test func samplingDefaultsFillUnwrittenParameters() throws {
        let model = try Self.model(generationConfig: #"{"temperature": 0, "top_p": 0.5, "eos_token_id": [7, 9]}"#)
        let resources = ResourceRegistry(pool: ComputePool(threadCount: 1))
        let prompt: [Int32] = [3, 14, 15, 9, 26]
        let greedy = try Session(plan: try Fixtures.plan(Self.graph(model: model, sampleFields: ", temperature: 0")), resources: resources)
        let defaulted = try Session(plan: try Fixtures.plan(Self.graph(model: model, sampleFields: "")), resources: resources)
        let written = try Session(plan: try Fixtures.plan(Self.graph(model: model, sampleFields: ", temperature: 1.5, top_p: 1")), resources: resources)
        #expect(greedy.notes.count == 1 && greedy.notes[0].contains("top_p 0.5") && !greedy.notes[0].contains("temperature"))
        #expect(defaulted.notes.count == 1 && defaulted.notes[0].contains("temperature 0.0")
                && defaulted.notes[0].contains("generation_config.json"), "\(defaulted.notes)")
        #expect(written.notes.isEmpty)
        let reference = try greedy.run(prompt: prompt).tokens
        var differs = false
        for seed: UInt64 in 0..<4 {
            #expect(try defaulted.run(prompt: prompt, seed: seed).tokens == reference, "seed \(seed)")
            if try written.run(prompt: prompt, seed: seed).tokens != reference { differs = true }
        }
        #expect(differs, "temperature 1.5 on the node overrides the file's 0: some seed leaves the greedy path")
        #expect(defaulted.eosTokens.isSuperset(of: [7, 9]), "the file's eos list ends runs")
    }

    /// A value the sample op would refuse is an error naming the file and the key.
    @Test func outOfRangeValuesAreLocated() throws {
        for (json, key) in [(#"{"top_p": 1.5}"#, "top_p"), (#"{"temperature": -1}"#, "temperature"),
                            (#"{"top_k": "40"}"#, "top_k"), (#"{"eos_token_id": [1, -2]}"#, "eos_token_id"),
                            (#"{"typical_p": 0}"#, "typical_p"), (#"{"epsilon_cutoff": 1}"#, "epsilon_cutoff"),
                            (#"{"eta_cutoff": -0.5}"#, "eta_cutoff")] {
            let model = try Self.model(generationConfig: json)
            do {
                _ = try ModelConfig(directory: model)
                Issue.record("\(json) was accepted")
            } catch {
                #expect("\(error)".contains("generation_config.json") && "\(error)".contains(key), "\(error)")
            }
        }
        // null is transformers' "unset".
        let model = try Self.model(generationConfig: #"{"temperature": null, "top_k": 20}"#)
        #expect(try ModelConfig(directory: model).generation.sampling == ["top_k": 20])
        // transformers' generate() honours the truncation warpers' keys too.
        let truncating = try Self.model(generationConfig: #"{"typical_p": 0.9, "epsilon_cutoff": 0.0003, "eta_cutoff": 0.002}"#)
        #expect(try ModelConfig(directory: truncating).generation.sampling == ["typical_p": 0.9, "epsilon_cutoff": 0.0003, "eta_cutoff": 0.002])
    }
}
