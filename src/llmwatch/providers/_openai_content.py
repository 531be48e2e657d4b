"""OpenAI-shaped messages, choices and outputs -> GenAI-convention Messages and parts.

Shared by every OpenAI-compatible SDK (openai, and later groq and litellm), so it reads plain dicts and SDK
objects alike through ``_get``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from llmwatch.record import Message, Part
from llmwatch.telemetry import names as n

_FINISH_REASONS = {"tool_calls": "tool_call", "function_call": "tool_call"}


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def finish_reason(value: Any) -> str | None:
    """Provider finish reason -> the convention's value (``tool_calls`` -> ``tool_call``; others as sent)."""
    return None if value is None else _FINISH_REASONS.get(str(value), str(value))


def assistant_text(text: str) -> Message:
    return Message(role="assistant", parts=[{"type": "text", "content": text}])


def output_type(fmt: Any) -> tuple[str | None, bool]:
    """(``gen_ai.output.type``, JSON requested?) from a response_format / text.format value."""
    if fmt is None:
        return None, False
    kind = _get(fmt, "type")
    if kind is None and isinstance(fmt, type):  # parse(response_format=PydanticModel)
        kind = "json_schema"
    if kind in ("json_object", "json_schema"):
        return "json", True
    return ("text", False) if kind == "text" else (None, False)


def _content_parts(value: Any) -> list[Part]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "text", "content": value}]
    parts: list[Part] = []
    for item in value if isinstance(value, list) else [value]:
        kind = _get(item, "type")
        if kind in ("text", "input_text", "output_text"):
            parts.append({"type": "text", "content": _get(item, "text", "")})
        elif kind == "refusal":
            parts.append({"type": "text", "content": _get(item, "refusal", ""), "refusal": True})
        elif kind in ("image_url", "input_image"):
            url = _get(item, "image_url")
            url = _get(url, "url", url) if url is not None else _get(item, "file_id")
            parts.append(_uri_part("image", url))
        elif kind in ("input_audio", "input_file", "file"):
            parts.append(
                {
                    "type": "file",
                    "modality": "audio" if "audio" in kind else "document",
                    "file_id": str(_get(item, "file_id") or ""),
                }
            )
        elif kind is not None:
            parts.append({"type": "generic", "generic_type": str(kind)})
    return parts


def _uri_part(modality: str, url: Any) -> Part:
    text = str(url or "")
    if text.startswith("data:"):  # never copy inline base64 media into telemetry
        text = text.split(",", 1)[0] + ",…[omitted]"
    return {"type": "uri", "modality": modality, "uri": text}


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _tool_call_part(call: Any) -> Part:
    function = _get(call, "function") or call
    return {
        "type": "tool_call",
        "id": _get(call, "id") or _get(call, "call_id"),
        "name": _get(function, "name", ""),
        "arguments": _arguments(_get(function, "arguments")),
    }


def chat_messages(messages: Iterable[Any]) -> list[Message]:
    """Chat Completions ``messages`` -> Messages (system/developer messages stay in order, as sent)."""
    result: list[Message] = []
    for message in messages:
        role = str(_get(message, "role", "user"))
        if role == "tool":
            parts: list[Part] = [
                {
                    "type": "tool_call_response",
                    "id": _get(message, "tool_call_id"),
                    "response": _get(message, "content"),
                }
            ]
        else:
            parts = _content_parts(_get(message, "content"))
            parts.extend(_tool_call_part(c) for c in _get(message, "tool_calls") or [])
        result.append(Message(role=role, parts=parts, name=_get(message, "name")))
    return result


def responses_input(value: Any) -> list[Message]:
    """Responses API ``input`` (a string or a list of items) -> Messages."""
    if value is None:
        return []
    if isinstance(value, str):
        return [Message(role="user", parts=[{"type": "text", "content": value}])]
    result: list[Message] = []
    for item in value:
        kind = _get(item, "type")
        if kind == "function_call_output":
            result.append(
                Message(
                    role="tool",
                    parts=[
                        {"type": "tool_call_response", "id": _get(item, "call_id"), "response": _get(item, "output")}
                    ],
                )
            )
        elif kind == "function_call":
            result.append(Message(role="assistant", parts=[_tool_call_part(item)]))
        elif _get(item, "role") is not None:
            result.append(Message(role=str(_get(item, "role")), parts=_content_parts(_get(item, "content"))))
    return result


