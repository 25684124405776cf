import Graph

/// The logits-processor parameters shared by `sample` and `draft.model`, declared once.
enum SamplingParameters {
    /// Parameters of the shaping pipeline.
    /// - Parameter temperatureDefault: the op's default temperature.
    /// - Returns: the parameter table.
    static func specs(temperatureDefault: Double, penalties: Bool) -> [ParameterSpec] {
        var list = [
            ParameterSpec("temperature", .float, default: .float(temperatureDefault), range: .atLeast(0),
                          doc: "Softmax temperature; 0 selects greedily (argmax after penalties and masks)."),
            ParameterSpec("top_k", .int, default: .int(0), range: .atLeast(0), doc: "Keep the k most likely tokens (Fan et al. 2018); 0 keeps all."),
            ParameterSpec("top_p", .float, default: .float(1), range: .openClosed(0, 1), doc: "Nucleus sampling mass (Holtzman et al. 2020); 1 keeps all."),
            ParameterSpec("min_p", .float, default: .float(0), range: .closed(0, 1), doc: "Drop tokens below min_p × the top probability (Nguyen et al. 2024); 0 keeps all."),
            ParameterSpec("typical_p", .float, default: .float(1), range: .openClosed(0, 1),
                          doc: "Locally typical sampling (Meister et al. 2023): keep the tokens whose surprisal is nearest the entropy until they hold this mass; 1 keeps all."),
            ParameterSpec("epsilon_cutoff", .float, default: .float(0), range: .closedOpen(0, 1),
                          doc: "Epsilon sampling (Hewitt et al. 2022): drop tokens below this probability (the paper uses 3e-4 to 9e-4); 0 keeps all."),
            ParameterSpec("eta_cutoff", .float, default: .float(0), range: .closedOpen(0, 1),
                          doc: "Eta sampling (Hewitt et al. 2022): drop tokens below min(eta, √eta · e^−entropy) (the paper uses 3e-4 to 2e-3); 0 keeps all."),
        ]
        if penalties {
            list += [
                ParameterSpec("repetition_penalty", .float, default: .float(1), range: .greaterThan(0),
                              doc: "CTRL repetition penalty (Keskar et al. 2019) on tokens already in the context; 1 is off."),
                ParameterSpec("presence_penalty", .float, default: .float(0), range: .closed(-2, 2), doc: "OpenAI presence penalty on generated tokens; 0 is off."),
                ParameterSpec("frequency_penalty", .float, default: .float(0), range: .closed(-2, 2), doc: "OpenAI frequency penalty on generated tokens; 0 is off."),
                ParameterSpec("suppress_tokens", .list(.int), default: .list([]), range: .atLeast(0), doc: "Token ids never produced (transformers' suppress_tokens)."),
            ]
        }
        return list
    }

    /// The settings a node's parameters describe.
    /// - Parameters:
    ///   - node: a node whose op declares `specs(…)`.
    ///   - defaults: values for parameters the graph does not write (the target model's
    ///     generation defaults), by parameter name; the op's own defaults apply to the rest.
    /// - Returns: the settings.
    /// - Throws: `OperatorError.invalidParameter` for a value the 32-bit floats the pipeline
    ///   computes in cannot hold.
    static func settings(of node: Plan.Node, defaults: [String: Double] = [:]) throws -> SamplingSettings {
        var node = node
        for (name, value) in defaults where !node.written.contains(name) && node.parameters[name] != nil {
            node.parameters[name] = name == "top_k" ? .int(Int(value)) : .float(value)
        }
        var s = SamplingSettings(temperature: try float(node, "temperature") ?? 1, topK: node.int("top_k") ?? 0,
                                 topP: try float(node, "top_p") ?? 1, minP: try float(node, "min_p") ?? 0)
        s.typicalP = try float(node, "typical_p") ?? 1
        s.epsilonCutoff = try float(node, "epsilon_cutoff") ?? 0
        s.etaCutoff = try float(node, "eta_cutoff") ?? 0
        s.repetitionPenalty = try float(node, "repetition_penalty") ?? 1
        s.presencePenalty = try float(node, "presence_penalty") ?? 0
        s.frequencyPenalty = try float(node, "frequency_penalty") ?? 0
        if case .list(let items)? = node.parameters["suppress_tokens"] {
            s.suppressedTokens = items.compactMap { if case .int(let v) = $0 { Int32(clamping: v) } else { nil } }
        }
        return s
    }

    /// A float parameter as the `Float` the pipeline computes in.
    /// - Parameters:
    ///   - node: the node.
    ///   - name: the parameter.
    /// - Returns: the value, `nil` when absent.
    /// - Throws: `OperatorError.invalidParameter` when the value overflows a `Float` (`1e300`
    ///   would become infinity, and every logit divided by it zero).
    static func float(_ node: Plan.Node, _ name: String) throws -> Float? {
        guard let value = node.double(name) else { return nil }
        guard Float(value).isFinite else {
            throw OperatorError(.invalidParameter, at: name, "\(value) is too large for the 32-bit floats logits are computed in (at most \(Float.greatestFiniteMagnitude))")
        }
        return Float(value)
    }
}
