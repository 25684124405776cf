#!/usr/bin/env python3
"""Oracle fixtures for decograph's chat-template engine (Sources/ChatTemplates).

Renders every chat template under Tests/Fixtures/chat-templates/templates/ with transformers' own renderer
(`transformers.utils.chat_template_utils.render_jinja_template`, what `apply_chat_template` calls) over the
conversations in Tests/Fixtures/chat-templates/conversations.json, with and without `add_generation_prompt`,
and writes the renderings (or the message of the error the template raises) to expected.json.

    python3 tools/oracle/make_chat_template_fixtures.py --import-templates   # copy the llama.cpp templates and
                                                                              # SmolLM2's (from its GGUF) first
    python3 tools/oracle/make_chat_template_fixtures.py                       # (re)write expected.json

`strftime_now` is pinned to FIXED_NOW (the Swift test injects the same clock), so the output is deterministic.
Needs transformers (tools/oracle/requirements.txt; torch is not needed) and, for --import-templates, gguf.
"""
import argparse
import datetime as real_datetime
import json
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests/Fixtures/chat-templates"
LLAMA_TEMPLATES = pathlib.Path.home() / ".cache/decograph/llama.cpp/src/models/templates"
SMOLLM2_GGUF = pathlib.Path.home() / ".cache/decograph/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# The instant strftime_now sees; ChatTemplatesTests uses the same one.
FIXED_NOW = real_datetime.datetime(2025, 3, 14, 15, 9, 26)
SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}


def import_templates():
    dest = OUT / "templates"
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(LLAMA_TEMPLATES.glob("*.jinja")):
        shutil.copyfile(path, dest / path.name)
    import gguf
    reader = gguf.GGUFReader(str(SMOLLM2_GGUF))
    field = reader.fields["tokenizer.chat_template"]
    text = bytes(field.parts[field.data[0]]).decode("utf-8")
    (dest / "HuggingFaceTB-SmolLM2-135M-Instruct.jinja").write_text(text, encoding="utf-8")


class FixedDatetime(real_datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_NOW


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--import-templates", action="store_true")
    args = parser.parse_args()
    if args.import_templates:
        import_templates()
    import transformers
    import jinja2
    from transformers.utils import chat_template_utils as ctu
    ctu.datetime = FixedDatetime  # the renderer's strftime_now reads ctu.datetime.now()

    conversations = json.loads((OUT / "conversations.json").read_text(encoding="utf-8"))
    cases = []
    counts = {"rendered": 0, "error": 0}
    for path in sorted((OUT / "templates").glob("*.jinja")):
        source = path.read_text(encoding="utf-8")
        for conversation in conversations:
            for add_generation_prompt in (False, True):
                kwargs = dict(SPECIAL_TOKENS)
                kwargs.update(conversation.get("extra", {}))
                case = {"template": path.name, "conversation": conversation["name"],
                        "add_generation_prompt": add_generation_prompt}
                try:
                    rendered, _ = ctu.render_jinja_template(
                        conversations=[conversation["messages"]], tools=conversation.get("tools"),
                        documents=conversation.get("documents"), chat_template=source,
                        add_generation_prompt=add_generation_prompt, **kwargs)
                    case["expected"] = rendered[0]
                    counts["rendered"] += 1
                except Exception as error:  # every failure is recorded: the Swift side must fail alike
                    case["error"] = str(error)
                    case["error_type"] = type(error).__name__
                    counts["error"] += 1
                cases.append(case)
    document = {"generator": "tools/oracle/make_chat_template_fixtures.py",
                "transformers": transformers.__version__, "jinja2": jinja2.__version__,
                "fixed_now": FIXED_NOW.isoformat(), "special_tokens": SPECIAL_TOKENS, "cases": cases}
    # Plain JSON (about 1.3 MB): the Swift test reads it without a decompressor.
    (OUT / "expected.json").write_text(json.dumps(document, ensure_ascii=False, indent=0, sort_keys=True) + "\n",
                                       encoding="utf-8")
    print(f"{len(cases)} cases: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
