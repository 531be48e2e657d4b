"""Built-in quality checks: empty, too_short, generic, refusal, truncated, repetitive, invalid_json."""

from __future__ import annotations

import json
import re

from llmwatch.evaluators.base import Verdict, clip
from llmwatch.record import Call

_TRUNCATION = {"length", "max_tokens", "model_context_window_exceeded"}
_REFUSAL = re.compile(
    r"\b(?:I(?:'m| am) (?:sorry|afraid),? (?:but )?I (?:can(?:'|no)t|won't|am (?:not able|unable))"
    r"|I can(?:'|no)t (?:help|assist|comply|provide|do that|fulfil+)"
    r"|I(?:'m| am) (?:not able|unable) to (?:help|assist|comply|provide)"
    r"|I (?:must|have to) (?:decline|refuse)"
    r"|(?:as an ai|as a language model)[^.]{0,40}\b(?:can(?:'|no)t|not able|unable)"
    r"|I won't be able to (?:help|assist|provide))",
    re.IGNORECASE,
)
_GENERIC = re.compile(
    r"^(?:\s*(?:as an ai(?: language model)?|i hope this helps"
    r"|let me know if you (?:have|need) any (?:other|more|further) (?:questions|help)"
    r"|feel free to ask|that's a great question|great question|it depends|there are many factors"
    r"|i'm here to help|happy to help|sure[,!]? (?:here you go|i can help)|certainly[,!]?)[\s.!,;:-]*)+$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_DETAIL_ASK = re.compile(
    r"\b(?:explain|describe|write|list|compare|summari[sz]e|detail|essay|steps|step by step|in depth|elaborate"
    r"|why|how)\b",
    re.IGNORECASE,
)


_REFUSAL_MARKERS = ("sorry", "can't", "cannot", "can not", "unable", "not able", "decline", "refuse", "won't")


def _is_repetitive(text: str) -> bool:
    words = _WORD.findall(text.lower())
    if len(words) >= 24:
        grams = list(zip(words, words[1:], words[2:], words[3:], strict=False))
        if 1 - len(set(grams)) / len(grams) >= 0.5:  # half of all 4-grams are repeats
            return True
    sentences = [s.strip().lower() for s in _SENTENCE.findall(text) if len(s.split()) >= 4]
    return len(sentences) >= 3 and len(set(sentences)) <= len(sentences) // 2


def _invalid_json(call: Call, text: str) -> bool:
    if call.json_requested and text.strip():
        try:
            json.loads(text)
        except ValueError:
            return True
    for message in call.output_messages:
        for part in message.parts:
            if part.get("type") == "tool_call" and isinstance(part.get("arguments"), str) and part["arguments"]:
                return True  # arguments that were not valid JSON are kept as a string by the adapters
    return False


def _too_short(call: Call, words: int) -> bool:
    """Short relative to what was asked: a one-liner to a request for detail, or a handful of words to a long prompt."""
    if words == 0 or words >= 12:
        return False
    prompt = call.input_messages[-1].text() if call.input_messages else ""
    prompt_words = len(_WORD.findall(prompt))
    return (bool(_DETAIL_ASK.search(prompt)) and words < 6) or (prompt_words >= 60 and words < 5)


class QualityEvaluator:
    """Flags likely poor responses; score = 1 - 0.25 per flag (at least 0)."""

    name = "quality"

    def evaluate(self, call: Call) -> Verdict | None:
        if call.error is not None or call.operation == "embeddings":
            return None
        flags: list[str] = []
        has_tool_calls = any(p.get("type") == "tool_call" for m in call.output_messages for p in m.parts)
        text = clip(call.output_text())
        stripped = text.strip()
        if not stripped and not has_tool_calls:
            flags.append("empty")
        if set(call.finish_reasons) & _TRUNCATION:
            flags.append("truncated")
        refused = call.provider_refusal or "refusal" in call.finish_reasons
        refused = refused or any(p.get("refusal") for m in call.output_messages for p in m.parts)
        head = stripped[:600]
        lowered = head.lower()
        if refused or (any(m in lowered for m in _REFUSAL_MARKERS) and _REFUSAL.search(head)):
            flags.append("refusal")
        elif stripped and _GENERIC.match(stripped):
            flags.append("generic")
        if stripped and "truncated" not in flags and not has_tool_calls and _too_short(call, len(_WORD.findall(text))):
            flags.append("too_short")
        if stripped and _is_repetitive(text):
            flags.append("repetitive")
        if _invalid_json(call, stripped):
            flags.append("invalid_json")
        return Verdict(quality=flags, score=max(0.0, 1.0 - 0.25 * len(flags)))
