"""Offline token counting: identical token ids to tiktoken's own encodings, loaded once, never downloaded."""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry

from llmwatch import tokens

NAMES = ["cl100k_base", "o200k_base"]

# The blob URLs tiktoken_ext/openai_public.py downloads from; tiktoken caches each under sha1(url).
URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}

CORPUS = [
    "",
    "hello world",
    "Hello, world! How's it going? We'll see; they're fine, I'd say. I'm sure you've heard.",
    "SHOUTING: DON'T, WON'T, I'M, THEY'RE, WE'VE, IT'S, YOU'LL, HE'D.",
    "def add(a: int, b: int) -> int:\n    return a + b  # simple\n\n\tindented\r\n",
    'for (let i = 0; i < n; i++) { console.log(`x=${x[i]}`); } // js\n<div class="a">&amp;</div>',
    "SELECT id, name FROM users WHERE email LIKE '%@example.com' ORDER BY 2 DESC;",
    "Emoji 🚀🔥👩‍💻👍🏽🇯🇵 and accents: café, naïve, Ångström, Straße, ﬁ ligature, e\u0301 combining.",
    "中文分词测试，日本語のテキスト、한국어 문장입니다。",  # noqa: RUF001
    "Русский текст и العربية و עברית और हिन्दी ภาษาไทย",
    "Numbers 1234567890 3.14159 -42 1e-10 0x1F 1,000,000 2026-11-23T10:00:00Z 99999999999999999999",
    "   leading and trailing whitespace   \n\n\n   ",
    "tabs\t\t\tand  double  spaces  \u00a0nbsp\u2003em-space\u3000ideographic",
    "\n\n\n\n",
    "\r\n\r\n  \r\n\t \n",
    "          ",
    "x" * 300 + " " + "ab" * 200,
    "<|endoftext|> looks special but is plain text here <|endofprompt|><|fim_prefix|><|fim_middle|>",
    "URLs https://example.com/a/b?c=d&e=f#g and emails someone@example.org, paths C:\\Users\\x\\y.txt",
    "ALL CAPS SHOUTING, CamelCaseIdentifiers, snake_case_names, kebab-case-words, HTTPServerError",
    "Mixed: 3rd 21st 100km 5x5 v2.0.1 α-β γ_δ",  # noqa: RUF001
]

_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " \t\n\r  '\"!?.,;:-_/\\()[]{}<>|@#$%^&*+=~`"
    "éßØΩπжЖ中文日本語한국어ابהअ\u0301\u200d\u00a0🚀👩🏽😀"
)


def _fuzz(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 60))) for _ in range(count)]


def _shipped(name: str) -> bytes:
    return resources.files("llmwatch").joinpath("_data").joinpath(f"{name}.tiktoken.gz").read_bytes()


