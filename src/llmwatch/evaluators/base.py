"""The Evaluator protocol and how verdicts are merged into the call record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from llmwatch import _guard
from llmwatch.record import Call

#: How much text (characters) an evaluator looks at: long texts are checked on their start and end only,
#: so a 1 MB response costs about what a 16 KB one does.
MAX_TEXT = 16_384


@dataclass(frozen=True)
class Verdict:
    """What an evaluator found: quality flags, safety flags in the prompt / in the completion, a 0..1 score."""

    quality: Sequence[str] = ()
    input_safety: Sequence[str] = ()
    output_safety: Sequence[str] = ()
    score: float | None = None


@runtime_checkable
class Evaluator(Protocol):
    """Anything with a ``name`` and ``evaluate(call) -> Verdict | None``.

    Evaluators run for every finished call (streams on their assembled text), on the thread that finishes the
    call; keep them cheap. A failing evaluator is reported once and never affects the call.
    """

    name: str

    def evaluate(self, call: Call) -> Verdict | None: ...


@dataclass
class _Merged:
    quality: list[str] = field(default_factory=list)
    input_safety: list[str] = field(default_factory=list)
    output_safety: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


def run_evaluators(call: Call, evaluators: Sequence[Evaluator]) -> None:
    """Run each evaluator (guarded) and store the union of their flags and the lowest score on the call."""
    merged = _Merged()
    for evaluator in evaluators:
        verdict = _guard.run_guarded(f"evaluator.{getattr(evaluator, 'name', type(evaluator).__name__)}", None,
                                     evaluator.evaluate, call)  # fmt: skip
        if verdict is None:
            continue
        merged.quality.extend(f for f in verdict.quality if f not in merged.quality)
        merged.input_safety.extend(f for f in verdict.input_safety if f not in merged.input_safety)
        merged.output_safety.extend(f for f in verdict.output_safety if f not in merged.output_safety)
        if verdict.score is not None:
            merged.scores.append(verdict.score)
    call.quality_flags = merged.quality
    call.safety_input_flags = merged.input_safety
    call.safety_output_flags = merged.output_safety
    call.quality_score = min(merged.scores) if merged.scores else None


def clip(text: str) -> str:
    """At most MAX_TEXT characters: the start and the end of a long text."""
    if len(text) <= MAX_TEXT:
        return text
    half = MAX_TEXT // 2
    return text[:half] + "\n" + text[-half:]
