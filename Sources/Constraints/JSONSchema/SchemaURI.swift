/// URI reference resolution (RFC 3986 §5.2) for `$id` and `$ref`: enough to name schema resources
/// within the documents a compilation knows, nothing is fetched.
enum SchemaURI {
    /// The components of a URI reference (RFC 3986 §3): each nil when absent.
    struct Components {
        var scheme: String?
        var authority: String?
        var path: String
        var query: String?
        var fragment: String?

        init(_ text: String) {
            var rest = Substring(text)
            if let hash = rest.firstIndex(of: "#") {
                fragment = String(rest[rest.index(after: hash)...])
                rest = rest[..<hash]
            }
            if let question = rest.firstIndex(of: "?") {
                query = String(rest[rest.index(after: question)...])
                rest = rest[..<question]
            }
            // A scheme is letters, digits, `+`, `-`, `.` before the first `:`, starting with a letter.
            if let colon = rest.firstIndex(of: ":"), let first = rest.first, first.isLetter,
               rest[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) {
                scheme = String(rest[..<colon])
                rest = rest[rest.index(after: colon)...]
            }
            if rest.hasPrefix("//") {
                rest = rest.dropFirst(2)
                let end = rest.firstIndex(of: "/") ?? rest.endIndex
                authority = String(rest[..<end])
                rest = rest[end...]
            }
            path = String(rest)
        }

        var text: String {
            var out = ""
            if let scheme { out += scheme + ":" }
            if let authority { out += "//" + authority }
            out += path
            if let query { out += "?" + query }
            if let fragment { out += "#" + fragment }
            return out
        }
    }

    /// `reference` resolved against `base` (RFC 3986 §5.2.2, non-strict).
    static func resolve(_ reference: String, against base: String) -> String {
        let r = Components(reference)
        if r.scheme != nil { return Components(withDotSegmentsRemoved: r).text }
        var t = Components(base)
        t.fragment = r.fragment
        if r.authority != nil {
            t.authority = r.authority
            t.path = removeDotSegments(r.path)
            t.query = r.query
        } else if r.path.isEmpty {
            if r.query != nil { t.query = r.query }
        } else {
            if r.path.hasPrefix("/") {
                t.path = removeDotSegments(r.path)
            } else if t.authority != nil && t.path.isEmpty {
                t.path = removeDotSegments("/" + r.path)
            } else {
                let directory = t.path.lastIndex(of: "/").map { String(t.path[...$0]) } ?? ""
                t.path = removeDotSegments(directory + r.path)
            }
            t.query = r.query
        }
        return t.text
    }

    /// The URI without its fragment, and the fragment (percent-decoded; empty when absent).
    static func splitFragment(_ uri: String) -> (resource: String, fragment: String) {
        guard let hash = uri.firstIndex(of: "#") else { return (uri, "") }
        return (String(uri[..<hash]), String(uri[uri.index(after: hash)...]).removingPercentEncodingManually)
    }

    /// RFC 3986 §5.2.4.
    static func removeDotSegments(_ path: String) -> String {
        var input = Substring(path)
        var output: [Substring] = []
        while !input.isEmpty {
            if input.hasPrefix("../") { input = input.dropFirst(3) }
            else if input.hasPrefix("./") { input = input.dropFirst(2) }
            else if input.hasPrefix("/./") { input = input.dropFirst(2) }
            else if input == "/." { input = "/" }
            else if input.hasPrefix("/../") { input = input.dropFirst(3); _ = output.popLast() }
            else if input == "/.." { input = "/"; _ = output.popLast() }
            else if input == "." || input == ".." { input = "" }
            else {
                let start = input.hasPrefix("/") ? input.index(after: input.startIndex) : input.startIndex
                let end = input[start...].firstIndex(of: "/") ?? input.endIndex
                output.append(input[..<end])
                input = input[end...]
            }
        }
        return output.joined()
    }
}

extension SchemaURI.Components {
    fileprivate init(withDotSegmentsRemoved c: Self) {
        self = c
        path = SchemaURI.removeDotSegments(c.path)
    }
}
