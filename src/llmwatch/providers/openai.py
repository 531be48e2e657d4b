"""OpenAI (and OpenAI-compatible servers, Azure OpenAI): the endpoint table and the translators.

Patched at class level, so every client shares it (``OpenAI``, ``AzureOpenAI``, the module-level client) and the
``with_raw_response`` / ``with_streaming_response`` / ``stream()`` helpers go through the same ``create``.
``parse()`` posts directly, so it is patched too. Supported: openai >= 1.90, < 4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
from openai import AsyncStream, Stream

from llmwatch.providers import _openai_content as content
from llmwatch.providers._wrap import RAW_DEFERRED, RAW_READ, Endpoint
from llmwatch.record import Call, Message, Usage
from llmwatch.telemetry import names as n

SUPPORTED = ">=1.90,<4"
_RAW_HEADER = "X-Stainless-Raw-Response"

#: OpenAI-compatible hosts we recognise by name; anything else is ``openai`` (what the client believes).
_HOST_PROVIDERS = {
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.mistral.ai": "mistral_ai",
    "api.x.ai": "x_ai",
    "api.perplexity.ai": "perplexity",
    "generativelanguage.googleapis.com": "gcp.gemini",
    "api.together.xyz": "together_ai",
    "openrouter.ai": "openrouter",
    "api.fireworks.ai": "fireworks_ai",
    "api.moonshot.ai": "moonshot_ai",
    "api.anthropic.com": "anthropic",
}
_OPENAI_FAMILY = frozenset({n.PROVIDER_OPENAI, n.PROVIDER_AZURE_OPENAI})


def _given(value: Any) -> Any:
    """The value, or None for the SDK's NOT_GIVEN / omit sentinels."""
    if value is None or isinstance(value, openai.NotGiven) or type(value).__name__ == "Omit":
        return None
    return value


def _raw_mode(kwargs: dict[str, Any]) -> str | None:
    headers = _given(kwargs.get("extra_headers"))
    if not headers:
        return None
    value = headers.get(_RAW_HEADER)
    if value == "stream":
        return RAW_DEFERRED
    return RAW_READ if value in ("true", "raw") else None


def _is_stream(obj: Any) -> bool:
    return isinstance(obj, Stream | AsyncStream)


def _provider_and_server(instance: Any) -> tuple[str, str | None, int | None]:
    client = getattr(instance, "_client", None)
    url = getattr(client, "base_url", None)
    host = getattr(url, "host", None) or None
    port = getattr(url, "port", None)
    if port is None and url is not None:
        port = 443 if getattr(url, "scheme", "https") == "https" else 80
    if isinstance(client, openai.AzureOpenAI | openai.AsyncAzureOpenAI) or (host or "").endswith(
        (".openai.azure.com", ".cognitiveservices.azure.com")
    ):
        return n.PROVIDER_AZURE_OPENAI, host, port
    if "Bedrock" in type(client).__name__ or (host or "").startswith("bedrock"):
        return n.PROVIDER_AWS_BEDROCK, host, port
    if host in ("localhost", "127.0.0.1") and port == 11434:
        return "ollama", host, port
    return _HOST_PROVIDERS.get(host or "", n.PROVIDER_OPENAI), host, port


def _new_call(instance: Any, kwargs: dict[str, Any], operation: str, api_type: str | None) -> Call:
    provider, host, port = _provider_and_server(instance)
    call = Call(operation=operation, provider=provider, server_address=host, server_port=port)
    call.request_model = _given(kwargs.get("model"))
    call.stream = bool(_given(kwargs.get("stream")))
    for field in ("temperature", "top_p", "seed", "frequency_penalty", "presence_penalty"):
        setattr(call, field, _given(kwargs.get(field)))
    stop = _given(kwargs.get("stop"))
    call.stop_sequences = [stop] if isinstance(stop, str) else (list(stop) if stop else None)
    call.choice_count = _given(kwargs.get("n"))
    if provider in _OPENAI_FAMILY:
        call.api_type = api_type
        call.request_service_tier = _given(kwargs.get("service_tier"))
    return call


