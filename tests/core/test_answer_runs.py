"""Answers become candidates whose stored code is what ran, and real sandbox runs judge them."""

from __future__ import annotations

from codistill.answer_runs import (
    Candidate,
    as_written,
    check_answers,
    from_answer,
    from_code,
    run_candidates,
)
from codistill.extract import assemble_program
from codistill.records import Problem
from codistill.sandbox import Limits, Status

F = "```"
LIMITS = Limits(timeout_s=5)
INC = Problem(id="inc", question="Add one.", entry_point="inc",
              prompt='import math\n\n\ndef inc(x: int) -> int:\n    """Add one."""\n',
              tests="def check(candidate):\n    assert candidate(1) == 2\n"
                    "    assert candidate(-1) == 0\n")


def test_a_chat_answer_keeps_the_extracted_code_and_runs_it_with_the_prompt_header() -> None:
    text = f"Sure!\n{F}python\ndef inc(x):\n    return x + 1\n\nprint(inc(3))\n{F}\nDone."
    candidate = from_answer(INC, text, tag="a")
    assert candidate.code == "def inc(x):\n    return x + 1\n"  # the demo print is not kept
    assert candidate.source == "import math\n\n" + candidate.code
    assert candidate.source == assemble_program(INC, text, "chat")
    assert candidate.program.id == "inc#a" and candidate.program.tests == INC.tests


def test_a_body_only_answer_is_stored_and_run_as_the_whole_function() -> None:
    candidate = from_answer(INC, f"{F}python\n    return x + 1\n{F}")
    assert candidate.code == INC.prompt + "    return x + 1\n"
    assert candidate.source == candidate.code  # no second copy of the prompt's imports


def test_the_source_is_built_from_the_stored_code_alone() -> None:
    # Stored code read back later (or mutated) runs exactly as the answer it came from did.
    for text in (f"{F}python\ndef inc(x):\n    return x + 1\n{F}", "    return x + 1\n"):
        first = from_answer(INC, text)
        assert from_code(INC, first.code) == first


def test_a_completion_answer_is_cut_at_the_stops_and_keeps_what_follows_the_prompt() -> None:
    text = "    return x + 1\n\n\ndef main():\n    print(inc(1))\n"
    candidate = from_answer(INC, text, "completion")
    assert candidate.source == INC.prompt + "    return x + 1\n\n"
    assert candidate.code == "    return x + 1\n\n"
    whole = from_answer(INC, text, "completion", truncate=False)
    assert whole.source == INC.prompt + text and whole.code == text


def test_answers_run_in_the_sandbox_and_come_back_in_order() -> None:
    texts = [f"{F}python\ndef inc(x):\n    return x + 1\n{F}",
             f"{F}python\ndef inc(x):\n    return x - 1\n{F}",
             f"{F}python\ndef inc(x):\n    return (\n{F}",
             "    return x + 1\n"]
    checked = check_answers([INC] * 4, texts, LIMITS, workers=2)
    assert [c.verdict.status for c in checked] == [Status.PASSED, Status.FAILED,
                                                   Status.COMPILE_ERROR, Status.PASSED]
    assert [c.passed for c in checked] == [True, False, False, True]
    assert [c.candidate.code for c in checked] == [from_answer(INC, t).code for t in texts]
    assert checked[0].verdict.id == "inc"


def test_whole_programs_run_as_written_against_the_problems_tests() -> None:
    stub = as_written(INC, INC.prompt + "    pass\n", tag="stub")
    reference = as_written(INC, "def inc(x):\n    return x + 1\n", tag="ref")
    assert reference.code == reference.source
    stubbed, passed = run_candidates([stub, reference], LIMITS)
    assert stubbed.verdict.status is Status.FAILED and stubbed.verdict.id == "inc#stub"
    assert passed.passed and passed.verdict.id == "inc#ref"


def test_a_problem_asking_for_more_time_gets_it() -> None:
    slow = INC.model_copy(update={"id": "slow", "meta": {"timeout_s": 5}})
    source = "import time\n\ndef inc(x):\n    time.sleep(1.5)\n    return x + 1\n"
    quick, patient = run_candidates([as_written(INC, source), as_written(slow, source)],
                                    Limits(timeout_s=1))
    assert quick.verdict.status is Status.TIMEOUT
    assert patient.passed


def test_nothing_to_run_is_no_sandbox_batch() -> None:
    assert run_candidates([], LIMITS) == []
    assert Candidate(INC, "x", "x").program.id == "inc"
