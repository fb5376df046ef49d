"""The lines a run ends with: whose data it trained on, warned about when it is not the teacher's."""

from __future__ import annotations

from codistill.evaluate.results import EvalResult
from codistill.report.summary import data_share, summary_lines
from codistill.store import RunStore


def _row(kept: bool, *origins: tuple[str, bool]) -> dict:
    return {"kept": kept, "solutions": [{"kind": "correct", "origin": o, "kept": k} for o, k in origins]}


def test_teacher_share_and_solve_rate() -> None:
    rows = [_row(True, ("teacher", True)), _row(True, ("teacher", True)),
            _row(True, ("reference", True), ("teacher", False)), _row(False, ("teacher", False))]
    share = data_share(1, rows)
    assert (share.questions, share.teacher_solved, share.teacher_rows, share.other_rows) == (4, 2, 2, 1)
    lines = share.lines()
    assert lines[0] == ("cycle 1 data: the teacher solved 2/4 questions (50%); 2 of 3 training "
                        "solutions are the teacher's (67%)")
    assert lines[1].startswith("WARNING: cycle 1 trained mostly on data that is not the teacher's "
                               "(reference 1)") and "teach.reference_fallback: false" in lines[1]


def test_no_warning_when_the_data_is_the_teachers() -> None:
    share = data_share(2, [_row(True, ("teacher", True))] * 9 + [_row(True, ("reference", True))])
    assert share.teacher_share == 0.9 and len(share.lines()) == 1


def test_a_run_evaluated_without_namespaces_says_so(tmp_path) -> None:
    RunStore(tmp_path, config={})  # writes the manifest that makes the folder a run
    result = EvalResult(benchmark="humaneval", model="m", n=1, pass_at_k={"pass@1": 0.5}, per_task=[],
                        status_counts={}, unisolated=3)
    (tmp_path / "cycle-0" / "eval" / "humaneval").mkdir(parents=True)
    result.save(tmp_path / "cycle-0" / "eval" / "humaneval")
    assert any(line.startswith("WARNING: 3 evaluation samples ran without namespace isolation")
               for line in summary_lines(tmp_path))
    result.unisolated = 0
    result.save(tmp_path / "cycle-0" / "eval" / "humaneval")
    assert not any("isolation" in line for line in summary_lines(tmp_path))
