"""The provider-neutral record of one model call.

Provider adapters translate their SDK's request, response and stream chunks into a :class:`Call`; everything
downstream (token estimation, cost, evaluators, span attributes, metrics, export) reads only this record.
This module imports nothing from OpenTelemetry or any provider SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "Message", "Part", "Usage"]

#: One message part in the GenAI semantic-convention JSON shape, e.g. ``{"type": "text", "content": "hi"}``
#: or ``{"type": "tool_call", "id": "c1", "name": "f", "arguments": {...}}``.
Part = dict[str, Any]


@dataclass(slots=True)
class Message:
    """One input or output message: a role and its parts (GenAI convention shape)."""

    role: str
    parts: list[Part] = field(default_factory=list)
    name: str | None = None
    finish_reason: str | None = None

    def text(self) -> str:
        """The concatenated text (and refusal) content of this message."""
        return "".join(str(p.get("content", "")) for p in self.parts if p.get("type") == "text")


@dataclass(slots=True)
class Usage:
    """Token usage of one call. ``input_tokens`` includes cached tokens; ``output_tokens`` includes reasoning."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    input_audio_tokens: int | None = None
    output_audio_tokens: int | None = None
    #: True when the provider sent no usage and the counts were computed locally.
    estimated: bool = False


@dataclass(slots=True)
class Call:
    """Everything llmwatch knows about one model call, from request to outcome."""

    operation: str
    provider: str
    request_model: str | None = None
    server_address: str | None = None
    server_port: int | None = None
    #: Provider-specific API flavour (e.g. OpenAI ``chat_completions`` / ``responses``).
    api_type: str | None = None
    #: Context attributes in effect when the call started (``llmwatch.attributes``, prompt name/version).
    context_attributes: Mapping[str, str] = field(default_factory=dict)
    #: Roll-ups of the decorated functions around the call (``llmwatch.context.Rollup``), told when it ends.
    rollups: tuple[Any, ...] = ()

    # request parameters (None = not sent)
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    stop_sequences: list[str] | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    choice_count: int | None = None
    reasoning_level: str | None = None
    request_service_tier: str | None = None
    output_type: str | None = None
    previous_response_id: str | None = None
    conversation_id: str | None = None
    encoding_formats: list[str] | None = None
    #: Whether the caller asked for structured JSON output (response_format / text.format).
    json_requested: bool = False

    # content, provider-neutral (captured on spans only when content capture is on)
    system_instructions: list[Part] = field(default_factory=list)
    input_messages: list[Message] = field(default_factory=list)
    tool_definitions: list[dict[str, Any]] = field(default_factory=list)
    output_messages: list[Message] = field(default_factory=list)

    # response
    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: list[str] = field(default_factory=list)
    response_service_tier: str | None = None
    system_fingerprint: str | None = None
    embedding_dimensions: int | None = None
    usage: Usage = field(default_factory=Usage)

    # cost (USD), set by the pricing stage; None when no price is known
    cost_input_usd: float | None = None
    cost_output_usd: float | None = None
    cost_source: str | None = None

    # timings, from time.monotonic_ns() except start_time_ns (wall clock, for the span)
    start_time_ns: int = 0
    start_monotonic_ns: int = 0
    first_chunk_monotonic_ns: int | None = None
    end_monotonic_ns: int | None = None

    #: The provider said the model refused (e.g. OpenAI's ``refusal`` field).
    provider_refusal: bool = False

    # evaluations, set by the evaluator stage
    quality_flags: list[str] = field(default_factory=list)
    quality_score: float | None = None
    safety_input_flags: list[str] = field(default_factory=list)
    safety_output_flags: list[str] = field(default_factory=list)

    # outcome
    error: BaseException | None = None
    error_type: str | None = None

    @property
    def duration_s(self) -> float | None:
        """Seconds from request to the end of the response (or stream)."""
        if self.end_monotonic_ns is None:
            return None
        return (self.end_monotonic_ns - self.start_monotonic_ns) / 1e9

    @property
    def time_to_first_chunk_s(self) -> float | None:
        """Seconds from request to the first streamed chunk (streams only)."""
        if self.first_chunk_monotonic_ns is None:
            return None
        return (self.first_chunk_monotonic_ns - self.start_monotonic_ns) / 1e9

    def output_text(self) -> str:
        """All output text, choices joined by newlines."""
        return "\n".join(m.text() for m in self.output_messages)

    def input_text(self) -> str:
        """All input text (system instructions and messages), joined by newlines."""
        texts = [str(p.get("content", "")) for p in self.system_instructions if p.get("type") == "text"]
        texts.extend(m.text() for m in self.input_messages)
        return "\n".join(t for t in texts if t)
