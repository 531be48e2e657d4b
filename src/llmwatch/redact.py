"""Ready-made ``redact=`` hooks.

``llmwatch.instrument(redact=llmwatch.redact.pii)`` masks emails, phone numbers, card numbers (Luhn-checked),
IBANs (checksum-checked), US social security numbers and API keys / private keys in captured content, so
content capture can stay on without keeping personal data or secrets.
"""

from __future__ import annotations

from llmwatch.evaluators import patterns

__all__ = ["pii"]


def pii(text: str) -> str:
    """``text`` with PII and secrets replaced by ``[email]``, ``[phone]``, ``[credit_card]``, ``[iban]``,
    ``[ssn]``, ``[secret]``."""
    for _, (mask, finder) in patterns.FINDERS.items():
        spans = [m.span() for m in finder(text)]
        for start, end in reversed(spans):
            text = text[:start] + mask + text[end:]
    return text
