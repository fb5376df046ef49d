"""Training rows from verified solutions: SODA's split, the fallback to SFT, AKD's rejected side."""

from __future__ import annotations

from codistill.records import Problem, Solution, Taught
from codistill.stages.pool import build_rows


def _taught(pid: str, split: str, faulty: int, rejected: str | None = None, kept: bool = True) -> Taught:
    meta = {"rejected": rejected} if rejected else {}
    problem = Problem(id=pid, question=f"task {pid}", entry_point="f", meta=meta)
    sols = [Solution(problem_id=pid, kind="correct", code="def f():\n    return 1\n", kept=kept)]
    sols += [Solution(problem_id=pid, kind="faulty", code=f"def f():\n    return {i + 2}\n",
                      kept=True, fault_type="logic") for i in range(faulty)]
    sols.append(Solution(problem_id=pid, kind="faulty", code="dropped", kept=False))
    return Taught(problem=problem, split=split, kept=kept, solutions=sols)


def test_rows_follow_the_split() -> None:
    taught = [_taught("a", "sft", 1), _taught("b", "dpo", 2), _taught("c", "dpo", 0),
              _taught("d", "sft", 0, kept=False)]
    sft, dpo = build_rows(taught)
    assert [r["id"].split("#")[0] for r in sft] == ["a", "c"]  # c: DPO share without a fault
    assert len(dpo) == 2 and all(r["chosen"][0]["content"].count("return 1") for r in dpo)
    assert {r["rejected"][0]["content"] for r in dpo} == {
        "```python\ndef f():\n    return 2\n```", "```python\ndef f():\n    return 3\n```"}
    assert all("dropped" not in r["rejected"][0]["content"] for r in dpo)


def test_no_fault_learning_moves_everything_to_sft() -> None:
    sft, dpo = build_rows([_taught("a", "sft", 1), _taught("b", "dpo", 2)], no_fault_learning=True)
    assert len(sft) == 2 and dpo == []


def test_akd_pairs_teacher_against_student() -> None:
    sft, dpo = build_rows([_taught("a", "sft", 0, rejected="def f():\n    return 0\n")])
    assert len(sft) == 1 and len(dpo) == 1
    assert "return 0" in dpo[0]["rejected"][0]["content"]


def test_rows_can_leave_out_the_docstring_that_repeats_the_question() -> None:
    t = _taught("a", "dpo", 1)
    t.problem.question = 'def f():\n    """Return one."""\n'
    t.solutions = [s.model_copy(update={"code": s.code.replace("():\n", '():\n    """Return one."""\n', 1)})
                   for s in t.solutions]
    kept = build_rows([t])[1][0]
    dropped = build_rows([t], docstrings=False)[1][0]
    assert '"""Return one."""' in kept["chosen"][0]["content"] + kept["rejected"][0]["content"]
    assert dropped["chosen"][0]["content"] == "```python\ndef f():\n    return 1\n```"
    assert dropped["rejected"][0]["content"] == "```python\ndef f():\n    return 2\n```"
