import Graph

/// The logits-processor parameters shared by `sample` and `draft.model`, declared once; each op
/// holds one value of it, whose temperature carries that op's default.
struct SamplingParameters: Sendable {
    /// The op's temperature, the one parameter whose default differs between ops.
    let temperature: OpParameter<Float>
    /// Whether the op declares the penalties and `suppress_tokens`.
    let penalties: Bool

    /// The shaping parameters of an op.
    /// - Parameters:
    ///   - temperatureDefault: the op's default temperature.
    ///   - penalties: whether it declares the penalties and `suppress_tokens`.
    init(temperatureDefault: Float, penalties: Bool) {
        temperature = OpParameter("temperature", default: temperatureDefault, range: .atLeast(0),
                                  doc: "Softmax temperature; 0 selects greedily (argmax after penalties and masks).")
        self.penalties = penalties
    }

    static let topK = OpParameter<Int>("top_k", default: 0, range: .atLeast(0), doc: "Keep the k most likely tokens (Fan et al. 2018); 0 keeps all.")
    static let topP = OpParameter<Float>("top_p", default: 1, range: .openClosed(0, 1), doc: "Nucleus sampling mass (Holtzman et al. 2020); 1 keeps all.")
    static let minP = OpParameter<Float>("min_p", default: 0, range: .closed(0, 1), doc: "Drop tokens below min_p × the top probability (Nguyen et al. 2024); 0 keeps all.")
    static let typicalP = OpParameter<Float>("typical_p", default: 1, range: .openClosed(0, 1),
                                             doc: "Locally typical sampling (Meister et al. 2023): keep the tokens whose surprisal is nearest the entropy until they hold this mass; 1 keeps all.")
    static let epsilonCutoff = OpParameter<Float>("epsilon_cutoff", default: 0, range: .closedOpen(0, 1),
                                                  doc: "Epsilon sampling (Hewitt et al. 2022): drop tokens below this probability (the paper uses 3e-4 to 9e-4); 0 keeps all.")
    static let etaCutoff = OpParameter<Float>("eta_cutoff", default: 0, range: .closedOpen(0, 1),
                                              doc: "Eta sampling (Hewitt et al. 2022): drop tokens below min(eta, √eta · e^−entropy) (the paper uses 3e-4 to 2e-3); 0 keeps all.")
    static let repetitionPenalty = OpParameter<Float>("repetition_penalty", default: 1, range: .greaterThan(0),
                                                      doc: "CTRL repetition penalty (Keskar et al. 2019) on tokens already in the context; 1 is off.")
    static let presencePenalty = OpParameter<Float>("presence_penalty", default: 0, range: .closed(-2, 2), doc: "OpenAI presence penalty on generated tokens; 0 is off.")
    static let frequencyPenalty = OpParameter<Float>("frequency_penalty", default: 0, range: .closed(-2, 2), doc: "OpenAI frequency penalty on generated tokens; 0 is off.")
    static let noRepeatNGramSize = OpParameter<Int>("no_repeat_ngram_size", default: 0, range: .closed(0, 64),
                                                    doc: "Remove every token that would complete an n-gram of this length already in the context, prompt included (transformers' no_repeat_ngram_size; 1 bans every token seen); 0 is off.")
    static let suppressTokens = OpParameter<[Int]>("suppress_tokens", default: [], range: .atLeast(0), doc: "Token ids never produced (transformers' suppress_tokens).")

    /// Parameters of the shaping pipeline.
    var specs: [ParameterSpec] {
        var list = [temperature.spec, Self.topK.spec, Self.topP.spec, Self.minP.spec, Self.typicalP.spec, Self.epsilonCutoff.spec, Self.etaCutoff.spec]
        if penalties {
            list += [Self.repetitionPenalty.spec, Self.presencePenalty.spec, Self.frequencyPenalty.spec, Self.noRepeatNGramSize.spec,
                     Self.suppressTokens.spec]
        }
        return list
    }

    /// The settings a node's parameters describe; a parameter the op does not declare reads as
    /// its default, which leaves its processor off.
    /// - Parameters:
    ///   - node: a node whose op declares `specs`.
    ///   - defaults: values for parameters the graph does not write (the target model's
    ///     generation defaults), by parameter name; the op's own defaults apply to the rest.
    /// - Returns: the settings.
    /// - Throws: `OperatorError.invalidParameter` for a value the 32-bit floats the pipeline
    ///   computes in cannot hold.
    func settings(of node: Plan.Node, defaults: [String: Double] = [:]) throws -> SamplingSettings {
        var node = node
        for (name, value) in defaults where !node.written.contains(name) && node.parameters[name] != nil {
            node.parameters[name] = name == Self.topK.name ? .int(Int(value)) : .float(value)
        }
        var s = SamplingSettings(temperature: try node[temperature], topK: try node[Self.topK],
                                 topP: try node[Self.topP], minP: try node[Self.minP])
        s.typicalP = try node[Self.typicalP]
        s.epsilonCutoff = try node[Self.epsilonCutoff]
        s.etaCutoff = try node[Self.etaCutoff]
        s.repetitionPenalty = try node[Self.repetitionPenalty]
        s.presencePenalty = try node[Self.presencePenalty]
        s.frequencyPenalty = try node[Self.frequencyPenalty]
        s.noRepeatNGramSize = try node[Self.noRepeatNGramSize]
        s.suppressedTokens = try node[Self.suppressTokens].map { Int32(clamping: $0) }
        return s
    }
}