@pytest.fixture(scope="module")
def tiktokens_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tiktoken.Encoding]]:
    """tiktoken's own encodings, built offline: its cache dir pre-filled with the files it would download."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in URLS.items():
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(gzip.decompress(_shipped(name)))

    def no_download(blobpath: str) -> bytes:
        raise AssertionError(f"tiktoken tried to download {blobpath}: the cache file name is wrong")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        mp.setattr(tiktoken.load, "read_file", no_download)
        saved = dict(tiktoken.registry.ENCODINGS)
        for name in NAMES:
            tiktoken.registry.ENCODINGS.pop(name, None)
        try:
            yield {name: tiktoken.get_encoding(name) for name in NAMES}
        finally:
            tiktoken.registry.ENCODINGS.clear()
            tiktoken.registry.ENCODINGS.update(saved)


# -- (a) identical to tiktoken -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_same_definition_as_tiktoken(name: str, tiktokens_own: dict[str, tiktoken.Encoding]) -> None:
    theirs = tiktokens_own[name]
    ours = tokens.get_encoding(name)

    assert ours.name == theirs.name == name
    assert ours._pat_str == theirs._pat_str
    assert ours._special_tokens == theirs._special_tokens
    assert ours._mergeable_ranks == theirs._mergeable_ranks
    assert ours.n_vocab == theirs.n_vocab
    assert ours.max_token_value == theirs.max_token_value


@pytest.mark.parametrize("name", NAMES)
def test_identical_token_ids_to_tiktoken(name: str, tiktokens_own: dict[str, tiktoken.Encoding]) -> None:
    theirs = tiktokens_own[name]
    ours = tokens.get_encoding(name)

    for text in CORPUS + _fuzz(seed=20261123, count=400):
        ids = ours.encode_ordinary(text)
        assert ids == theirs.encode_ordinary(text), repr(text)
        assert ours.decode(ids) == text  # lossless
    special = "a<|endoftext|>b<|endofprompt|>"
    assert ours.encode(special, allowed_special="all") == theirs.encode(special, allowed_special="all")


def test_counts_agree_with_tiktoken(tiktokens_own: dict[str, tiktoken.Encoding]) -> None:
    for model, name in [("gpt-4o-mini", "o200k_base"), ("gpt-3.5-turbo", "cl100k_base")]:
        for text in CORPUS:
            assert tokens.count_text(text, model) == len(tiktokens_own[name].encode_ordinary(text))


# -- (b) loaded lazily, once, thread-safe --------------------------------------------------------------------


def test_get_encoding_returns_the_same_object() -> None:
    assert tokens.get_encoding("o200k_base") is tokens.get_encoding("o200k_base")
    assert tokens.get_encoding("cl100k_base") is not tokens.get_encoding("o200k_base")


def test_loaded_once_even_from_eight_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_loaded", {})  # a fresh process-wide cache for this test, restored after
    real_load = tokens._load_encoding
    loads: list[str] = []

    def counting_load(name: str, compressed: bytes, *, source: str | None = None) -> tiktoken.Encoding:
        loads.append(name)
        time.sleep(0.05)  # widen the race window
        return real_load(name, compressed, source=source)

    monkeypatch.setattr(tokens, "_load_encoding", counting_load)
    barrier = threading.Barrier(8)
    seen: list[tiktoken.Encoding] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            barrier.wait()
            seen.append(tokens.get_encoding("cl100k_base"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert loads == ["cl100k_base"]
    assert len(seen) == 8
    assert all(e is seen[0] for e in seen)
    assert tokens.get_encoding("cl100k_base") is seen[0]
    assert loads == ["cl100k_base"]


def test_nothing_is_loaded_at_import_or_for_empty_input() -> None:
    code = (
        "from llmwatch import tokens\n"
        "assert tokens._loaded == {}\n"
        "assert tokens.count_text('') == 0 and tokens.count_messages([]) == 3\n"
        "assert tokens._loaded == {}\n"
        "tokens.count_text('hi', 'gpt-4')\n"
        "assert list(tokens._loaded) == ['cl100k_base']\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)


def test_unknown_encoding_is_a_clear_error() -> None:
    expected = r"unknown encoding 'p50k_base'; llmwatch ships: cl100k_base, o200k_base"
    with pytest.raises(ValueError, match=expected):
        tokens.get_encoding("p50k_base")


# -- (c) the user's TIKTOKEN_CACHE_DIR is never used ---------------------------------------------------------

# Runs in a fresh interpreter with tiktoken's own loader, registry and the network sabotaged: any use fails.
_ISOLATED = """
import socket, tiktoken, tiktoken.load, tiktoken.registry

def forbidden(*args, **kwargs):
    raise AssertionError(f"forbidden call: {args!r}")

tiktoken.get_encoding = tiktoken.registry.get_encoding = forbidden
tiktoken.load.read_file = tiktoken.load.read_file_cached = tiktoken.load.load_tiktoken_bpe = forbidden
socket.socket.connect = socket.create_connection = forbidden

