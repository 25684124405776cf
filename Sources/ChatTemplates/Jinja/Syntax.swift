/// An expression of the template language.
indirect enum Expr {
    case literal(Value)
    case name(String)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case attribute(Expr, String)
    case `subscript`(Expr, Expr)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
    case call(Expr, [Expr], [(String, Expr)])
    case filter(Expr, String, [Expr], [(String, Expr)])
    case test(Expr, String, [Expr], negated: Bool)
    case negate(Expr)
    case plus(Expr)
    case not(Expr)
    case binary(String, Expr, Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    /// Chained comparisons (`a < b < c`) as Python and Jinja evaluate them.
    case compare(Expr, [(String, Expr)])
    case conditional(then: Expr, condition: Expr, otherwise: Expr?)
}

/// Where `{% set %}` and `{% for %}` store values.
enum Target {
    case name(String)
    case tuple([Target])
    /// `{% set ns.attr = ... %}`.
    case attribute(String, String)
}

/// A statement of the template, with the line it starts on for error messages.
indirect enum Node {
    case text(String)
    case output(Expr, line: Int)
    case ifChain([(Expr, [Node])], otherwise: [Node], line: Int)
    case forLoop(ForLoop, line: Int)
    case set(Target, Expr, line: Int)
    case setBlock(Target, body: [Node], filters: [(String, [Expr], [(String, Expr)])], line: Int)
    case macro(Macro, line: Int)
    case callBlock(call: Expr, parameters: [(String, Expr?)], body: [Node], line: Int)
    case filterBlock(filters: [(String, [Expr], [(String, Expr)])], body: [Node], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    /// transformers' `{% generation %}`: renders its body; it only marks assistant tokens for training masks.
    case generation([Node])
}

struct ForLoop {
    var target: Target
    var iterable: Expr
    var condition: Expr?
    var body: [Node]
    var otherwise: [Node]
    var recursive: Bool
}

/// `{% macro name(a, b=default) %}`.
final class Macro {
    let name: String
    let parameters: [(String, Expr?)]
    let body: [Node]

    init(name: String, parameters: [(String, Expr?)], body: [Node]) {
        self.name = name
        self.parameters = parameters
        self.body = body
    }
}
