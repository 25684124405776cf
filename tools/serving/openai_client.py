"""Drives a running `decograph serve` with the official `openai` Python package (PyPI): the model
list, a chat completion, a streamed chat, a JSON-Schema response format, a text completion and the
errors a client sees. Exits non-zero at the first check that fails.

    python3 tools/serving/openai_client.py --base-url http://127.0.0.1:8080/v1 --chat-model greedy \
        --spec-model lookup [--api-key KEY]

The chat model must have a chat template (an instruct model); tools/serving/openai-check.sh starts a
server on SmolLM2-135M-Instruct and runs this.
"""
import argparse
import json
import sys

import openai


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--api-key", default="none")
    parser.add_argument("--chat-model", default="greedy")
    parser.add_argument("--spec-model", default="lookup", help="a speculative graph for the response-format check")
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0)

    models = [m.id for m in client.models.list().data]
    check(args.chat_model in models and args.spec_model in models, f"models.list holds {args.chat_model} and {args.spec_model}: {models}")

    messages = [{"role": "user", "content": "Name three primary colors."}]
    reply = client.chat.completions.create(model=args.chat_model, messages=messages, max_tokens=32)
    text = reply.choices[0].message.content
    check(reply.object == "chat.completion" and reply.choices[0].message.role == "assistant", "chat completion shape")
    check("Red" in text or "red" in text, f"chat answer names red: {text!r}")
    check(reply.usage.completion_tokens > 0 and reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens, "usage adds up")

    pieces = []
    finish = None
    usage = None
    for chunk in client.chat.completions.create(model=args.chat_model, messages=messages, max_tokens=32, stream=True,
                                                stream_options={"include_usage": True}):
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason:
                finish = choice.finish_reason
    check("".join(pieces) == text, "the streamed chat equals the whole one (greedy)")
    check(finish in ("stop", "length") and usage is not None and usage.completion_tokens == reply.usage.completion_tokens, "stream ends with a finish reason and usage")

    schema = {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"},
                                               "age": {"type": "integer", "minimum": 0, "maximum": 150}},
              "required": ["name", "email", "age"], "additionalProperties": False}
    extraction = [{"role": "system", "content": "Extract the person as JSON."},
                  {"role": "user", "content": "Ada Lovelace (ada@example.org) is 36 years old."}]
    for model in (args.chat_model, args.spec_model):
        formatted = client.chat.completions.create(model=model, messages=extraction, max_tokens=96,
                                                   response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}})
        value = json.loads(formatted.choices[0].message.content)
        check(set(value) == {"name", "email", "age"} and isinstance(value["age"], int), f"{model}: response_format json_schema gives {value}")

    completion = client.completions.create(model=args.chat_model, prompt="The capital of France is", max_tokens=8)
    check(completion.object == "text_completion" and completion.choices[0].text, f"text completion: {completion.choices[0].text!r}")

    # Log-probabilities: the target's, per token, with alternatives; the same from a speculative graph.
    for model in (args.chat_model, args.spec_model):
        scored = client.chat.completions.create(model=model, messages=messages, max_tokens=16, logprobs=True, top_logprobs=3)
        content = scored.choices[0].logprobs.content
        check(len(content) == scored.usage.completion_tokens and all(len(e.top_logprobs) == 3 for e in content),
              f"{model}: chat logprobs has an entry per token with 3 alternatives")
        check(all(abs(e.logprob - e.top_logprobs[0].logprob) < 1e-6 and e.token == e.top_logprobs[0].token for e in content),
              f"{model}: greedy's token is the most likely one")
        if model == args.chat_model:
            reference = content
        else:
            check([e.token for e in content] == [e.token for e in reference]
                  and all(abs(a.logprob - b.logprob) < 1e-3 for a, b in zip(content, reference)),
                  "the speculative graph's log-probabilities equal greedy's")
    streamed = []
    for chunk in client.chat.completions.create(model=args.spec_model, messages=messages, max_tokens=16, stream=True, logprobs=True):
        for choice in chunk.choices:
            if choice.logprobs and choice.logprobs.content:
                streamed += choice.logprobs.content
    check([e.token for e in streamed] == [e.token for e in reference], "streamed logprobs cover the same tokens")
    legacy = client.completions.create(model=args.chat_model, prompt="The capital of France is", max_tokens=8, logprobs=2)
    check(len(legacy.choices[0].logprobs.tokens) == 8 and "".join(legacy.choices[0].logprobs.tokens) == legacy.choices[0].text,
          "completions logprobs: tokens spell the text")

    try:
        client.chat.completions.create(model="no-such-graph", messages=messages)
        check(False, "an unknown model is refused")
    except openai.NotFoundError as error:
        check(error.status_code == 404, "an unknown model is a 404 NotFoundError")
    several = client.chat.completions.create(model=args.chat_model, messages=messages, max_tokens=16, n=2)
    check([c.index for c in several.choices] == [0, 1] and several.choices[0].message.content == several.choices[1].message.content,
          "n=2 on a greedy graph gives two equal choices")
    try:
        client.chat.completions.create(model=args.chat_model, messages=messages, n=1000)
        check(False, "n=1000 is refused")
    except openai.BadRequestError as error:
        check(error.status_code == 400 and "'n'" in str(error), "n=1000 is a 400 BadRequestError naming 'n'")
    print("all checks passed")


if __name__ == "__main__":
    main()