from llmwatch import tokens
print(tokens.count_text("hello world", "gpt-4o"), tokens.count_text("hello world", "gpt-4"))
"""


def _snapshot(path: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in [path, *path.rglob("*")])


@pytest.mark.parametrize("kind", ["nonexistent", "read-only", "empty-string"])
def test_tiktoken_cache_dir_is_neither_read_nor_written(tmp_path: Path, kind: str) -> None:
    cache = tmp_path / "user-tiktoken-cache"
    if kind == "read-only":
        cache.mkdir()
        (cache / "unrelated").write_bytes(b"keep me")
        cache.chmod(0o500)
    value = "" if kind == "empty-string" else str(cache)
    before = _snapshot(tmp_path)
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": value, "DATA_GYM_CACHE_DIR": value}
    try:
        cmd = [sys.executable, "-c", _ISOLATED]
        out = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
        after = _snapshot(tmp_path)
    finally:
        if cache.exists():
            cache.chmod(0o700)

    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2"]
    assert after == before
    assert cache.exists() == (kind == "read-only")


# -- (d) corrupted data is refused ---------------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the package's data directory."""
    copy = tmp_path / "_data"
    copy.mkdir()
    for name in NAMES:
        (copy / f"{name}.tiktoken.gz").write_bytes(_shipped(name))
    return copy


def test_shipped_files_match_published_hashes() -> None:
    for name in NAMES:
        assert hashlib.sha256(gzip.decompress(_shipped(name))).hexdigest() == SHA256[name]
    assert tokens._SPECS["cl100k_base"][0] == SHA256["cl100k_base"]
    assert tokens._SPECS["o200k_base"][0] == SHA256["o200k_base"]


def test_intact_copy_loads(data_copy: Path) -> None:
    path = data_copy / "cl100k_base.tiktoken.gz"
    encoding = tokens._load_encoding("cl100k_base", path.read_bytes(), source=str(path))
    shipped = tokens.get_encoding("cl100k_base")
    assert encoding is not shipped
    assert encoding.encode_ordinary("hello world") == shipped.encode_ordinary("hello world") == [15339, 1917]


def test_tampered_rank_is_a_clear_error(data_copy: Path) -> None:
    path = data_copy / "o200k_base.tiktoken.gz"
    raw = gzip.decompress(path.read_bytes())
    assert raw.startswith(b"IQ== 0\n")
    path.write_bytes(gzip.compress(raw.replace(b"IQ== 0\n", b"IQ== 1\n", 1)))

    with pytest.raises(ValueError, match=r"_data/o200k_base\.tiktoken\.gz is corrupt: sha256") as info:
        tokens._load_encoding("o200k_base", path.read_bytes(), source=str(path))
    assert str(path) in str(info.value)
    assert SHA256["o200k_base"] in str(info.value)


def test_truncated_file_is_a_clear_error(data_copy: Path) -> None:
    path = data_copy / "cl100k_base.tiktoken.gz"
    path.write_bytes(path.read_bytes()[:1000])

    with pytest.raises(ValueError, match=r"cl100k_base\.tiktoken\.gz is not a valid gzip file"):
        tokens._load_encoding("cl100k_base", path.read_bytes(), source=str(path))


def test_swapped_files_are_a_clear_error(data_copy: Path) -> None:
    swapped = data_copy / "cl100k_base.tiktoken.gz"
    shutil.copyfile(data_copy / "o200k_base.tiktoken.gz", swapped)

    with pytest.raises(ValueError, match="is corrupt"):
        tokens._load_encoding("cl100k_base", swapped.read_bytes(), source=str(swapped))


def test_default_source_names_the_package_file() -> None:
    with pytest.raises(ValueError, match=r"^o200k_base\.tiktoken\.gz is not a valid gzip file"):
        tokens._load_encoding("o200k_base", b"not gzip at all")


