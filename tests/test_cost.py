"""Cost on every span: expected figures are computed here by hand from the providers' published per-million
rates, never read back from llmwatch or genai-prices."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from llmwatch import pricing
from llmwatch.record import Call, Usage
from llmwatch.testing import CapturedSpans, FakeLLMServer, capture_spans

MESSAGES = [{"role": "user", "content": "hi"}]

# Published list prices, USD per million tokens.
GPT_4O_MINI = {"input": 0.15, "cached": 0.075, "output": 0.60}
GPT_4O = {"input": 2.50, "cached": 1.25, "output": 10.00}
O4_MINI = {"input": 1.10, "cached": 0.275, "output": 4.40}
O4_MINI_FLEX = {"input": 0.55, "cached": 0.138, "output": 2.20}
CLAUDE_SONNET_4_5 = {"input": 3.00, "cache_read": 0.30, "cache_write": 3.75, "output": 15.00}


def client_answering(model: str, usage: dict[str, Any], **extra: Any) -> openai.OpenAI:
    """A real OpenAI client whose HTTP layer answers with exactly this model name and usage."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": usage,
            **extra,
        }
        return httpx2.Response(200, json=body)

    http_client = openai.DefaultHttpx2Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(api_key="k", http_client=http_client, max_retries=0)


def usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def cost_attributes(span: Any) -> tuple[float, float, float, str]:
    a = span.attributes
    return (
        a["llmwatch.cost.input_usd"],
        a["llmwatch.cost.output_usd"],
        a["llmwatch.cost.total_usd"],
        a["llmwatch.cost.source"],
    )


def assert_cost(span: Any, input_usd: float, output_usd: float, source: str = "genai-prices") -> None:
    got_in, got_out, got_total, got_source = cost_attributes(span)
    assert abs(got_in - input_usd) < 1e-9, (got_in, input_usd)
    assert abs(got_out - output_usd) < 1e-9, (got_out, output_usd)
    assert abs(got_total - (input_usd + output_usd)) < 1e-9
    assert got_source == source


def one_span(captured: CapturedSpans) -> Any:
    (span,) = captured.llm_spans()
    return span


def test_plain_chat(captured: CapturedSpans) -> None:
    client_answering("gpt-4o-mini-2024-07-18", usage(1200, 300)).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )

    # 1200 x $0.15 + 300 x $0.60, per million
    assert_cost(one_span(captured), 1200 * 0.15 / 1e6, 300 * 0.60 / 1e6)


def test_cached_input_is_not_counted_twice(captured: CapturedSpans) -> None:
    client_answering("gpt-4o-mini-2024-07-18", usage(2000, 100, cached=1500)).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )

    # 500 uncached at $0.15 + 1500 cached at $0.075; output 100 at $0.60
    assert_cost(one_span(captured), (500 * 0.15 + 1500 * 0.075) / 1e6, 100 * 0.60 / 1e6)


def test_reasoning_tokens_are_output_tokens(captured: CapturedSpans) -> None:
    client_answering("o4-mini-2025-04-16", usage(1000, 3000, reasoning=2000)).chat.completions.create(
        model="o4-mini", messages=MESSAGES
    )

    # completion_tokens (3000) already include the 2000 reasoning tokens: all at the output rate, once
    assert_cost(one_span(captured), 1000 * O4_MINI["input"] / 1e6, 3000 * O4_MINI["output"] / 1e6)


def test_dated_model_alias_resolves_to_its_price(captured: CapturedSpans) -> None:
    client_answering("gpt-4o-2024-08-06", usage(10_000, 2_000, cached=4_000)).chat.completions.create(
        model="gpt-4o", messages=MESSAGES
    )

    span = one_span(captured)
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert_cost(span, (6_000 * GPT_4O["input"] + 4_000 * GPT_4O["cached"]) / 1e6, 2_000 * GPT_4O["output"] / 1e6)


