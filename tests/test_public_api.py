"""The public surface: what llmwatch exports, and the names it emits."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import llmwatch
from llmwatch.telemetry import names

SEMCONV = (Path(__file__).parent / "data" / "SEMCONV.md").read_text(encoding="utf-8")


def _documented_names(table: str) -> set[str]:
    """Backticked names in the reference; ``.max_tokens`` after ``gen_ai.request.{...}`` in a row is relative."""
    found: set[str] = set()
    for row in table.splitlines():
        prefix = last_full = ""
        for name in re.findall(r"`((?:…|\.)?[a-z_.][a-z_.{},]*)`", row):
            if name.startswith("…") and prefix:  # `….operation.output_tokens` after `gen_ai.x.operation.input_tokens`
                rest = name.lstrip("…").lstrip(".")
                anchor = last_full.find("." + rest.split(".")[0] + ".")
                if anchor >= 0:
                    found.add(last_full[: anchor + 1] + rest)
            elif name.startswith(".") and prefix:
                found.add(prefix + name)
            elif re.match(r"(gen_ai|openai|server|error)\.", name):
                found.add(name)
                last_full = name
                prefix = name.split(".{")[0] if ".{" in name else name.rsplit(".", 1)[0]
    return found


DOCUMENTED = _documented_names(SEMCONV)


def _expand(name: str) -> set[str]:
    """`gen_ai.usage.{text,image,audio}.input_tokens` -> the three names."""
    match = re.search(r"\{([^}]+)\}", name)
    if not match:
        return {name}
    return {name.replace(match.group(0), option) for option in match.group(1).split(",")}


def emitted_attribute_names() -> dict[str, str]:
    return {
        key: value
        for key, value in vars(names).items()
        if key.isupper() and isinstance(value, str) and re.fullmatch(r"(gen_ai|openai|server|error)\.[a-z_.]+", value)
    }


def test_all_is_sorted_and_complete() -> None:
    assert llmwatch.__all__ == sorted(llmwatch.__all__)
    for name in llmwatch.__all__:
        assert hasattr(llmwatch, name)
    assert {"instrument", "uninstrument"} <= set(llmwatch.__all__)


def test_every_convention_name_we_emit_is_in_the_reference_table() -> None:
    documented = set().union(*(_expand(n) for n in DOCUMENTED))
    unknown = {k: v for k, v in emitted_attribute_names().items() if v not in documented}
    assert unknown == {}


def test_no_deprecated_names_are_emitted() -> None:
    deprecated = {
        "gen_ai.system",
        "gen_ai.usage.prompt_tokens",
        "gen_ai.usage.completion_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.openai.request.seed",
        "gen_ai.prompt",
        "gen_ai.completion",
    }
    assert not deprecated & set(emitted_attribute_names().values())


def test_importing_llmwatch_imports_no_provider_sdk() -> None:
    import subprocess

    code = "import sys, llmwatch; print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
