import Foundation
import Testing
@testable import ChatTemplates

@Suite struct ChatTemplateTests {
    @Test func rendersChatML() throws {
        let template = try ChatTemplate(source: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
        let text = try template.render(messages: [.message(role: "user", content: "Hi")])
        #expect(text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }
}
