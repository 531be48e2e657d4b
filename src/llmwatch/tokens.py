"""Offline token counting with tiktoken, for calls whose provider sent no usage.

The ``o200k_base`` and ``cl100k_base`` BPE files ship inside the package (``llmwatch/_data``, gzip), are checked
against the sha256 that tiktoken itself publishes, and are loaded lazily, once per process, straight into
``tiktoken.Encoding``. Nothing is downloaded and the user's ``TIKTOKEN_CACHE_DIR`` is never read or written: no
network at runtime, and no surprise files on the user's disk.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import os
import threading
from collections.abc import Sequence
from importlib import resources

import tiktoken

__all__ = ["count_messages", "count_text", "encoding_name_for_model", "get_encoding"]

_ENDOFTEXT = "<|endoftext|>"

#: name -> (sha256 of the decompressed file, as in tiktoken_ext.openai_public; regex; special tokens)
_ENCODINGS: dict[str, tuple[str, str, dict[str, int]]] = {
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        {
            _ENDOFTEXT: 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        {_ENDOFTEXT: 199999, "<|endofprompt|>": 200018},
    ),
}

_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002")
_O200K_PREFIXES = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "gpt-oss")

_loaded: dict[str, tiktoken.Encoding] = {}
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A fork while another thread was loading an encoding must not leave the child's lock held forever."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@functools.lru_cache(maxsize=512)
def encoding_name_for_model(model: str | None) -> str:
    """The encoding a model uses; ``o200k_base`` (the current OpenAI default) for unknown models."""
    name = (model or "").lower().rsplit("/", 1)[-1]  # "openai/gpt-4o" -> "gpt-4o"
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


def get_encoding(name: str) -> tiktoken.Encoding:
    """The named encoding, loaded from the package on first use and then shared (thread-safe)."""
    encoding = _loaded.get(name)
    if encoding is not None:
        return encoding
    with _lock:
        encoding = _loaded.get(name)
        if encoding is None:
            if name not in _ENCODINGS:
                raise ValueError(f"unknown encoding {name!r}; shipped: {', '.join(_ENCODINGS)}")
            data = resources.files("llmwatch._data").joinpath(f"{name}.tiktoken.gz").read_bytes()
            encoding = _load_encoding(name, data)
            _loaded[name] = encoding
    return encoding


def _load_encoding(name: str, compressed: bytes) -> tiktoken.Encoding:
    """Build an encoding from the gzip bytes of its BPE file, after checking the published sha256."""
    expected, pat_str, special_tokens = _ENCODINGS[name]
    try:
        raw = gzip.decompress(compressed)
    except (OSError, EOFError) as exc:
        raise ValueError(f"llmwatch/_data/{name}.tiktoken.gz is not a valid gzip file: {exc}") from exc
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise ValueError(
            f"llmwatch/_data/{name}.tiktoken.gz is corrupt: sha256 {actual} does not match the published {expected}"
        )
    ranks = {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in raw.splitlines() if line)}
    return tiktoken.Encoding(name=name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_tokens)


def count_text(text: str, model: str | None = None) -> int:
    """Tokens in ``text`` for ``model``'s encoding (special-token look-alikes count as plain text)."""
    if not text:
        return 0
    return len(get_encoding(encoding_name_for_model(model)).encode_ordinary(text))


def count_messages(messages: Sequence[tuple[str, str]], model: str | None = None) -> int:
    """Prompt tokens for chat messages given as ``(role, text)`` pairs.

    OpenAI's published rule of thumb: 3 tokens of framing per message, plus its role and content, plus 3 tokens
    that prime the reply. It matches the API's ``prompt_tokens`` for plain text messages of current models; tools,
    images and names add tokens this does not see, so such estimates are low.
    """
    encoding = get_encoding(encoding_name_for_model(model))
    total = 3
    for role, text in messages:
        total += 3 + len(encoding.encode_ordinary(role)) + (len(encoding.encode_ordinary(text)) if text else 0)
    return total
