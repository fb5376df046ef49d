"""The language registry: one module per language, all of the same shape (see base.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from codistill.sandbox.languages import c, cpp, go, java, javascript, python, rust, typescript
from codistill.sandbox.languages.base import REQUIRED

REGISTRY: dict[str, ModuleType] = {
    module.NAME: module for module in (python, javascript, typescript, java, c, cpp, go, rust)}


def lacking(module: ModuleType) -> list[str]:
    """The names of `base.REQUIRED` that a language module does not define."""
    return [name for name in REQUIRED if not hasattr(module, name)]


for _module in REGISTRY.values():
    if lacking(_module):
        raise ImportError(f"language module {_module.__name__} lacks {lacking(_module)} "
                          "(see sandbox/languages/base.py for what each one is)")

ALIASES = {alias: name for name, module in REGISTRY.items() for alias in module.ALIASES}


def canonical(name: str) -> str | None:
    """The registry name for `name` or one of its aliases (case-insensitive), else None."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in REGISTRY else None


def get(name: str) -> ModuleType:
    """The module for a language; KeyError naming the known languages when there is none."""
    key = canonical(name)
    if key is None:
        raise KeyError(f"unknown language {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[key]


def available() -> dict[str, str | None]:
    """Each language -> None when its toolchain is usable here, else what to install."""
    return {name: module.missing() for name, module in REGISTRY.items()}


def by_extension(path: str | Path) -> str | None:
    """The language a file extension suggests, else None."""
    suffix = Path(path).suffix.lower()
    return next((name for name, module in REGISTRY.items() if suffix in module.EXTENSIONS), None)