def _chat_request(instance: Any, kwargs: dict[str, Any]) -> Call:
    call = _new_call(instance, kwargs, n.OP_CHAT, n.OPENAI_API_CHAT_COMPLETIONS)
    call.max_tokens = _given(kwargs.get("max_completion_tokens")) or _given(kwargs.get("max_tokens"))
    call.reasoning_level = _given(kwargs.get("reasoning_effort"))
    call.output_type, call.json_requested = content.output_type(_given(kwargs.get("response_format")))
    call.input_messages = content.chat_messages(_given(kwargs.get("messages")) or [])
    call.tool_definitions = content.tool_definitions(_given(kwargs.get("tools")))
    return call


def _responses_request(instance: Any, kwargs: dict[str, Any]) -> Call:
    call = _new_call(instance, kwargs, n.OP_CHAT, n.OPENAI_API_RESPONSES)
    call.max_tokens = _given(kwargs.get("max_output_tokens"))
    reasoning = _given(kwargs.get("reasoning"))
    call.reasoning_level = reasoning.get("effort") if isinstance(reasoning, dict) else None
    text = _given(kwargs.get("text"))
    text_format = _given(kwargs.get("text_format"))
    fmt = text.get("format") if isinstance(text, dict) else None
    call.output_type, call.json_requested = content.output_type(fmt or (text_format and {"type": "json_schema"}))
    call.previous_response_id = _given(kwargs.get("previous_response_id"))
    conversation = _given(kwargs.get("conversation"))
    call.conversation_id = conversation if isinstance(conversation, str) else None
    instructions = _given(kwargs.get("instructions"))
    if isinstance(instructions, str):
        call.system_instructions = [{"type": "text", "content": instructions}]
    call.input_messages = content.responses_input(_given(kwargs.get("input")))
    call.tool_definitions = content.tool_definitions(_given(kwargs.get("tools")))
    return call


def _completions_request(instance: Any, kwargs: dict[str, Any]) -> Call:
    call = _new_call(instance, kwargs, n.OP_TEXT_COMPLETION, None)
    call.max_tokens = _given(kwargs.get("max_tokens"))
    call.input_messages = content.prompts(_given(kwargs.get("prompt")))
    return call


def _embeddings_request(instance: Any, kwargs: dict[str, Any]) -> Call:
    call = _new_call(instance, kwargs, n.OP_EMBEDDINGS, None)
    fmt = _given(kwargs.get("encoding_format"))
    call.encoding_formats = [fmt] if fmt else None
    call.input_messages = content.prompts(_given(kwargs.get("input")))
    return call


def _usage(usage: Any) -> Usage:
    """Chat/legacy ``CompletionUsage``, Responses ``ResponseUsage`` or embeddings usage -> Usage."""
    if usage is None:
        return Usage()
    input_tokens = getattr(usage, "prompt_tokens", None)
    output_tokens = getattr(usage, "completion_tokens", None)
    in_details = getattr(usage, "prompt_tokens_details", None)
    out_details = getattr(usage, "completion_tokens_details", None)
    if input_tokens is None:  # Responses API names
        input_tokens = getattr(usage, "input_tokens", None)
        output_tokens = getattr(usage, "output_tokens", None)
        in_details = getattr(usage, "input_tokens_details", None)
        out_details = getattr(usage, "output_tokens_details", None)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_input_tokens=getattr(in_details, "cached_tokens", None),
        cache_write_input_tokens=getattr(in_details, "cache_write_tokens", None),
        reasoning_output_tokens=getattr(out_details, "reasoning_tokens", None),
        input_audio_tokens=getattr(in_details, "audio_tokens", None),
        output_audio_tokens=getattr(out_details, "audio_tokens", None),
    )


