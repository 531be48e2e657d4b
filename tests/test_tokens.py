"""Offline token counting: identical token ids to tiktoken's own encodings, loaded once, never downloaded."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import tiktoken
import tiktoken.registry

from llmwatch import tokens

CORPUS = [
    "Hello, world! How's it going? We'll see; they're fine, I'd say.",
    "def add(a: int, b: int) -> int:\n    return a + b  # simple\n\n\tindented\r\n",
    "Emoji 🚀🔥👩‍💻 and accents: café, naïve, Ångström, Straße.",
    "中文分词测试，日本語のテキスト、한국어 문장입니다。",  # noqa: RUF001
    "Numbers 1234567890 3.14159 1e-10 0x1F 2026-11-23T10:00:00Z",
    "   leading and trailing whitespace   \n\n\n   ",
    "<|endoftext|> looks special but is plain text here <|endofprompt|>",
    "URLs https://example.com/a/b?c=d&e=f#g and emails someone@example.org",
    "ALL CAPS SHOUTING, CamelCaseIdentifiers, snake_case_names, kebab-case-words",
    "Русский текст и العربية و עברית",
    "",
]

URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


@pytest.fixture
def tiktokens_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, tiktoken.Encoding]]:
    """tiktoken's own encodings, built offline: its cache dir pre-filled with the files it would download."""
    for name, url in URLS.items():
        data = gzip.decompress(resources.files("llmwatch._data").joinpath(f"{name}.tiktoken.gz").read_bytes())
        (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    saved = dict(tiktoken.registry.ENCODINGS)
    tiktoken.registry.ENCODINGS.clear()
    try:
        yield {name: tiktoken.get_encoding(name) for name in URLS}
    finally:
        tiktoken.registry.ENCODINGS.clear()
        tiktoken.registry.ENCODINGS.update(saved)


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_identical_token_ids_to_tiktoken(name: str, tiktokens_own: dict[str, tiktoken.Encoding]) -> None:
    theirs = tiktokens_own[name]
    ours = tokens.get_encoding(name)

    assert ours._pat_str == theirs._pat_str
    assert ours._special_tokens == theirs._special_tokens
    assert ours.n_vocab == theirs.n_vocab
    for text in CORPUS:
        assert ours.encode_ordinary(text) == theirs.encode_ordinary(text), text


def test_loaded_once_and_shared_across_threads() -> None:
    seen: list[tiktoken.Encoding] = []

    def load() -> None:
        seen.append(tokens.get_encoding("cl100k_base"))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(seen) == 8
    assert all(e is seen[0] for e in seen)
    assert tokens.get_encoding("cl100k_base") is seen[0]


def test_never_touches_the_users_tiktoken_cache(tmp_path: Path) -> None:
    cache = tmp_path / "user-cache"
    cache.mkdir()
    os.chmod(cache, 0o500)
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache), "LLMWATCH_STRICT": "1"}
    code = "from llmwatch import tokens; print(tokens.count_text('hello world', 'gpt-4o'))"

    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "2"
    assert list(cache.iterdir()) == []


def test_corrupt_file_is_a_clear_error() -> None:
    good = resources.files("llmwatch._data").joinpath("o200k_base.tiktoken.gz").read_bytes()
    tampered = gzip.compress(gzip.decompress(good).replace(b" 0\n", b" 1\n", 1))

    with pytest.raises(ValueError, match=r"o200k_base\.tiktoken\.gz is corrupt: sha256"):
        tokens._load_encoding("o200k_base", tampered)
    with pytest.raises(ValueError, match="not a valid gzip file"):
        tokens._load_encoding("o200k_base", b"not gzip at all")


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("chatgpt-4o-latest", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("openai/gpt-4o", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("text-embedding-ada-002", "cl100k_base"),
        ("llama-3.3-70b", "o200k_base"),
        (None, "o200k_base"),
    ],
)
def test_encoding_for_model(model: str | None, encoding: str) -> None:
    assert tokens.encoding_name_for_model(model) == encoding


def test_counts() -> None:
    assert tokens.count_text("", "gpt-4o") == 0
    assert tokens.count_text("hello world", "gpt-4o") == 2
    assert tokens.count_text("hello world", "gpt-4") == 2
    # 3 (reply priming) + per message: 3 framing + role + content
    hi = tokens.count_text("hi", "gpt-4o")
    user = tokens.count_text("user", "gpt-4o")
    assert tokens.count_messages([("user", "hi")], "gpt-4o") == 3 + 3 + user + hi
