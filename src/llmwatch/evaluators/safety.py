"""Built-in safety checks on the prompt and on the completion, separately."""

from __future__ import annotations

from llmwatch.evaluators import patterns
from llmwatch.evaluators.base import Verdict, clip
from llmwatch.record import Call, Message


def _texts(messages: list[Message], roles: tuple[str, ...] | None = None) -> str:
    pieces = []
    for message in messages:
        if roles is not None and message.role not in roles:
            continue
        for part in message.parts:
            for key in ("content", "response", "arguments"):
                value = part.get(key)
                if isinstance(value, str):
                    pieces.append(value)
    return clip("\n".join(pieces))


def scan(text: str) -> list[str]:
    """PII, secret and toxicity flags found in ``text``."""
    found = [flag for flag, (_, finder) in patterns.FINDERS.items() if next(iter(finder(text)), None) is not None]
    if patterns.toxic(text):
        found.append("toxicity")
    return found


class SafetyEvaluator:
    """Flags PII, secrets and toxicity in prompts and completions, and prompt injection in user input and tool
    results (where untrusted text enters a prompt)."""

    name = "safety"

    def evaluate(self, call: Call) -> Verdict | None:
        prompt = _texts(call.input_messages)
        input_flags = scan(prompt) if prompt else []
        untrusted = _texts(call.input_messages, ("user", "tool"))
        if untrusted and patterns.injection(untrusted):
            input_flags.append("prompt_injection")
        output = _texts(call.output_messages)
        return Verdict(input_safety=input_flags, output_safety=scan(output) if output else [])
