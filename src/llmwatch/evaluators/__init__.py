"""Quality and safety evaluators: cheap local checks that flag poor or harmful calls."""

from llmwatch.evaluators.base import Evaluator, Verdict, run_evaluators
from llmwatch.evaluators.quality import QualityEvaluator
from llmwatch.evaluators.safety import SafetyEvaluator


def builtin_evaluators() -> list[Evaluator]:
    """The default set: quality and safety."""
    return [QualityEvaluator(), SafetyEvaluator()]


__all__ = ["Evaluator", "QualityEvaluator", "SafetyEvaluator", "Verdict", "builtin_evaluators", "run_evaluators"]
