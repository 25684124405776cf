import CYAML

/// Owns one libyaml parser and the bytes it reads; `deinit` frees both.
///
/// libyaml keeps a pointer to its input, so the input is copied into memory this object owns
/// for its whole life. Events are copied into Swift values and released at once, so no libyaml
/// memory escapes.
final class YAMLEventReader {
    /// One parse event, with libyaml's 0-based mark turned into a 1-based location.
    enum Event {
        case streamStart, streamEnd
        case documentStart(SourceLocation)
        case documentEnd
        case alias(anchor: String, SourceLocation)
        case scalar(String, plain: Bool, anchor: String?, tag: String?, SourceLocation)
        case sequenceStart(anchor: String?, tag: String?, SourceLocation)
        case sequenceEnd
        case mappingStart(anchor: String?, tag: String?, SourceLocation)
        case mappingEnd
    }

    /// libyaml's own account of a syntax error, located.
    struct SyntaxError: Error {
        var location: SourceLocation
        var problem: String
        var context: String?
        var contextLocation: SourceLocation?
        /// For encoding errors, the byte offset of the bad input (libyaml gives no mark then).
        var byteOffset: Int?
    }

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let file: String
    private var finished = false

    /// Prepares to read `bytes`.
    /// - Parameters:
    ///   - bytes: the file's content (UTF-8 expected; libyaml reports invalid sequences).
    ///   - file: the path printed in locations.
    /// - Returns: `nil` when libyaml cannot allocate its parser.
    init?(bytes: [UInt8], file: String) {
        parser = .allocate(capacity: 1)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        self.file = file
        guard yaml_parser_initialize(parser) != 0 else {
            parser.deallocate()
            input.deallocate()
            return nil
        }
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }

    /// The next event.
    /// - Returns: the event, or `nil` after the stream's end.
    /// - Throws: `SyntaxError` when the text is not well-formed YAML (libyaml cannot go on after one).
    func next() throws(SyntaxError) -> Event? {
        if finished { return nil }
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) != 0 else {
            finished = true
            let p = parser.pointee
            throw SyntaxError(
                location: location(p.problem_mark),
                problem: p.problem.map { String(cString: $0) } ?? "malformed YAML",
                context: p.context.map { String(cString: $0) },
                contextLocation: p.context == nil ? nil : location(p.context_mark),
                byteOffset: p.error == YAML_READER_ERROR ? Int(p.problem_offset) : nil)
        }
        defer { yaml_event_delete(&event) }
        let at = location(event.start_mark)
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT:
            finished = true
            return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart(at)
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_ALIAS_EVENT:
            return .alias(anchor: Self.string(event.data.alias.anchor) ?? "", at)
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            // The value may hold NUL bytes, so it is read by length, not as a C string.
            let text = s.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: Int(s.length)), as: UTF8.self)
            } ?? ""
            return .scalar(text, plain: s.style == YAML_PLAIN_SCALAR_STYLE,
                           anchor: Self.string(s.anchor), tag: Self.string(s.tag), at)
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            return .sequenceStart(anchor: Self.string(s.anchor), tag: Self.string(s.tag), at)
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            let m = event.data.mapping_start
            return .mappingStart(anchor: Self.string(m.anchor), tag: Self.string(m.tag), at)
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        default:
            // YAML_NO_EVENT: libyaml emits it only after an error, which is thrown above.
            finished = true
            return nil
        }
    }
}
