import Foundation
import Testing
@testable import ChatTemplates

/// The language features one at a time. Each expected text is what transformers'
/// `_compile_jinja_template(source).render()` (jinja2 3.1.6) printed for the same source.
@Suite struct ChatTemplateTests {
    static let languageCases: [(String, String, String)] = [
        ("trim_blocks and lstrip_blocks", "A\n  {% if true %}\n    x\n  {% endif %}\nB", "A\n    x\nB"),
        ("minus strips around tags", "A  {%- if true -%}  x  {%- endif %}  B", "Ax  B"),
        ("plus keeps whitespace", "A\n  {%+ if true +%}\nx{% endif %}", "A\n  \nx"),
        ("comments and raw", "{# c #}\n  {{ 'v' }}\n{% raw %}{{ not }}{% endraw %}\n!", "  v\n{{ not }}!"),
        ("loop unpacking, filter, loop variables",
         "{% for a, b in [(1, 'x'), (2, 'y')] if a > 0 %}{{ loop.index }}{{ a }}{{ b }}{{ loop.previtem is defined }}{% else %}none{% endfor %}",
         "11xFalse22yTrue"),
        ("namespace survives the loop, locals do not",
         "{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% set local = i %}{% endfor %}{{ ns.n }}{{ local is defined }}",
         "3False"),
        ("tojson as transformers configures it",
         "{{ {'b': [1, 2.5, None, true], 'a': 'é\"\\n'} | tojson }}|{{ {'k': [1]} | tojson(indent=2) }}",
         "{\"b\": [1, 2.5, null, true], \"a\": \"é\\\"\\n\"}|{\n  \"k\": [\n    1\n  ]\n}"),
        ("string methods, slices and arithmetic",
         "{{ '  Hi There  '.strip().split(' ') }}{{ 'abc'[::-1] }}{{ [1,2,3][1:] }}{{ 7 // 2 }}{{ -7 // 2 }}{{ 2 ** 10 }}{{ 7 % 3 }}{{ 1 / 2 }}",
         "['Hi', 'There']cba[2, 3]3-4102410.5"),
        ("macros and block set",
         "{% macro m(x, y='d') %}<{{ x }}{{ y }}>{% endmacro %}{{ m(1) }}{{ m(2, y=3) }}{% set b %}in{{ 1 + 1 }}{% endset %}{{ b | upper }}",
         "<1d><23>IN2"),
        ("filters",
         "{{ [3, 1, 2] | sort | join(',') }} {{ ['a','B','a'] | unique | list }} {{ {'b': 1, 'a': 2} | dictsort }} {{ [{'n': 'x'}, {'n': 'y'}] | map(attribute='n') | join }} {{ 'x' | default('y') }} {{ undefined_thing | default('y') }} {{ [1,2,3,4] | select('even') | list }} {{ 'a\\nb' | indent(2, first=True) }}",
         "1,2,3 ['a', 'B'] [('a', 2), ('b', 1)] xy x y [2, 4]   a\n  b"),
        ("tojson's ensure_ascii", "{{ 'é😀\\x7f\\x01' | tojson(ensure_ascii=True) }}|{{ 'é\\x7f\\x01' | tojson }}",
         "\"\\u00e9\\ud83d\\ude00\\u007f\\u0001\"|\"é\u{7F}\\u0001\""),
        ("a sign binds before filters", "{{ -3|abs }} {{ -(3|abs) }} {{ - 2 ** 2 }}", "3 -3 4"),
        ("Python's str of values", "{{ [1, 'a', None, True, 2.0, {'k': 'v'}] }}{{ (1,) }}{{ none }}", "[1, 'a', None, True, 2.0, {'k': 'v'}](1,)None"),
    ]

    @Test(arguments: languageCases.indices)
    func language(_ k: Int) throws {
        let (label, source, expected) = Self.languageCases[k]
        let text = try ChatTemplate(source: source, name: label).render(messages: [])
        #expect(text == expected, "\(label)")
    }

    @Test func rendersChatML() throws {
        let template = try ChatTemplate(source: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
        #expect(try template.render(messages: [.message(role: "user", content: "Hi")]) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        #expect(try template.render(messages: [.message(role: "user", content: "Hi")], addGenerationPrompt: false) == "<|im_start|>user\nHi<|im_end|>\n")
    }

    @Test func raiseExceptionFailsWithTheTemplatesMessageAndLine() throws {
        let template = try ChatTemplate(source: "ok\n{% if messages[0].role != 'user' %}\n{{ raise_exception('Conversation must start with user') }}\n{% endif %}", name: "t.jinja")
        #expect(throws: ChatTemplateError(.raised, source: "t.jinja", line: 3, "Conversation must start with user")) {
            try template.render(messages: [.message(role: "assistant", content: "x")])
        }
        let error = ChatTemplateError(.raised, source: "t.jinja", line: 3, "m")
        #expect(error.description.hasPrefix("t.jinja:3: error:"))
    }

