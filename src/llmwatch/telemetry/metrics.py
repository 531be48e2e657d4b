"""Call records -> OpenTelemetry metrics: the GenAI client metrics plus llmwatch's cost and request counters.

Two GenAI sets, chosen with ``metrics_semconv``: ``"v1.41"`` (default; what backends, dashboards and the
official instrumentations use today) and ``"latest"`` (the ``gen_ai.client.inference.*`` set of the
semantic-conventions-genai repository). Histograms carry the conventions' bucket boundaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.metrics import Meter

from llmwatch.record import Call
from llmwatch.telemetry import names as n

DURATION_BUCKETS: Sequence[float] = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Sequence[float] = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

SEMCONV_SETS = ("v1.41", "latest")
_INFERENCE = frozenset({n.OP_CHAT, n.OP_TEXT_COMPLETION, n.OP_GENERATE_CONTENT})


def _base_attributes(call: Call) -> dict[str, Any]:
    attrs: dict[str, Any] = {n.GEN_AI_OPERATION_NAME: call.operation, n.GEN_AI_PROVIDER_NAME: call.provider}
    for key, value in (
        (n.GEN_AI_REQUEST_MODEL, call.request_model),
        (n.GEN_AI_RESPONSE_MODEL, call.response_model),
        (n.SERVER_ADDRESS, call.server_address),
        (n.SERVER_PORT, call.server_port),
        (n.OPENAI_RESPONSE_SERVICE_TIER, call.response_service_tier),
    ):
        if value is not None:
            attrs[key] = value
    attrs.update(call.context_attributes)  # user, session, feature, prompt: cost and latency by each
    return attrs


class Metrics:
    """The instruments of one meter, and how a finished call is recorded on them."""

    def __init__(self, meter: Meter, semconv: str = "v1.41") -> None:
        if semconv not in SEMCONV_SETS:
            raise ValueError(f"metrics_semconv must be one of {', '.join(SEMCONV_SETS)}, not {semconv!r}")
        self.latest = semconv == "latest"
        seconds, tokens = "s", "{token}"

        def histogram(name: str, unit: str, buckets: Sequence[float], description: str) -> Any:
            return meter.create_histogram(
                name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
            )

        if self.latest:
            self.inference_duration = histogram(
                n.M_INFERENCE_DURATION, seconds, DURATION_BUCKETS, "Inference call duration"
            )
            self.embeddings_duration = histogram(
                n.M_EMBEDDINGS_DURATION, seconds, DURATION_BUCKETS, "Embeddings call duration"
            )
            self.ttfc = histogram(n.M_INFERENCE_TTFC, seconds, DURATION_BUCKETS, "Time to the first streamed chunk")
            self.input_counter = meter.create_counter(n.M_USAGE_INPUT, unit=tokens, description="Input tokens")
            self.output_counter = meter.create_counter(n.M_USAGE_OUTPUT, unit=tokens, description="Output tokens")
            self.cache_read_counter = meter.create_counter(n.M_USAGE_CACHE_READ, unit=tokens, description="Cache reads")
            self.cache_write_counter = meter.create_counter(
                n.M_USAGE_CACHE_WRITE, unit=tokens, description="Cache writes"
            )
            self.reasoning_counter = meter.create_counter(n.M_USAGE_REASONING, unit=tokens, description="Reasoning")
            self.input_hist = histogram(n.M_OPERATION_INPUT, tokens, TOKEN_BUCKETS, "Input tokens per call")
            self.output_hist = histogram(n.M_OPERATION_OUTPUT, tokens, TOKEN_BUCKETS, "Output tokens per call")
            self.embeddings_input_hist = histogram(n.M_EMBEDDINGS_INPUT, tokens, TOKEN_BUCKETS, "Embedded tokens")
        else:
            self.duration = histogram(n.M_OPERATION_DURATION, seconds, DURATION_BUCKETS, "GenAI operation duration")
            self.token_usage = histogram(n.M_TOKEN_USAGE, tokens, TOKEN_BUCKETS, "Tokens used per call and type")
            self.ttfc = histogram(n.M_OPERATION_TTFC, seconds, DURATION_BUCKETS, "Time to the first streamed chunk")
        self.cost = meter.create_counter(n.M_LLMWATCH_COST, unit="USD", description="Estimated cost of model calls")
        self.requests = meter.create_counter(n.M_LLMWATCH_REQUESTS, unit="{request}", description="Model calls")
        self.flags = meter.create_counter(n.M_LLMWATCH_FLAGS, unit="{call}", description="Calls flagged, by flag")

    def record(self, call: Call) -> None:
        """Record one finished call."""
        attrs = _base_attributes(call)
        with_error = {**attrs, n.ERROR_TYPE: call.error_type} if call.error_type else attrs
        self.requests.add(1, with_error)
        if call.cost_input_usd is not None and call.cost_output_usd is not None:
            self.cost.add(
                call.cost_input_usd + call.cost_output_usd, {**attrs, n.LLMWATCH_COST_SOURCE: call.cost_source}
            )
        for flag in dict.fromkeys([*call.quality_flags, *call.safety_input_flags, *call.safety_output_flags]):
            self.flags.add(1, {**attrs, n.LLMWATCH_FLAG: flag})
        duration = call.duration_s
        ttfc = call.time_to_first_chunk_s
        if self.latest:
            self._record_latest(call, attrs, with_error, duration, ttfc)
            return
        if duration is not None:
            self.duration.record(duration, with_error)
        if ttfc is not None:
            self.ttfc.record(ttfc, attrs)
        usage = call.usage
        if usage.input_tokens is not None:
            self.token_usage.record(usage.input_tokens, {**attrs, n.GEN_AI_TOKEN_TYPE: "input"})
        if usage.output_tokens is not None:
            self.token_usage.record(usage.output_tokens, {**attrs, n.GEN_AI_TOKEN_TYPE: "output"})

    def _record_latest(
        self, call: Call, attrs: dict[str, Any], with_error: dict[str, Any], duration: float | None, ttfc: float | None
    ) -> None:
        usage = call.usage
        if call.operation == n.OP_EMBEDDINGS:
            if duration is not None:
                self.embeddings_duration.record(duration, with_error)
            if usage.input_tokens is not None:
                self.embeddings_input_hist.record(usage.input_tokens, with_error)
            return
        if duration is not None:
            self.inference_duration.record(duration, with_error)
        if ttfc is not None:
            self.ttfc.record(ttfc, attrs)
        modality = {n.GEN_AI_TOKEN_MODALITY: "text" if usage.input_tokens is not None else "unknown"}
        self.input_counter.add(usage.input_tokens or 0, {**attrs, **modality})
        self.output_counter.add(usage.output_tokens or 0, {**attrs, **modality})
        for counter, value in (
            (self.cache_read_counter, usage.cache_read_input_tokens),
            (self.cache_write_counter, usage.cache_write_input_tokens),
            (self.reasoning_counter, usage.reasoning_output_tokens),
        ):
            if value:
                counter.add(value, {**attrs, **modality})
        if usage.input_tokens is not None:
            self.input_hist.record(usage.input_tokens, with_error)
        if usage.output_tokens is not None:
            self.output_hist.record(usage.output_tokens, with_error)
