"""llmwatch: one line turns every LLM call into an OpenTelemetry span with tokens, cost, latency and flags.

>>> import llmwatch
>>> llmwatch.instrument()
"""

from llmwatch._setup import Handle, instrument, uninstrument
from llmwatch._version import __version__

__all__ = ["Handle", "__version__", "instrument", "uninstrument"]
