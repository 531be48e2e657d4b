"""Provider registry: which SDKs llmwatch can patch, imported lazily (importing llmwatch imports no SDK)."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
from dataclasses import dataclass
from typing import Any

import wrapt
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from llmwatch.providers._wrap import Endpoint, make_wrapper

logger = logging.getLogger("llmwatch")


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """A supported SDK: its import name, distribution, supported versions and our adapter module."""

    name: str
    package: str
    distribution: str
    supported: str
    adapter: str


#: Every provider llmwatch knows, in patch order.
REGISTRY: dict[str, ProviderSpec] = {
    "openai": ProviderSpec("openai", "openai", "openai", ">=1.90,<4", "llmwatch.providers.openai"),
}


@dataclass(slots=True)
class Patch:
    """One patched attribute and the identical original object to put back."""

    owner: Any
    name: str
    original: Any

    def undo(self) -> None:
        setattr(self.owner, self.name, self.original)


def available(requested: tuple[str, ...] | None) -> list[ProviderSpec]:
    """The requested providers (default: all known) whose SDK is installed in a supported version."""
    specs: list[ProviderSpec] = []
    for name in requested if requested is not None else tuple(REGISTRY):
        spec = REGISTRY.get(name)
        if spec is None:
            logger.warning("llmwatch: unknown provider %r; known: %s", name, ", ".join(REGISTRY))
            continue
        if importlib.util.find_spec(spec.package) is None:
            continue  # not installed: skipped silently
        if not _version_supported(spec):
            continue
        specs.append(spec)
    return specs


def _version_supported(spec: ProviderSpec) -> bool:
    try:
        installed = importlib.metadata.version(spec.distribution)
        if Version(installed) in SpecifierSet(spec.supported):
            return True
    except (importlib.metadata.PackageNotFoundError, InvalidVersion):
        installed = "unknown"
    logger.warning(
        "llmwatch: %s %s is not supported (supported: %s %s); it is not instrumented",
        spec.distribution,
        installed,
        spec.distribution,
        spec.supported,
    )
    return False


def patch(spec: ProviderSpec) -> list[Patch]:
    """Wrap every endpoint of one provider; an endpoint missing from this SDK version is skipped."""
    adapter = importlib.import_module(spec.adapter)
    endpoints: list[Endpoint] = adapter.ENDPOINTS
    patches: list[Patch] = []
    for endpoint in endpoints:
        try:
            module = importlib.import_module(endpoint.module)
            class_name, method = endpoint.attribute.rsplit(".", 1)
            owner = getattr(module, class_name)
            original = owner.__dict__[method]
        except (ImportError, AttributeError, KeyError):
            logger.debug("llmwatch: %s.%s not found in this SDK version", endpoint.module, endpoint.attribute)
            continue
        wrapt.wrap_function_wrapper(owner, method, make_wrapper(endpoint))
        patches.append(Patch(owner, method, original))
    return patches
