"""How problems become model requests, and answers become training targets.

One place, so that teaching, training, examining and evaluating the student all speak the same
format: what the student is trained on is exactly what it is later asked.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from codistill.models.base import Request
from codistill.records import Problem
from codistill.sandbox import languages

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                          autoescape=False)


@cache
def template(name: str) -> jinja2.Template:
    """The prompt template `name` (a file in codistill/prompts, without extension)."""
    text = resources.files("codistill.prompts").joinpath(f"{name}.txt").read_text()
    return _ENV.from_string(text)


def render(name: str, **values: Any) -> str:
    """Render a prompt template; a missing value is an error, not an empty string."""
    return template(name).render(**values).strip() + "\n"


def language_vars(language: str) -> dict[str, str]:
    """Template values describing a language."""
    module = languages.REGISTRY.get(language)
    if module is None:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(languages.REGISTRY)}")
    return {"language": language, "language_name": module.DISPLAY_NAME, "fence": module.FENCE}


def solve_prompt(problem: Problem) -> str:
    """The user message asking for a solution: the code prompt when there is one, else the question."""
    values = language_vars(problem.language)
    if problem.prompt.strip():
        return render("solve_function", prompt=problem.prompt, **values)
    return render("solve_question", question=problem.question, entry_point=problem.entry_point,
                  **values)


def normalize_text(text: str) -> str:
    """Lower case, words only: how two texts are compared for containment or duplicates."""
    return " ".join(re.findall(r"\w+", text.lower()))


def teacher_prompt(problem: Problem) -> str:
    """What the teacher is asked: the student's request, plus the question text when the code
    prompt does not already say it (seed questions state requirements only in `question`)."""
    if problem.prompt.strip() and problem.question.strip() and (
            normalize_text(problem.question) not in normalize_text(problem.prompt)):
        return render("solve_function_question", prompt=problem.prompt, question=problem.question,
                      **language_vars(problem.language))
    return solve_prompt(problem)


def solve_request(problem: Problem, system: str | None = None) -> Request:
    """A chat request asking for a solution to `problem`."""
    return Request.user(solve_prompt(problem), system=system)


def answer_text(code: str, language: str) -> str:
    """The assistant message a model is trained to give: the code in one fenced block."""
    return f"```{languages.REGISTRY[language].FENCE}\n{code.strip()}\n```"


def tests_convention(language: str) -> str:
    """How tests are written in `language` (docs/sandbox.md), phrased for a model writing them."""
    return languages.REGISTRY[language].TEST_CONVENTION