# -- (e) model mapping and counts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("chatgpt-4o-latest", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-4.5-preview", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("gpt-5-mini", "o200k_base"),
        ("gpt-5.1-codex", "o200k_base"),
        ("o1", "o200k_base"),
        ("o1-mini", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o3-pro-2025-06-10", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("gpt-oss-120b", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-4-32k", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-4-turbo-2024-04-09", "cl100k_base"),
        ("gpt-4-1106-preview", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-3.5-turbo-instruct", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("text-embedding-3-large", "cl100k_base"),
        ("text-embedding-ada-002", "cl100k_base"),
        ("GPT-4o", "o200k_base"),
        ("GPT-4", "cl100k_base"),
        # provider prefixes and fine-tunes
        ("openai/gpt-4o", "o200k_base"),
        ("openai/gpt-4", "cl100k_base"),
        ("openrouter/openai/gpt-3.5-turbo", "cl100k_base"),
        ("azure/gpt-4o-mini", "o200k_base"),
        ("openai.gpt-oss-20b-1:0", "o200k_base"),
        ("ft:gpt-3.5-turbo-0125:acme::abc123", "cl100k_base"),
        ("ft:gpt-4o-mini-2024-07-18:acme:support:xyz", "o200k_base"),
        # Azure model and deployment names
        ("gpt-35-turbo", "cl100k_base"),
        ("gpt-35-turbo-16k", "cl100k_base"),
        ("azure/gpt-35-turbo", "cl100k_base"),
        ("prod-gpt4-eastus", "cl100k_base"),
        ("prod-gpt-4o-eastus", "o200k_base"),
        ("gpt4o", "o200k_base"),
        ("gpt-4-1-mini", "o200k_base"),
        ("gpt41", "o200k_base"),
        # unknown -> o200k_base
        ("llama-3.3-70b", "o200k_base"),
        ("claude-sonnet-4-5", "o200k_base"),
        ("my-deployment", "o200k_base"),
        ("turbo1", "o200k_base"),
        ("", "o200k_base"),
        (None, "o200k_base"),
    ],
)
def test_encoding_for_model(model: str | None, encoding: str) -> None:
    assert tokens.encoding_name_for_model(model) == encoding


def test_encoding_lookup_is_cached() -> None:
    tokens.encoding_name_for_model("gpt-4o-cache-probe")
    hits = tokens._encoding_name_for_model.cache_info().hits
    tokens.encoding_name_for_model("gpt-4o-cache-probe")
    assert tokens._encoding_name_for_model.cache_info().hits == hits + 1


def test_count_text() -> None:
    assert tokens.count_text("", "gpt-4o") == 0
    assert tokens.count_text("hello world", "gpt-4o") == 2
    assert tokens.count_text("hello world", "gpt-4") == 2
    assert tokens.count_text("hello world") == 2
    assert tokens.count_text("<|endoftext|>", "gpt-4o") > 1  # plain text, not the special token
    assert tokens.count_text("<|endoftext|>", "gpt-4") > 1
    # the encodings differ: non-English text is much cheaper under o200k_base
    text = "中文分词测试，日本語のテキスト、한국어 문장입니다。"  # noqa: RUF001
    assert tokens.count_text(text, "gpt-4o") < tokens.count_text(text, "gpt-4")


def test_count_messages_follows_the_cookbook_rule() -> None:
    messages = [("system", "You are a helpful assistant."), ("user", "Hello!")]
    count = tokens.count_text
    expected = 3 + sum(3 + count(role, "gpt-4o") + count(text, "gpt-4o") for role, text in messages)

    assert tokens.count_messages(messages, "gpt-4o") == expected == 19
    assert tokens.count_messages(messages, "gpt-4") == 19
    assert tokens.count_messages([], "gpt-4o") == 3
    assert tokens.count_messages([("user", "")], "gpt-4o") == 3 + 3 + 1
    special_looking = tokens.count_text("<|endoftext|>", "gpt-4o")
    assert tokens.count_messages([("user", "<|endoftext|>")], "gpt-4o") == 3 + 3 + 1 + special_looking
