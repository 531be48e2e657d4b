"""A loopback, OpenAI-compatible HTTP server for tests and ``llmwatch demo`` (standard library only).

Deterministic answers: the reply to a conversation is derived from a hash of its last user message (8 to 120
words), so the same request always gets the same answer, token counts vary realistically, and no network or
API key is needed. Token counts use a simple rule (about four characters a token, 3 extra per message).

Prompt caching: a request whose messages start with a message list this server answered before reports that
prefix's tokens as ``cached_tokens`` (a continuing conversation), as OpenAI's prefix cache would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FakeLLMServer", "RecordedRequest"]

_WORDS = [
    "the",
    "system",
    "returns",
    "a",
    "concise",
    "answer",
    "with",
    "clear",
    "steps",
    "and",
    "practical",
    "examples",
    "that",
    "cover",
    "edge",
    "cases",
    "while",
    "keeping",
    "latency",
    "low",
    "and",
    "cost",
    "predictable",
    "for",
    "every",
    "team",
    "shipping",
    "features",
    "to",
    "production",
    "users",
]
_DATED = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06"}
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


@dataclass
class RecordedRequest:
    """One request the fake server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


def count_tokens(text: str) -> int:
    """The fake server's token rule: about four characters a token."""
    return (len(text) + 3) // 4 if text else 0


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _default_reply(body: dict[str, Any]) -> str:
    last = ""
    for message in body.get("messages") or []:
        if message.get("role") == "user":
            last = _text_of(message.get("content"))
    if not last:
        source = body.get("input") if "input" in body else body.get("prompt")
        last = source if isinstance(source, str) else json.dumps(source)
    digest = hashlib.sha256(last.encode()).digest()
    count = 8 + digest[0] * 112 // 255
    words = [_WORDS[(digest[i % len(digest)] + i) % len(_WORDS)] for i in range(count)]
    sentences = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences)


def _value_for(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: _value_for(v) for k, v in props.items()}
    return {"string": "Rome", "integer": 3, "number": 1.5, "boolean": True, "array": []}.get(str(kind), "Rome")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # hundreds of concurrent clients connect at once in load tests

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (an abandoned stream, a closed pool) is normal, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Behaviour:
    """Queued one-off behaviours (errors, delays, dropped connections), thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failures: list[tuple[int, str | None]] = []
        self.delays: list[float] = []
        self.drops = 0

    def take(self) -> tuple[tuple[int, str | None] | None, float, bool]:
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
            delay = self.delays.pop(0) if self.delays else 0.0
            drop = self.drops > 0
            if drop:
                self.drops -= 1
            return failure, delay, drop


class FakeLLMServer:
    """An OpenAI-compatible server on 127.0.0.1: chat, streams, responses, completions, embeddings, errors."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        chunk_delay_s: float = 0.0,
        omit_usage: bool = False,
        responder: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.host = host
        self.latency_s = latency_s
        self.chunk_delay_s = chunk_delay_s
        self.omit_usage = omit_usage
        self.responder = responder or _default_reply
        self.requests: list[RecordedRequest] = []
        self._requested_port = port
        self._behaviour = _Behaviour()
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> FakeLLMServer:
        """Start serving in a daemon thread (idempotent)."""
        if self._server is None:
            handler = type("_Handler", (_Handler,), {"fake": self})
            self._server = _Server((self.host, self._requested_port), handler)
            self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("FakeLLMServer is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give a client: ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    # behaviours ------------------------------------------------------------------------------------------
    def fail_next(self, status: int, *, count: int = 1, message: str | None = None) -> None:
        """Answer the next ``count`` requests with this HTTP status and an OpenAI-shaped error body."""
        with self._behaviour.lock:
            self._behaviour.failures.extend([(status, message)] * count)

    def delay_next(self, seconds: float, *, count: int = 1) -> None:
        """Sleep before answering the next ``count`` requests (for client timeouts)."""
        with self._behaviour.lock:
            self._behaviour.delays.extend([seconds] * count)

    def drop_next(self, *, count: int = 1) -> None:
        """Cut the connection of the next ``count`` requests: streams after their first chunk."""
        with self._behaviour.lock:
            self._behaviour.drops += count

    # answers ---------------------------------------------------------------------------------------------
    def _cached_tokens(self, messages: list[dict[str, Any]]) -> int:
        """Tokens of the longest message-list prefix answered before; remembers this request's list."""
        keys = [json.dumps(messages[:i], sort_keys=True) for i in range(1, len(messages) + 1)]
        with self._lock:
            cached = 0
            for i, key in enumerate(keys[:-1], start=1):
                if key in self._seen:
                    cached = _messages_tokens(messages[:i])
            self._seen.add(keys[-1] if keys else "[]")
        return cached

    def _usage(self, prompt: int, completion: int, cached: int, reasoning: int) -> dict[str, Any]:
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion + reasoning,
            "total_tokens": prompt + completion + reasoning,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }


def _messages_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(3 + count_tokens(_text_of(m.get("content"))) for m in messages)


def _truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    if max_tokens is None or count_tokens(text) <= max_tokens:
        return text, False
    return text[: max(1, max_tokens * 4 - 1)], True


def _reasoning_tokens(model: str, completion: int) -> int:
    return 2 * completion if model.startswith(_REASONING_PREFIXES) else 0


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLMServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body are separate writes: without NODELAY, delayed ACKs add ~40 ms per response
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # plumbing --------------------------------------------------------------------------------------------
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        path = urlsplit(self.path).path
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake.requests.append(RecordedRequest("POST", path, headers, body))
        failure, delay, drop = self.fake._behaviour.take()
        if self.fake.latency_s or delay:
            time.sleep(self.fake.latency_s + delay)
        if failure is not None:
            self._error(failure[0], failure[1])
            return
        if not isinstance(body, dict):
            self._error(400, "could not parse the JSON body of the request")
            return
        route = path.rstrip("/").rsplit("/", 1)[-1]
        if path.endswith("/chat/completions"):
            self._answer(body, self._chat, drop)
        elif route == "responses":
            self._answer(body, self._responses, drop)
        elif route == "completions":
            self._answer(body, self._completions, drop)
        elif route == "embeddings":
            self._answer(body, self._embeddings, drop)
        else:
            self._error(404, f"Unknown path {path}")

    def do_GET(self) -> None:
        self._error(404, f"Unknown path {self.path}")

    def _answer(self, body: dict[str, Any], build: Callable[[dict[str, Any]], Any], drop: bool) -> None:
        result = build(body)
        if isinstance(result, dict):
            if drop:
                self.close_connection = True
                return
            self._json(200, result)
            return
        try:
            self._stream(result, drop)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading: normal for an abandoned stream

    def _json(self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str | None) -> None:
        kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error", 429: "rate_limit"}
        error = {
            "message": message or f"Fake error {status}",
            "type": kinds.get(status, "server_error"),
            "param": None,
            "code": "rate_limit_exceeded" if status == 429 else None,
        }
        self._json(status, {"error": error}, {"retry-after": "0"} if status == 429 else None)

    def _stream(self, events: Iterator[tuple[str | None, dict[str, Any]]], drop: bool) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        self.end_headers()
        for index, (event, payload) in enumerate(events):
            prefix = f"event: {event}\n" if event else ""
            self._chunk(f"{prefix}data: {json.dumps(payload)}\n\n".encode())
            if drop and index == 0:
                self.close_connection = True
                return  # the connection ends mid-stream, without the terminating chunk
            if self.fake.chunk_delay_s:
                time.sleep(self.fake.chunk_delay_s)
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # chat completions ------------------------------------------------------------------------------------
    def _chat(self, body: dict[str, Any]) -> Any:
        fake = self.fake
        model = str(body.get("model", "gpt-4o-mini"))
        messages = list(body.get("messages") or [])
        prompt = _messages_tokens(messages) + 3
        cached = fake._cached_tokens(messages)
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
        wants_tool = (
            bool(tools) and messages and messages[-1].get("role") == "user" and body.get("tool_choice") != "none"
        )
        choices: list[tuple[str | None, list[dict[str, Any]] | None, str]] = []
        for i in range(int(body.get("n") or 1)):
            text = (
                fake.responder(body)
                if i == 0
                else fake.responder({**body, "messages": [*messages, {"role": "user", "content": str(i)}]})
            )
            fmt = (body.get("response_format") or {}).get("type")
            if fmt == "json_object":
                text = json.dumps({"answer": text})
            elif fmt == "json_schema":
                text = json.dumps(_value_for(body["response_format"]["json_schema"].get("schema", {})))
            text, cut = _truncate(text, max_tokens)
            if wants_tool:
                args = json.dumps({"query": _text_of(messages[-1].get("content"))})
                call = {
                    "id": f"call_{uuid.uuid4().hex[:12]}",
                    "type": "function",
                    "function": {"name": tools[0]["function"]["name"], "arguments": args},
                }
                choices.append((None, [call], "tool_calls"))
            else:
                choices.append((text, None, "length" if cut else "stop"))
        completion = sum(
            count_tokens(t or "") + (count_tokens(c[0]["function"]["arguments"]) if c else 0) for t, c, _ in choices
        )
        usage = fake._usage(prompt, completion, cached, _reasoning_tokens(model, completion))
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "created": int(time.time()),
            "model": _DATED.get(model, model),
            "system_fingerprint": "fp_fake",
            "service_tier": "default",
        }
        if not body.get("stream"):
            result = {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": text, "tool_calls": calls, "refusal": None},
                        "logprobs": None,
                        "finish_reason": reason,
                    }
                    for i, (text, calls, reason) in enumerate(choices)
                ],
            }
            if not fake.omit_usage:
                result["usage"] = usage
            return result
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and not fake.omit_usage
        return self._chat_chunks(base, choices, usage if include_usage else None)

    def _chat_chunks(self, base: dict[str, Any], choices: list[Any], usage: dict[str, Any] | None) -> Iterator[Any]:
        def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> tuple[None, dict[str, Any]]:
            payload = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if usage is not None:
                payload["usage"] = None
            return None, payload

        for i in range(len(choices)):
            yield chunk(i, {"role": "assistant", "content": "", "refusal": None})
        pieces = [_pieces(text) if text else [] for text, _, _ in choices]
        for step in range(max((len(p) for p in pieces), default=0)):
            for i, parts in enumerate(pieces):
                if step < len(parts):
                    yield chunk(i, {"content": parts[step]})
        for i, (_, calls, _) in enumerate(choices):
            for j, call in enumerate(calls or []):
                yield chunk(
                    i,
                    {
                        "tool_calls": [
                            {
                                "index": j,
                                "id": call["id"],
                                "type": "function",
                                "function": {"name": call["function"]["name"], "arguments": ""},
                            }
                        ]
                    },
                )
                for piece in _pieces(call["function"]["arguments"], 3):
                    yield chunk(i, {"tool_calls": [{"index": j, "function": {"arguments": piece}}]})
        for i, (_, _, reason) in enumerate(choices):
            yield chunk(i, {}, reason)
        if usage is not None:
            yield None, {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}

    # legacy completions ----------------------------------------------------------------------------------
    def _completions(self, body: dict[str, Any]) -> Any:
        fake = self.fake
        model = str(body.get("model", "gpt-3.5-turbo-instruct"))
        prompt_value = body.get("prompt", "")
        prompt_text = prompt_value if isinstance(prompt_value, str) else " ".join(map(str, prompt_value))
        text, cut = _truncate(fake.responder({"prompt": prompt_text}), body.get("max_tokens"))
        reason = "length" if cut else "stop"
        usage = {
            "prompt_tokens": count_tokens(prompt_text),
            "completion_tokens": count_tokens(text),
            "total_tokens": count_tokens(prompt_text) + count_tokens(text),
        }
        base = {
            "id": f"cmpl-{uuid.uuid4().hex[:24]}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
        }
        if not body.get("stream"):
            result = {**base, "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": reason}]}
            if not fake.omit_usage:
                result["usage"] = usage
            return result
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and not fake.omit_usage

        def events() -> Iterator[tuple[None, dict[str, Any]]]:
            parts = _pieces(text)
            for n, piece in enumerate(parts):
                last = n == len(parts) - 1
                yield (
                    None,
                    {
                        **base,
                        "choices": [
                            {"index": 0, "text": piece, "logprobs": None, "finish_reason": reason if last else None}
                        ],
                    },
                )
            if include_usage:
                yield None, {**base, "choices": [], "usage": usage}

        return events()

    # embeddings ------------------------------------------------------------------------------------------
    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("input", "")
        items = [inputs] if isinstance(inputs, str) or (inputs and isinstance(inputs[0], int)) else list(inputs)
        dims = int(body.get("dimensions") or 16)
        data = []
        tokens = 0
        for index, item in enumerate(items):
            text = item if isinstance(item, str) else json.dumps(item)
            tokens += count_tokens(text) if isinstance(item, str) else len(item)
            digest = hashlib.sha256(text.encode()).digest()
            vector = [(digest[i % len(digest)] - 128) / 128 for i in range(dims)]
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        result: dict[str, Any] = {"object": "list", "data": data, "model": str(body.get("model", ""))}
        if not self.fake.omit_usage:
            result["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        return result

    # responses -------------------------------------------------------------------------------------------
    def _responses(self, body: dict[str, Any]) -> Any:
        fake = self.fake
        model = str(body.get("model", "gpt-4o-mini"))
        raw_input = body.get("input", "")
        messages = (
            [{"role": "user", "content": raw_input}]
            if isinstance(raw_input, str)
            else [m for m in raw_input or [] if isinstance(m, dict) and "role" in m]
        )
        if body.get("instructions"):
            messages = [{"role": "system", "content": body["instructions"]}, *messages]
        prompt = _messages_tokens(messages) + 3
        cached = fake._cached_tokens(messages)
        text = fake.responder({**body, "messages": messages})
        fmt = (body.get("text") or {}).get("format") or {}
        if fmt.get("type") == "json_schema":
            text = json.dumps(_value_for(fmt.get("schema", {})))
        elif fmt.get("type") == "json_object":
            text = json.dumps({"answer": text})
        text, cut = _truncate(text, body.get("max_output_tokens"))
        tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
        response_id = f"resp_{uuid.uuid4().hex[:24]}"
        if tools and body.get("tool_choice") != "none":
            args = json.dumps({"query": _text_of(messages[-1].get("content")) if messages else ""})
            item: dict[str, Any] = {
                "type": "function_call",
                "id": f"fc_{uuid.uuid4().hex[:12]}",
                "call_id": f"call_{uuid.uuid4().hex[:12]}",
                "name": tools[0]["name"],
                "arguments": args,
                "status": "completed",
            }
            completion = count_tokens(args)
        else:
            item = {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex[:12]}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
            completion = count_tokens(text)
        reasoning = _reasoning_tokens(model, completion)
        usage = {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": completion + reasoning,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": prompt + completion + reasoning,
        }
        response = {
            "id": response_id,
            "object": "response",
            "created_at": time.time(),
            "model": _DATED.get(model, model),
            "status": "incomplete" if cut else "completed",
            "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
            "error": None,
            "instructions": body.get("instructions"),
            "metadata": {},
            "output": [item],
            "parallel_tool_calls": True,
            "temperature": body.get("temperature", 1.0),
            "tool_choice": "auto",
            "tools": body.get("tools") or [],
            "top_p": body.get("top_p", 1.0),
            "max_output_tokens": body.get("max_output_tokens"),
            "previous_response_id": body.get("previous_response_id"),
            "service_tier": "default",
            "text": body.get("text") or {"format": {"type": "text"}},
            "truncation": "disabled",
        }
        if not fake.omit_usage:
            response["usage"] = usage
        if not body.get("stream"):
            return response
        return _response_events(response, item, text)


def _pieces(text: str, size: int = 4) -> list[str]:
    """Split text into small stream deltas (a few words each)."""
    words = text.split(" ")
    return [" ".join(words[i : i + size]) + (" " if i + size < len(words) else "") for i in range(0, len(words), size)]


def _response_events(response: dict[str, Any], item: dict[str, Any], text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    sequence = iter(range(10_000))
    pending = {**response, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}

    def event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return kind, {"type": kind, "sequence_number": next(sequence), **fields}

    yield event("response.created", response=pending)
    yield event("response.in_progress", response=pending)
    if item["type"] == "message":
        empty = {**item, "status": "in_progress", "content": []}
        yield event("response.output_item.added", output_index=0, item=empty)
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        yield event("response.content_part.added", item_id=item["id"], output_index=0, content_index=0, part=part)
        for piece in _pieces(text):
            yield event(
                "response.output_text.delta",
                item_id=item["id"],
                output_index=0,
                content_index=0,
                delta=piece,
                logprobs=[],
            )
        yield event(
            "response.output_text.done", item_id=item["id"], output_index=0, content_index=0, text=text, logprobs=[]
        )
        yield event(
            "response.content_part.done", item_id=item["id"], output_index=0, content_index=0, part=item["content"][0]
        )
    else:
        yield event("response.output_item.added", output_index=0, item={**item, "arguments": ""})
        yield event(
            "response.function_call_arguments.delta", item_id=item["id"], output_index=0, delta=item["arguments"]
        )
        yield event(
            "response.function_call_arguments.done",
            item_id=item["id"],
            output_index=0,
            arguments=item["arguments"],
            name=item["name"],
        )
    yield event("response.output_item.done", output_index=0, item=item)
    final = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
    yield event(final, response=response)