def _response_meta(call: Call, obj: Any) -> None:
    call.response_id = getattr(obj, "id", None) or call.response_id
    call.response_model = getattr(obj, "model", None) or call.response_model
    if call.provider in _OPENAI_FAMILY:
        call.response_service_tier = getattr(obj, "service_tier", None) or call.response_service_tier
        call.system_fingerprint = getattr(obj, "system_fingerprint", None) or call.system_fingerprint


def _whole(to_messages: Callable[[Any], tuple[list[Message], list[str]]]) -> Callable[[Call, Any], None]:
    """A translator for a complete response object: metadata, output messages, usage."""

    def translate(call: Call, obj: Any) -> None:
        _response_meta(call, obj)
        call.output_messages, call.finish_reasons = to_messages(obj)
        call.usage = _usage(getattr(obj, "usage", None))

    return translate


def _streamed(add: Callable[[content.ChoiceBuilder, Any], None]) -> Callable[[Call, list[Any]], None]:
    """A translator for the chunks of a choices stream (chat or legacy completions)."""

    def accumulate(call: Call, chunks: list[Any]) -> None:
        builder = content.ChoiceBuilder()
        for chunk in chunks:
            _response_meta(call, chunk)
            add(builder, chunk.choices)
            if getattr(chunk, "usage", None) is not None:
                call.usage = _usage(chunk.usage)
        call.output_messages, call.finish_reasons = builder.result()

    return accumulate


_chat_response = _whole(lambda completion: content.chat_choices(completion.choices))
_chat_chunks = _streamed(content.ChoiceBuilder.add_chat_deltas)
_completion_response = _whole(lambda completion: content.text_choices(completion.choices))
_completion_chunks = _streamed(content.ChoiceBuilder.add_text_choices)
_responses_response = _whole(content.responses_output)


def _responses_events(call: Call, events: list[Any]) -> None:
    text: list[str] = []
    for event in events:
        snapshot = getattr(event, "response", None)
        if snapshot is not None:
            _response_meta(call, snapshot)
            if getattr(event, "type", "") in ("response.completed", "response.incomplete", "response.failed"):
                _responses_response(call, snapshot)
                return
        elif getattr(event, "type", "") == "response.output_text.delta":
            text.append(event.delta)
    if text:  # the stream ended before a terminal event: keep what was generated
        call.output_messages = [content.assistant_text("".join(text))]


def _embeddings_response(call: Call, result: Any) -> None:
    call.response_model = getattr(result, "model", None)
    data = getattr(result, "data", None) or []
    vector = getattr(data[0], "embedding", None) if data else None
    call.embedding_dimensions = len(vector) if isinstance(vector, list) else None
    call.usage = _usage(getattr(result, "usage", None))


def _unused_chunks(call: Call, chunks: list[Any]) -> None:
    """Embeddings never stream."""


def _endpoints() -> list[Endpoint]:
    table = [
        ("openai.resources.chat.completions.completions", "create", _chat_request, _chat_response, _chat_chunks),
        ("openai.resources.chat.completions.completions", "parse", _chat_request, _chat_response, _chat_chunks),
        ("openai.resources.responses.responses", "create", _responses_request, _responses_response, _responses_events),
        ("openai.resources.responses.responses", "parse", _responses_request, _responses_response, _responses_events),
        ("openai.resources.completions", "create", _completions_request, _completion_response, _completion_chunks),
        ("openai.resources.embeddings", "create", _embeddings_request, _embeddings_response, _unused_chunks),
    ]
    endpoints: list[Endpoint] = []
    for module, method, request, response, accumulate in table:
        class_name = {
            "openai.resources.embeddings": "Embeddings",
            "openai.resources.responses.responses": "Responses",
        }.get(module, "Completions")
        for prefix, is_async in (("", False), ("Async", True)):
            endpoints.append(
                Endpoint(
                    module,
                    f"{prefix}{class_name}.{method}",
                    is_async,
                    request,
                    response,
                    accumulate,
                    _is_stream,
                    _raw_mode,
                )
            )
    return endpoints


ENDPOINTS = _endpoints()
VERSION = openai.__version__
