"""A language is one module: it has everything base.REQUIRED names, and nothing else names it.

Adding a language means writing sandbox/languages/<language>.py (and, for translated HumanEval,
evaluate/multilang/<language>.py); every other file reads the module through the registry.
The second test keeps it that way: a file that spells out a language's name (a quoted "go",
"cpp", "nodejs", ...) is where a per-language table or branch has crept back in.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

import codistill
from codistill.sandbox import languages
from codistill.sandbox.languages.base import REQUIRED
from codistill.sandbox.languages.fusion import Fusion
from codistill.sandbox.languages.text import Braces, Multiple

SOURCE = Path(codistill.__file__).parent
# Files besides the languages' own modules that may still name languages (the two registries
# among them); the check fails above this.
MOST = 5


@pytest.mark.parametrize("name", list(languages.REGISTRY))
def test_every_language_module_has_what_base_requires(name: str) -> None:
    module = languages.REGISTRY[name]
    assert languages.lacking(module) == []
    assert module.NAME == name and module.FENCE in module.FENCE_LABELS
    assert all(isinstance(stop, str) and stop for stop in module.STOPS)
    assert isinstance(module.CODE_START, re.Pattern) and isinstance(module.CLOSER, str)
    assert all(isinstance(text, str) and text for text in (
        module.DISPLAY_NAME, module.TEST_CONVENTION, module.DRAFT_PROMPT_RULE,
        module.DRAFT_TESTS_RULE))
    assert module.BRACES is None or isinstance(module.BRACES, Braces)
    assert module.FUSION is None or isinstance(module.FUSION, Fusion)
    assert module.MULTIPLE is None or isinstance(module.MULTIPLE, Multiple)
    assert all(callable(getattr(module, f)) for f in ("defines", "assemble_answer",
                                                      "finish_completion"))
    assert all(languages.canonical(alias) == name for alias in module.ALIASES)


def test_a_module_lacking_a_required_name_is_caught() -> None:
    module = ModuleType("codistill.sandbox.languages.cobol")
    for name in REQUIRED:
        setattr(module, name, None)
    del module.STOPS
    assert languages.lacking(module) == ["STOPS"]


def language_names() -> set[str]:
    """Every name code would spell out to single out a language other than Python (its fence
    labels are left out: "cc" and "h" are also a compiler and a file suffix)."""
    names: set[str] = set()
    for name, module in languages.REGISTRY.items():
        if name == "python":
            continue
        names |= {name, module.FENCE, *module.ALIASES}
        names |= set(module.FUSION.names if module.FUSION else ())
        names |= set(module.MULTIPLE.names if module.MULTIPLE else ())
    return names


def naming_files(root: Path) -> dict[str, list[str]]:
    """Files under `root` (codistill's source) that quote a language's name, outside the
    languages' own modules -> the lines where they do."""
    names = "|".join(re.escape(n) for n in sorted(language_names(), key=len, reverse=True))
    quoted = re.compile(rf"""(?<!\w)(["'])(?:{names})\1""")
    own = {f"sandbox/languages/{name}.py" for name in languages.REGISTRY}
    own |= {f"evaluate/multilang/{name}.py" for name in languages.REGISTRY}
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative in own:
            continue
        lines = [f"{number}: {line.strip()}" for number, line in
                 enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if quoted.search(line)]
        if lines:
            found[relative] = lines
    return found


def test_the_check_sees_a_quoted_language_name(tmp_path: Path) -> None:
    (tmp_path / "stage.py").write_text('if language == "go":\n    pass\n')
    (tmp_path / "prose.py").write_text("# Go and C++ in prose are fine; so is extern \"C\"\n")
    (tmp_path / "sandbox" / "languages").mkdir(parents=True)
    (tmp_path / "sandbox" / "languages" / "go.py").write_text('NAME = "go"\n')
    assert list(naming_files(tmp_path)) == ["stage.py"]


def test_a_language_is_named_only_in_its_own_module() -> None:
    found = naming_files(SOURCE)
    report = "\n".join(f"{path}\n    " + "\n    ".join(lines[:5]) for path, lines in found.items())
    assert len(found) <= MOST, (
        f"{len(found)} files name a language outside sandbox/languages/<language>.py (at most "
        f"{MOST}); read the fact from the language's module instead "
        f"(languages.get(name).FENCE_LABELS, ...):\n{report}")
