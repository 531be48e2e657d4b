"""Offline token counting with tiktoken, for calls whose provider sent no usage.

The ``cl100k_base`` and ``o200k_base`` BPE rank files ship inside the package
(``llmwatch/_data/*.tiktoken.gz``: OpenAI's published files, see ``_data/NOTICE.md``). On first use an
encoding is decompressed, its sha256 is checked against the hash tiktoken itself pins
(``tiktoken_ext/openai_public.py``), and the ranks are handed straight to ``tiktoken.Encoding`` with the regex
and special tokens tiktoken uses, so token ids are identical to ``tiktoken.get_encoding(name)``. Each encoding
is built lazily, at most once per process, under a lock.

Why not ``tiktoken.get_encoding``: it downloads the files on first use and caches them in
``TIKTOKEN_CACHE_DIR`` (or a temp dir). An observability library must work without network access at runtime
(air-gapped hosts, sandboxes, CI) and must not read, fill or depend on the user's tiktoken cache; this module
does neither.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import os
import re
import threading
from collections.abc import Sequence
from importlib import resources

import tiktoken

__all__ = ["count_messages", "count_text", "encoding_name_for_model", "get_encoding"]

_CL100K_BASE = "cl100k_base"
_O200K_BASE = "o200k_base"

_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"

# The values below are copied verbatim from tiktoken_ext/openai_public.py (tests assert they stay identical).
_CL100K_PAT_STR = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_CL100K_SPECIAL_TOKENS: dict[str, int] = {
    _ENDOFTEXT: 100257,
    _FIM_PREFIX: 100258,
    _FIM_MIDDLE: 100259,
    _FIM_SUFFIX: 100260,
    _ENDOFPROMPT: 100276,
}
_CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

_O200K_PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_O200K_SPECIAL_TOKENS: dict[str, int] = {_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018}
_O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

#: encoding name -> (sha256 of the decompressed rank file, pat_str, special tokens)
_SPECS: dict[str, tuple[str, str, dict[str, int]]] = {
    _CL100K_BASE: (_CL100K_SHA256, _CL100K_PAT_STR, _CL100K_SPECIAL_TOKENS),
    _O200K_BASE: (_O200K_SHA256, _O200K_PAT_STR, _O200K_SPECIAL_TOKENS),
}

# Model families, found anywhere in the (lower-cased) name so that Azure deployment names such as
# "prod-gpt-4o-eastus" or "gpt35turbo" resolve too. At one position the o200k families are tried first, so
# "gpt-4o" / "gpt-4.1" never fall through to "gpt-4". The o-series need a non-alphanumeric before them
# ("o1-mini" yes, "turbo1" no). A family must not be followed by a digit, which also tells Azure's dot-less
# "gpt-4-1-mini" / "gpt41" (GPT-4.1) apart from "gpt-4-1106-preview" (GPT-4 Turbo).
_FAMILY = re.compile(
    r"(?P<o200k>chatgpt-?4o|gpt-?4o|gpt-?4[.-]?[15]|gpt-?5|gpt-?oss|(?<![a-z0-9])o[134])(?![0-9])"
    r"|(?P<cl100k>gpt-?4|gpt-?3\.5|gpt-?35|text-embedding-3|text-embedding-ada-002|davinci-002|babbage-002)(?![0-9])"
)
#: Provider / router prefixes in front of the model id ("openai/gpt-4o", Bedrock's "openai.gpt-oss-20b-1:0").
_PROVIDER_PREFIXES = ("openai.", "azure.", "azure_ai.")

_loaded: dict[str, tiktoken.Encoding] = {}
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A fork while another thread was loading an encoding must not leave the child's lock held forever."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def encoding_name_for_model(model: str | None) -> str:
    """The tiktoken encoding for ``model``: ``cl100k_base`` for the GPT-4 / GPT-3.5 / embedding families,
    ``o200k_base`` for GPT-4o and newer (4.1, 4.5, 5, o-series, gpt-oss) and for unknown or missing models.

    Provider prefixes ("openai/gpt-4o"), fine-tune ids ("ft:gpt-3.5-turbo:org::id") and Azure deployment names
    containing a model family ("my-gpt-35-turbo") are understood. gpt-oss uses ``o200k_harmony`` in tiktoken,
    which tokenizes ordinary text exactly like ``o200k_base``.
    """
    return _encoding_name_for_model(model)


@functools.lru_cache(maxsize=1024)
def _encoding_name_for_model(model: str | None) -> str:
    name = (model or "").strip().lower()
    if name.startswith("ft:"):  # "ft:gpt-4o-mini-2024-07-18:org:suffix:id" -> "gpt-4o-mini-2024-07-18"
        name = name[3:].split(":", 1)[0]
    name = name.rsplit("/", 1)[-1]  # "openai/gpt-4o", "azure/my-deployment", "openrouter/openai/gpt-4o"
    for prefix in _PROVIDER_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    match = _FAMILY.search(name)
    if match is not None and match.group("cl100k") is not None:
        return _CL100K_BASE
    return _O200K_BASE


def get_encoding(name: str) -> tiktoken.Encoding:
    """The shipped encoding ``name`` ("cl100k_base" or "o200k_base"), built on first use, then shared.

    Thread-safe and loaded at most once per process. Raises ``ValueError`` for an unknown name or for a
    shipped file whose content does not match its published sha256.
    """
    encoding = _loaded.get(name)
    if encoding is not None:
        return encoding
    with _lock:
        encoding = _loaded.get(name)
        if encoding is None:
            if name not in _SPECS:
                raise ValueError(f"unknown encoding {name!r}; llmwatch ships: {', '.join(_SPECS)}")
            filename = f"{name}.tiktoken.gz"
            data = resources.files("llmwatch").joinpath("_data").joinpath(filename).read_bytes()
            encoding = _load_encoding(name, data, source=f"llmwatch/_data/{filename}")
            _loaded[name] = encoding
    return encoding


def _load_encoding(name: str, compressed: bytes, *, source: str | None = None) -> tiktoken.Encoding:
    """Build encoding ``name`` from the gzip bytes of its rank file (``source`` names it in errors).

    Pure: no caching, no file access; ``get_encoding`` reads the shipped file and caches the result.
    """
    expected, pat_str, specials = _SPECS[name]
    where = source or f"{name}.tiktoken.gz"
    try:
        raw = gzip.decompress(compressed)
    except (OSError, EOFError) as exc:
        raise ValueError(f"{where} is not a valid gzip file: {exc}") from exc
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise ValueError(
            f"{where} is corrupt: sha256 of its content is {actual}, expected {expected} "
            f"(the hash tiktoken pins for {name}); reinstall llmwatch"
        )
    # Same format and parsing as tiktoken.load.load_tiktoken_bpe: one "base64(token) rank" per line.
    lines = (line.split() for line in raw.splitlines() if line)
    ranks = {base64.b64decode(token): int(rank) for token, rank in lines}
    return tiktoken.Encoding(name=name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=dict(specials))


def count_text(text: str, model: str | None = None) -> int:
    """Tokens in ``text`` for ``model``'s encoding; special-token look-alikes count as plain text."""
    if not text:
        return 0
    return len(get_encoding(encoding_name_for_model(model)).encode_ordinary(text))


def count_messages(messages: Sequence[tuple[str, str]], model: str | None = None) -> int:
    """Estimated prompt tokens for chat messages given as ``(role, text)`` pairs.

    OpenAI cookbook rule ("How to count tokens with tiktoken"): 3 tokens of framing per message
    (``<|start|>{role}<|message|>...<|end|>``), plus the tokens of its role and content, plus 3 that prime the
    reply. It matches the API's ``prompt_tokens`` for plain-text messages of current models, but it is an
    approximation: message names, tools / function schemas, images, audio and provider-side formatting add
    tokens this does not see, so such estimates run low; non-OpenAI models tokenize differently altogether.
    """
    total = 3  # every reply is primed with <|start|>assistant<|message|>
    if not messages:
        return total
    encoding = get_encoding(encoding_name_for_model(model))
    for role, text in messages:
        total += 3 + len(encoding.encode_ordinary(role))
        if text:
            total += len(encoding.encode_ordinary(text))
    return total
