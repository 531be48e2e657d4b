"""The one mapping from a Call record to span attributes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from llmwatch.record import Call, Message, Part
from llmwatch.telemetry import names as n

AttributeValue = str | bool | int | float | list[str]
Attributes = dict[str, AttributeValue]


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    """Whether and how message content is recorded."""

    capture: bool = False
    max_chars: int = 8192
    redact: Callable[[str], str] | None = None


def start_attributes(call: Call) -> Attributes:
    """Attributes known before the request is sent (the sampling-relevant ones first)."""
    attrs: Attributes = {n.GEN_AI_OPERATION_NAME: call.operation, n.GEN_AI_PROVIDER_NAME: call.provider}
    _put(attrs, n.GEN_AI_REQUEST_MODEL, call.request_model)
    _put(attrs, n.SERVER_ADDRESS, call.server_address)
    if call.server_address is not None:
        _put(attrs, n.SERVER_PORT, call.server_port)
    attrs.update(call.context_attributes)
    return attrs


def span_name(call: Call) -> str:
    """``{operation} {request model}``, or the operation alone when the model is unknown."""
    return f"{call.operation} {call.request_model}" if call.request_model else call.operation


def end_attributes(call: Call) -> Attributes:
    """Everything but content, set when the call finishes."""
    attrs: Attributes = {}
    _request_attributes(call, attrs)
    _response_attributes(call, attrs)
    _usage_attributes(call, attrs)
    _cost_attributes(call, attrs)
    _flag_attributes(call, attrs)
    if call.error_type is not None:
        attrs[n.ERROR_TYPE] = call.error_type
    return attrs


def content_attributes(call: Call, content: ContentPolicy) -> Attributes:
    """Messages as GenAI-convention JSON, redacted and truncated; empty when capture is off."""
    attrs: Attributes = {}
    if content.capture:
        _content_attributes(call, content, attrs)
    return attrs


def _request_attributes(call: Call, attrs: Attributes) -> None:
    if call.stream:
        attrs[n.GEN_AI_REQUEST_STREAM] = True
    _put(attrs, n.GEN_AI_REQUEST_TEMPERATURE, call.temperature)
    _put(attrs, n.GEN_AI_REQUEST_TOP_P, call.top_p)
    _put(attrs, n.GEN_AI_REQUEST_TOP_K, call.top_k)
    _put(attrs, n.GEN_AI_REQUEST_MAX_TOKENS, call.max_tokens)
    _put(attrs, n.GEN_AI_REQUEST_STOP_SEQUENCES, call.stop_sequences)
    _put(attrs, n.GEN_AI_REQUEST_SEED, call.seed)
    _put(attrs, n.GEN_AI_REQUEST_FREQUENCY_PENALTY, call.frequency_penalty)
    _put(attrs, n.GEN_AI_REQUEST_PRESENCE_PENALTY, call.presence_penalty)
    if call.choice_count is not None and call.choice_count != 1:
        attrs[n.GEN_AI_REQUEST_CHOICE_COUNT] = call.choice_count
    _put(attrs, n.GEN_AI_REQUEST_REASONING_LEVEL, call.reasoning_level)
    _put(attrs, n.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID, call.previous_response_id)
    _put(attrs, n.GEN_AI_REQUEST_ENCODING_FORMATS, call.encoding_formats)
    _put(attrs, n.GEN_AI_OUTPUT_TYPE, call.output_type)
    _put(attrs, n.GEN_AI_CONVERSATION_ID, call.conversation_id)
    _put(attrs, n.OPENAI_API_TYPE, call.api_type)
    if call.request_service_tier not in (None, "auto"):
        _put(attrs, n.OPENAI_REQUEST_SERVICE_TIER, call.request_service_tier)


def _response_attributes(call: Call, attrs: Attributes) -> None:
    _put(attrs, n.GEN_AI_RESPONSE_ID, call.response_id)
    _put(attrs, n.GEN_AI_RESPONSE_MODEL, call.response_model)
    if call.finish_reasons:
        attrs[n.GEN_AI_RESPONSE_FINISH_REASONS] = list(call.finish_reasons)
    _put(attrs, n.OPENAI_RESPONSE_SERVICE_TIER, call.response_service_tier)
    _put(attrs, n.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, call.system_fingerprint)
    _put(attrs, n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, call.embedding_dimensions)
    ttfc = call.time_to_first_chunk_s
    if ttfc is not None:
        attrs[n.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ttfc
        attrs[n.LLMWATCH_LATENCY_TIME_TO_FIRST_TOKEN] = ttfc
    tps = _output_tokens_per_second(call)
    if tps is not None:
        attrs[n.LLMWATCH_LATENCY_OUTPUT_TOKENS_PER_SECOND] = tps


def _usage_attributes(call: Call, attrs: Attributes) -> None:
    usage = call.usage
    _put(attrs, n.GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens)
    _put(attrs, n.GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens)
    _put(attrs, n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_input_tokens)
    _put(attrs, n.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, usage.cache_write_input_tokens)
    _put(attrs, n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoning_output_tokens)
    if usage.estimated:
        attrs[n.LLMWATCH_USAGE_ESTIMATED] = True


def _flag_attributes(call: Call, attrs: Attributes) -> None:
    if call.quality_flags:
        attrs[n.LLMWATCH_QUALITY_FLAGS] = list(call.quality_flags)
    _put(attrs, n.LLMWATCH_QUALITY_SCORE, call.quality_score)
    if call.safety_input_flags:
        attrs[n.LLMWATCH_SAFETY_INPUT_FLAGS] = list(call.safety_input_flags)
    if call.safety_output_flags:
        attrs[n.LLMWATCH_SAFETY_OUTPUT_FLAGS] = list(call.safety_output_flags)
    union = list(dict.fromkeys([*call.safety_input_flags, *call.safety_output_flags]))
    if union:
        attrs[n.LLMWATCH_SAFETY_FLAGS] = union


def _cost_attributes(call: Call, attrs: Attributes) -> None:
    _put(attrs, n.LLMWATCH_COST_SOURCE, call.cost_source)
    if call.cost_input_usd is None or call.cost_output_usd is None:
        return
    attrs[n.LLMWATCH_COST_INPUT_USD] = call.cost_input_usd
    attrs[n.LLMWATCH_COST_OUTPUT_USD] = call.cost_output_usd
    attrs[n.LLMWATCH_COST_TOTAL_USD] = call.cost_input_usd + call.cost_output_usd
    if call.usage.estimated:
        attrs[n.LLMWATCH_COST_ESTIMATED] = True


def _output_tokens_per_second(call: Call) -> float | None:
    """Output tokens over generation time: from the first chunk for streams, else the whole call."""
    tokens = call.usage.output_tokens
    if not tokens or call.end_monotonic_ns is None:
        return None
    began = call.first_chunk_monotonic_ns or call.start_monotonic_ns
    seconds = (call.end_monotonic_ns - began) / 1e9
    return tokens / seconds if seconds > 0 else None


def _content_attributes(call: Call, content: ContentPolicy, attrs: Attributes) -> None:
    clip = _Clipper(content)
    if call.system_instructions:
        attrs[n.GEN_AI_SYSTEM_INSTRUCTIONS] = _json([clip.part(p) for p in call.system_instructions])
    if call.input_messages:
        attrs[n.GEN_AI_INPUT_MESSAGES] = _json(_messages(call.input_messages, clip))
    if call.output_messages:
        attrs[n.GEN_AI_OUTPUT_MESSAGES] = _json(_messages(call.output_messages, clip))
    if call.tool_definitions:
        attrs[n.GEN_AI_TOOL_DEFINITIONS] = _json(call.tool_definitions)
    if clip.truncated:
        attrs[n.LLMWATCH_CONTENT_TRUNCATED] = True


class _Clipper:
    """Applies redaction, then the length cap, to every text-bearing field of a part."""

    __slots__ = ("policy", "truncated")

    def __init__(self, policy: ContentPolicy) -> None:
        self.policy = policy
        self.truncated = False

    def text(self, value: str) -> str:
        if self.policy.redact is not None:
            value = self.policy.redact(value)
        limit = self.policy.max_chars
        if len(value) > limit:
            self.truncated = True
            return f"{value[:limit]}…[truncated {len(value) - limit} chars]"
        return value

    def part(self, part: Part) -> Part:
        out = dict(part)
        for key in ("content", "arguments", "response", "transcript"):
            if key in out:
                out[key] = self.scrub(out[key])
        return out

    def scrub(self, value: Any) -> Any:
        """Clip every string inside ``value``, keeping its JSON structure."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value


def _messages(messages: Iterable[Message], clip: _Clipper) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "parts": [clip.part(p) for p in message.parts]}
        if message.name:
            item["name"] = message.name
        if message.finish_reason:
            item["finish_reason"] = message.finish_reason
        result.append(item)
    return result


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_short_repr, separators=(",", ":"))


def _short_repr(value: Any) -> str:
    """What a value JSON cannot encode becomes: its repr, capped."""
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "…"


def clip_value(value: Any, content: ContentPolicy) -> str:
    """Any Python value as JSON text for a span attribute, redacted and capped like message content."""
    return _Clipper(content).text(_json(value))


def _put(attrs: Attributes, key: str, value: AttributeValue | None) -> None:
    if value is not None:
        attrs[key] = value