def test_service_tier_from_the_response(captured: CapturedSpans) -> None:
    client_answering("o4-mini-2025-04-16", usage(1000, 500), service_tier="flex").chat.completions.create(
        model="o4-mini", messages=MESSAGES, service_tier="flex"
    )

    span = one_span(captured)
    assert span.attributes["openai.response.service_tier"] == "flex"
    assert_cost(span, 1000 * O4_MINI_FLEX["input"] / 1e6, 500 * O4_MINI_FLEX["output"] / 1e6)


def test_embeddings(server: FakeLLMServer, captured: CapturedSpans) -> None:
    result = openai.OpenAI(base_url=server.url, api_key="k").embeddings.create(
        model="text-embedding-3-small", input=["a long document"] * 3
    )

    # text-embedding-3-small: $0.02 per million input tokens, no output
    assert_cost(one_span(captured), result.usage.prompt_tokens * 0.02 / 1e6, 0.0)


def test_override_wins_and_prices_each_subset() -> None:
    prices = {"my-finetune": {"input": 2.0, "output": 8.0, "cache_read": 0.5}}
    client = client_answering("my-finetune", usage(1000, 250, cached=400))

    with capture_spans(prices=prices) as captured:
        client.chat.completions.create(model="my-finetune", messages=MESSAGES)
        span = one_span(captured)

    assert_cost(span, (600 * 2.0 + 400 * 0.5) / 1e6, 250 * 8.0 / 1e6, source="override")


def test_override_with_reasoning_rate_applies_to_dated_names() -> None:
    prices = {"o4-mini": {"input": 1.0, "output": 2.0, "reasoning": 4.0}}
    client = client_answering("o4-mini-2025-04-16", usage(1000, 3000, reasoning=2000))

    with capture_spans(prices=prices) as captured:
        client.chat.completions.create(model="o4-mini", messages=MESSAGES)
        span = one_span(captured)

    # 1000 visible output tokens at $2, 2000 reasoning tokens at $4
    assert_cost(span, 1000 * 1.0 / 1e6, (1000 * 2.0 + 2000 * 4.0) / 1e6, source="override")


def test_unknown_model_is_visible_never_free(caplog: pytest.LogCaptureFixture) -> None:
    client = client_answering("acme-llm-7", usage(100, 10))

    with capture_spans() as captured, caplog.at_level(logging.WARNING, logger="llmwatch"):
        for _ in range(3):
            client.chat.completions.create(model="acme-llm-7", messages=MESSAGES)
        spans = captured.llm_spans()

    for span in spans:
        assert span.attributes["llmwatch.cost.source"] == "unknown"
        assert not [k for k in span.attributes if k.startswith("llmwatch.cost.") and k.endswith("_usd")]
        assert span.attributes["gen_ai.usage.input_tokens"] == 100
    warnings = [r for r in caplog.records if "acme-llm-7" in r.getMessage()]
    assert len(warnings) == 1


def test_estimated_tokens_are_priced_and_say_so(client: openai.OpenAI, captured: CapturedSpans) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert chunks

    attrs = one_span(captured).attributes
    assert attrs["llmwatch.usage.estimated"] is True
    assert attrs["llmwatch.cost.estimated"] is True
    expected_in = attrs["gen_ai.usage.input_tokens"] * GPT_4O_MINI["input"] / 1e6
    expected_out = attrs["gen_ai.usage.output_tokens"] * GPT_4O_MINI["output"] / 1e6
    assert abs(attrs["llmwatch.cost.total_usd"] - (expected_in + expected_out)) < 1e-9


def test_failed_call_has_no_cost(client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans) -> None:
    server.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert not [k for k in one_span(captured).attributes if k.startswith("llmwatch.cost")]


def anthropic_call(uncached: int, cache_read: int, cache_write: int, output: int) -> Call:
    """Anthropic reports input excluding cache tokens; the record (GenAI convention) carries the total."""
    return Call(
        operation="chat",
        provider="anthropic",
        request_model="claude-sonnet-4-5",
        response_model="claude-sonnet-4-5-20250929",
        usage=Usage(
            input_tokens=uncached + cache_read + cache_write,
            output_tokens=output,
            cache_read_input_tokens=cache_read,
            cache_write_input_tokens=cache_write,
        ),
    )


