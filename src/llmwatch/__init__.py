"""llmwatch: one line turns every LLM call into an OpenTelemetry span with tokens, cost, latency and flags.

>>> import llmwatch
>>> llmwatch.instrument()
"""

from llmwatch import redact
from llmwatch._setup import Handle, instrument, uninstrument
from llmwatch._version import __version__
from llmwatch.context import attributes, propagate
from llmwatch.decorators import prompt, trace
from llmwatch.evaluators import Evaluator, Verdict

__all__ = [
    "Evaluator",
    "Handle",
    "Verdict",
    "__version__",
    "attributes",
    "instrument",
    "prompt",
    "propagate",
    "redact",
    "trace",
    "uninstrument",
]
