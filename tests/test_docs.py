"""The docs stay true to the code: every option, variable, public name and link is documented and resolves."""

from __future__ import annotations

import re
from pathlib import Path

import llmwatch
from llmwatch import testing
from llmwatch.config import OPTIONS
from llmwatch.telemetry import names

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def test_every_option_and_env_variable_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    for option, spec in OPTIONS.items():
        assert f"`{option}`" in text, option
        for env in spec.env:
            assert f"`{env}`" in text, env
    assert "`LLMWATCH_STRICT`" in text


def test_every_public_name_is_in_the_api_page() -> None:
    text = (DOCS / "api.md").read_text()
    for name in [*llmwatch.__all__, *testing.__all__]:
        if not name.startswith("__") and name not in {"RecordedRequest", "CapturedSpans"}:
            assert name in text, name


def test_every_emitted_name_is_documented() -> None:
    text = (DOCS / "spans.md").read_text() + (DOCS / "api.md").read_text()
    metrics_page = (DOCS / "metrics.md").read_text()
    shorthand = re.findall(r"`(gen_ai\.request\.[a-z_]+)`, `\.([a-z_]+)`", text)
    for key, value in vars(names).items():
        if (
            not key.isupper()
            or not isinstance(value, str)
            or "." not in value
            or value.endswith(".")
            or key == "SCHEMA_URL"
        ):
            continue
        if key.startswith("M_") or key in {"GEN_AI_TOKEN_TYPE", "GEN_AI_TOKEN_MODALITY", "LLMWATCH_FLAG"}:
            assert f"`{value}`" in metrics_page, value
            continue
        last = value.rsplit(".", 1)[-1]
        assert f"`{value}`" in text or f"`.{last}`" in text or any(last == s for _, s in shorthand), value


def test_links_resolve() -> None:
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", page.read_text()):
            if not target.startswith("http"):
                assert (page.parent / target).exists(), f"{page.name} -> {target}"