def test_anthropic_cache_read_and_creation() -> None:
    call = anthropic_call(uncached=100, cache_read=2000, cache_write=500, output=400)

    rates = pricing.PriceBook().rates_for(call)
    assert rates is not None
    cost = pricing.cost_of(call, rates)

    rate = CLAUDE_SONNET_4_5
    expected_in = (100 * rate["input"] + 2000 * rate["cache_read"] + 500 * rate["cache_write"]) / 1e6
    assert abs(cost.input_usd - expected_in) < 1e-12
    assert abs(cost.output_usd - 400 * rate["output"] / 1e6) < 1e-12


def test_long_context_tier_applies_to_the_whole_call() -> None:
    call = anthropic_call(uncached=250_000, cache_read=0, cache_write=0, output=1_000)

    rates = pricing.PriceBook().rates_for(call)
    assert rates is not None
    cost = pricing.cost_of(call, rates)

    # above 200k input tokens Sonnet 4.5 costs $6 input / $22.50 output for every token of the call
    assert abs(cost.input_usd - 250_000 * 6.0 / 1e6) < 1e-12
    assert abs(cost.output_usd - 1_000 * 22.5 / 1e6) < 1e-12


def test_price_file_json_and_toml(tmp_path: Path) -> None:
    as_json = tmp_path / "prices.json"
    as_json.write_text(json.dumps({"house-model": {"input": 1.5, "output": 3}}))
    as_toml = tmp_path / "prices.toml"
    as_toml.write_text('["house-model"]\ninput = 1.5\noutput = 3.0\ncache_read = 0.25\n')

    from_json = pricing.load_overrides(str(as_json))["house-model"]
    from_toml = pricing.load_overrides(str(as_toml))["house-model"]

    assert (from_json.input, from_json.output, from_json.cache_read) == (1.5, 3.0, None)
    assert (from_toml.input, from_toml.output, from_toml.cache_read) == (1.5, 3.0, 0.25)


def test_price_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"house-model": {"input": 4.0, "output": 16.0}}))
    monkeypatch.setenv("LLMWATCH_PRICES", str(path))
    client = client_answering("house-model", usage(1000, 1000))

    with capture_spans() as captured:
        client.chat.completions.create(model="house-model", messages=MESSAGES)
        span = one_span(captured)

    assert_cost(span, 1000 * 4.0 / 1e6, 1000 * 16.0 / 1e6, source="override")


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('{\n  "m": {"input": 1,\n  "output": }\n}', ".json", r"invalid JSON at line 3, column 13"),
        ('["m"]\ninput = \n', ".toml", r"invalid TOML: .*line 2"),
        ('{"m": {"input": -1}}', ".json", r"model 'm': m\.input: Input should be greater than or equal to 0"),
        ('{"m": {"input": 1, "outptu": 2}}', ".json", r"m\.outptu: Extra inputs are not permitted"),
        ('["not", "a", "mapping"]', ".json", r"expected a mapping of model name -> rates"),
    ],
)
def test_bad_price_file_is_a_clear_error_at_startup(tmp_path: Path, content: str, suffix: str, message: str) -> None:
    path = tmp_path / f"prices{suffix}"
    path.write_text(content)

    with pytest.raises(pricing.PricesError, match=message), capture_spans(prices=str(path)):
        pass


def test_prices_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from llmwatch.cli import main

    assert main(["prices", "gpt-4o-mini-2024-07-18"]) == 0
    shown = capsys.readouterr().out
    assert "source: genai-prices (openai/gpt-4o-mini)" in shown
    assert "input         $0.15" in shown and "cache_read    $0.075" in shown

    path = tmp_path / "p.json"
    path.write_text(json.dumps({"house-model": {"input": 1.25, "output": 5}}))
    assert main(["prices", "--prices", str(path)]) == 0
    assert "house-model\nsource: override (house-model)" in capsys.readouterr().out
    assert main(["prices", "acme-llm-9"]) == 1
    assert "source: unknown" in capsys.readouterr().out