def prompts(value: Any) -> list[Message]:
    """Legacy completion prompts or embedding inputs (a string or a list of strings) -> user Messages."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [Message(role="user", parts=[{"type": "text", "content": v}]) for v in items if isinstance(v, str)]


def tool_definitions(tools: Any) -> list[dict[str, Any]]:
    """Tool definitions, names and types only (the convention advises against copying schemas)."""
    result: list[dict[str, Any]] = []
    for tool in tools or []:
        function = _get(tool, "function") or tool
        result.append({"type": str(_get(tool, "type", "function")), "name": _get(function, "name", "")})
    return result


def chat_choices(choices: Iterable[Any]) -> tuple[list[Message], list[str]]:
    messages: list[Message] = []
    reasons: list[str] = []
    for choice in choices:
        message = _get(choice, "message")
        parts = _content_parts(_get(message, "content"))
        refusal = _get(message, "refusal")
        if refusal:
            parts.append({"type": "text", "content": refusal, "refusal": True})
        parts.extend(_tool_call_part(c) for c in _get(message, "tool_calls") or [])
        reason = finish_reason(_get(choice, "finish_reason"))
        messages.append(Message(role="assistant", parts=parts, finish_reason=reason))
        if reason:
            reasons.append(reason)
    return messages, reasons


def text_choices(choices: Iterable[Any]) -> tuple[list[Message], list[str]]:
    messages: list[Message] = []
    reasons: list[str] = []
    for choice in choices:
        reason = finish_reason(_get(choice, "finish_reason"))
        message = assistant_text(_get(choice, "text") or "")
        message.finish_reason = reason
        messages.append(message)
        if reason:
            reasons.append(reason)
    return messages, reasons


class ChoiceBuilder:
    """Assembles streamed choice deltas (by choice index) into complete output messages."""

    def __init__(self) -> None:
        self._text: dict[int, list[str]] = {}
        self._tools: dict[int, dict[int, dict[str, Any]]] = {}
        self._reasons: dict[int, str] = {}
        self._refusals: dict[int, list[str]] = {}

    def add_chat_deltas(self, choices: Iterable[Any]) -> None:
        for choice in choices or []:
            index = _get(choice, "index", 0) or 0
            delta = _get(choice, "delta")
            piece = _get(delta, "content")
            if piece:
                self._text.setdefault(index, []).append(piece)
            refusal = _get(delta, "refusal")
            if refusal:
                self._refusals.setdefault(index, []).append(refusal)
            for tool in _get(delta, "tool_calls") or []:
                slot = self._tools.setdefault(index, {}).setdefault(
                    _get(tool, "index", 0) or 0, {"id": None, "name": "", "arguments": []}
                )
                slot["id"] = _get(tool, "id") or slot["id"]
                function = _get(tool, "function")
                slot["name"] += _get(function, "name") or ""
                slot["arguments"].append(_get(function, "arguments") or "")
            self._finish(index, _get(choice, "finish_reason"))

    def add_text_choices(self, choices: Iterable[Any]) -> None:
        for choice in choices or []:
            index = _get(choice, "index", 0) or 0
            self._text.setdefault(index, []).append(_get(choice, "text") or "")
            self._finish(index, _get(choice, "finish_reason"))

    def _finish(self, index: int, reason: Any) -> None:
        mapped = finish_reason(reason)
        if mapped:
            self._reasons[index] = mapped

    def result(self) -> tuple[list[Message], list[str]]:
        indexes = sorted(set(self._text) | set(self._tools) | set(self._reasons) | set(self._refusals))
        messages: list[Message] = []
        for index in indexes:
            parts: list[Part] = []
            text = "".join(self._text.get(index, []))
            if text:
                parts.append({"type": "text", "content": text})
            if index in self._refusals:
                parts.append({"type": "text", "content": "".join(self._refusals[index]), "refusal": True})
            for slot in self._tools.get(index, {}).values():
                parts.append(
                    {
                        "type": "tool_call",
                        "id": slot["id"],
                        "name": slot["name"],
                        "arguments": _arguments("".join(slot["arguments"])),
                    }
                )
            messages.append(Message(role="assistant", parts=parts, finish_reason=self._reasons.get(index)))
        return messages, [self._reasons[i] for i in indexes if i in self._reasons]


def responses_output(response: Any) -> tuple[list[Message], list[str]]:
    """A Responses API ``Response`` -> one assistant message and its finish reason."""
    parts: list[Part] = []
    for item in _get(response, "output") or []:
        kind = _get(item, "type")
        if kind == "message":
            parts.extend(_content_parts(_get(item, "content")))
        elif kind == "function_call":
            parts.append(_tool_call_part(item))
        elif kind == "reasoning":
            summary = "".join(_get(s, "text", "") for s in _get(item, "summary") or [])
            if summary:
                parts.append({"type": "reasoning", "content": summary})
    status = _get(response, "status")
    if status == "incomplete":
        details = _get(response, "incomplete_details")
        reason = "length" if _get(details, "reason") == "max_output_tokens" else "content_filter"
    elif status == "failed":
        reason = n.FINISH_REASON_ERROR
    elif any(p["type"] == "tool_call" for p in parts):
        reason = "tool_call"
    else:
        reason = "stop"
    return [Message(role="assistant", parts=parts, finish_reason=reason)], [reason]