    @Test func undefinedSemanticsFollowJinja() throws {
        // Printing, iterating and testing an undefined value are fine; its attributes are an error.
        #expect(try ChatTemplate(source: "[{{ nope }}]{% for x in nope %}x{% endfor %}{{ nope is defined }}{{ messages[0].missing is defined }}")
            .render(messages: [.message(role: "user", content: "x")]) == "[]FalseFalse")
        #expect(throws: ChatTemplateError(.undefined, source: "t", line: 1, "'nope' is undefined")) {
            try ChatTemplate(source: "{{ nope.attr }}", name: "t").render(messages: [])
        }
        #expect(throws: ChatTemplateError(.undefined, source: "t", line: 1, "'dict object' has no attribute 'missing'")) {
            try ChatTemplate(source: "{{ messages[0].missing.x }}", name: "t").render(messages: [.message(role: "user", content: "x")])
        }
    }

    @Test func sandboxRefusesMutation() throws {
        #expect(throws: ChatTemplateError(.security, source: "t", line: 1, "access to attribute 'append' of 'list' object is unsafe.")) {
            try ChatTemplate(source: "{% set a = [] %}{{ a.append(1) }}", name: "t").render(messages: [])
        }
    }

    @Test func hostileTemplatesStopWithinTheBudget() throws {
        var endless = try ChatTemplate(source: "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}", name: "t")
        // The default budget takes minutes to exhaust in a debug build; the mechanism is the same.
        endless.limits.maximumSteps = 100_000
        #expect { try endless.render(messages: []) } throws: { ($0 as? ChatTemplateError)?.code == .budget }
        let recursive = try ChatTemplate(source: "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", name: "t")
        #expect { try recursive.render(messages: []) } throws: { ($0 as? ChatTemplateError)?.code == .budget }
        let deep = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        #expect { try ChatTemplate(source: "{{ \(deep) }}", name: "t") } throws: { ($0 as? ChatTemplateError)?.code == .syntax }
        #expect { try ChatTemplate(source: "{% for x in y %}", name: "t") } throws: { ($0 as? ChatTemplateError)?.code == .syntax }
    }

    @Test func reasoningIsPassedUnderTheNamesTemplatesRead() throws {
        let template = try ChatTemplate(source: "{{ messages[0].reasoning_content }}|{{ messages[0].thinking }}|{{ messages[0] | list }}")
        let message = ChatValue.object([("role", .string("assistant")), ("reasoning", .string("r")), ("content", .string("c")), ("tool_calls", .null)])
        #expect(try template.render(messages: [message]) == "r|r|['thinking', 'role', 'reasoning', 'content', 'reasoning_content']")
    }

    @Test func loadsTemplatesAndSpecialTokensFromADirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chat-template-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = """
            {"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
             "chat_template": [{"name": "default", "template": "D{{ bos_token }}"}, {"name": "tool_use", "template": "T{{ eos_token }}"}]}
            """
        try Data(config.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let set = try #require(try ChatTemplate.load(directory: directory))
        #expect(set.specialTokens == SpecialTokens(bos: "<s>", eos: "</s>"))
        #expect(try set.render(messages: []) == "D<s>")
        #expect(try set.render(messages: [], tools: []) == "T</s>")
        // chat_template.jinja takes precedence over tokenizer_config.json.
        try Data("F".utf8).write(to: directory.appendingPathComponent("chat_template.jinja"))
        #expect(try ChatTemplate.load(directory: directory)?.render(messages: [], tools: []) == "F")
        #expect(try ChatTemplate.load(directory: directory.appendingPathComponent("absent")) == nil)
    }

    @Test func strftimeNowUsesTheInjectedClock() throws {
        var template = try ChatTemplate(source: "{{ strftime_now('%d %b %Y %H:%M') }}|{{ strftime_now('%-d %B') }}")
        template.clock = { Date(timeIntervalSince1970: 1_741_964_966) }  // 2025-03-14 15:09:26 UTC
        template.timeZone = TimeZone(identifier: "UTC")!
        #expect(try template.render(messages: []) == "14 Mar 2025 15:09|14 March")
    }
}

/// Python objects that Jinja's filters return and chat templates trip over.
@Suite struct JinjaObjectTests {
    @Test func markupEscapesThePlainSideOfPlus() throws {
        // transformers: '<b>&lt;i&gt;' (functionary v3.1 relies on it for its tool list).
        #expect(try ChatTemplate(source: "{{ '<b>'|safe + '<i>' }}").render(messages: []) == "<b>&lt;i&gt;")
    }

    @Test func mapAndSelectReturnGenerators() throws {
        #expect(try ChatTemplate(source: "{{ none | map(attribute='x') | list }}|{{ [{'a': 1}] | map(attribute='a') | list }}").render(messages: []) == "[]|[1]")
        // transformers: TypeError (DeepSeek R1's llama.cpp template fails so with tools).
        #expect(throws: ChatTemplateError(.type, source: "t", line: 1, "Object of type generator is not JSON serializable")) {
            try ChatTemplate(source: "{{ [{'a': 1}] | map(attribute='a') | tojson }}", name: "t").render(messages: [])
        }
    }

    @Test func toolsAbsentAreNoneNotUndefined() throws {
        #expect(try ChatTemplate(source: "{{ tools is none }}{{ tools is defined }}{{ documents is none }}").render(messages: []) == "TrueTrueTrue")
    }
}
