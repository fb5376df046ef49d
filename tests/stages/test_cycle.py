"""`codistill run` end to end on a scripted teacher and a tiny real student: every stage runs,
writes its files and stats, the report is built, a rerun does no work, a changed config is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.stages.helpers_run import SYNTH_RULES, teacher_script, write_problems
from tests.tiny import tiny_model_and_tokenizer

from codistill.config import load_config
from codistill.evaluate.decontam import DecontaminationError
from codistill.report.summary import summary_lines
from codistill.stages.cycle import run_cycles
from codistill.store import StaleStageError


@pytest.fixture
def run_config(tmp_path: Path):  # noqa: ANN201 - a factory
    tiny_model_and_tokenizer(tmp_path, context=4096)  # room for judge prompts (the scorer)
    seeds = write_problems(tmp_path / "seeds.jsonl", ["double", "square", "negate", "halve"])
    bench = write_problems(tmp_path / "bench.jsonl", ["triple", "double"])
    teacher = teacher_script(tmp_path / "teacher.json")

    def make(*extra: str):  # noqa: ANN202
        return load_config(None, [
            "name=t", f"output_dir={tmp_path / 'runs'}", f"cache={tmp_path / 'cache.sqlite'}",
            "cycles=2", f"models.teacher=fake:{teacher}", f"models.student={tmp_path / 'tiny-model'}",
            "models.dtype=float32", "models.device=cpu", "models.batch_size=4",
            f"data.seeds=[{seeds}]", "teach.sft_share=0.5", "teach.mutation_share=1.0",
            "train.sft.epochs=1", "train.sft.batch_size=2", "train.sft.max_length=256",
            "train.dpo.epochs=1", "train.dpo.batch_size=2", "train.dpo.max_length=256",
            "examine.generation.max_new_tokens=16", "curriculum.new_questions=2",
            "examine.scorer=trained", f"examine.scorer_base={tmp_path / 'tiny-model'}",
            "examine.scorer_min_annotations=2", "examine.scorer_holdout=0.3",
            "examine.scorer_min_validation=1", "examine.scorer_min_within_one=0.5",
            f"eval.benchmarks=[jsonl:{bench}]", "eval.max_new_tokens=16", "sandbox.timeout_s=5",
            "data.decontaminate_against=[humaneval]", *extra])

    return make


def test_two_cycles_end_to_end_then_resume(run_config, tmp_path: Path) -> None:
    config = run_config()
    stages = run_cycles(config)
    expected = ["cycle-0/eval", "cycle-1/teach", "cycle-1/train", "cycle-1/examine",
                "cycle-1/scorer", "cycle-1/curriculum", "cycle-1/eval"] + [
                    f"cycle-2/{s}" for s in ("teach", "train", "examine", "curriculum", "eval")]
    assert list(stages) == expected
    assert all(stages[k]["status"] == "done" for k in expected)
    teach = stages["cycle-1/teach"]["stats"]
    assert teach["counts"]["questions_kept"] == 4 and teach["fault_types"]
    train = stages["cycle-1/train"]["stats"]
    assert train["sft_rows"] == 2 and train["dpo_rows"] >= 2 and Path(stages["cycle-1/train"]["model"]).is_dir()
    assert "model_dir" not in train  # the model is the stage's, not a figure of it
    cur = stages["cycle-1/curriculum"]["stats"]
    assert sum(cur["bucket_sizes"].values()) == 4 and cur["counts"]["kept"] == 1  # 2nd is a duplicate
    # SODA's scoring model: trained on part of cycle 1's judgments and checked on the rest. The
    # fake judge always answers valid JSON; the tiny scorer cannot, so it fails its check and
    # the judge keeps grading cycle 2 (never a scorer whose grades cannot be read).
    scorer = stages["cycle-1/scorer"]["stats"]
    assert scorer["annotations"] == 4 and 0 < scorer["trained_on"] < 4
    assert scorer["validation"]["annotations"] == 4 - scorer["trained_on"]
    assert scorer["validation"]["parsed"] == 0 and scorer["used"] is False
    held = (tmp_path / "runs/t/cycle-1/scorer/annotations-heldout.jsonl").read_text().splitlines()
    assert len(held) == scorer["validation"]["annotations"]  # the annotations, kept as a dataset
    assert "no: the judge keeps grading" in (tmp_path / "runs/t/report.html").read_text()
    assert stages["cycle-1/examine"]["stats"]["judge_unparsed"] == 0
    assert stages["cycle-2/examine"]["stats"]["judge_unparsed"] == 0
    # cycle 2 works on the seeds plus the evolved question (SODA's pool grows); the seeds'
    # greedy teacher answers come from the cache. The student is the cycle-1 checkpoint.
    assert stages["cycle-2/teach"]["stats"]["counts"]["questions"] == 5
    assert stages["cycle-2/teach"]["stats"]["cache"]["hits"] >= 4
    assert stages["cycle-2/eval"]["stats"]["model"] == stages["cycle-2/train"]["model"]
    assert "cycle-2" in stages["cycle-2/train"]["model"]
    run = tmp_path / "runs" / "t"
    assert (run / "report.html").is_file() and (run / "cycle-1" / "teach.jsonl").is_file()
    assert (run / "cycle-1" / "train" / "data").is_dir()
    # The run ends with its result: before/after per cycle and overall, and whose data it was.
    lines = summary_lines(run)
    assert [line.split(": ")[0] for line in lines if "pass@1" in line] == [
        f"jsonl:{tmp_path / 'bench.jsonl'} pass@1 cycle {a} -> {b}" for a, b in ((0, 1), (1, 2), (0, 2))]
    assert all("Wilcoxon p" in line and "won" in line for line in lines if "pass@1" in line)
    assert any(line.startswith("cycle 1 data: the teacher solved 4/4") for line in lines)
    assert not any(line.startswith("WARNING") for line in lines)
    assert "the teacher solved 4/4" in (run / "report.html").read_text()
    views = stages["cycle-1/examine"]["stats"]["views"]  # execution and a judge blind to it
    assert views["judge_saw_verdict"] is False and views["compared"] == 4
    assert views["agreement"] == views["agree"] / 4
    assert "Execution and the judge: two views" in (run / "report.html").read_text()
    # Rerun: everything is done, so nothing is generated or trained again.
    before = (run / "manifest.json").read_text()
    run_cycles(config)
    after = json.loads((run / "manifest.json").read_text())
    assert {k: v["finished"] for k, v in after["stages"].items()} == {
        k: v["finished"] for k, v in json.loads(before)["stages"].items()}
    assert stages["cycle-1/teach"]["stats"]["cache"]["misses"] > 0
    # A new run with the same settings and a warm cache asks the teacher nothing new.
    again = run_cycles(run_config("name=t2", "cycles=1", "eval.before=false"))
    assert again["cycle-1/teach"]["stats"]["cache"] == {
        "hits": stages["cycle-1/teach"]["stats"]["cache"]["misses"], "misses": 0}
    # ... and trains nothing: the same rows and settings link the model trained before, whose
    # answers then come from the cache too.
    reused = again["cycle-1/train"]["stats"]
    assert reused["reused_training"] and reused["sft"] == train["sft"]
    first, second = Path(stages["cycle-1/train"]["model"]), Path(again["cycle-1/train"]["model"])
    weights = sorted(p.name for p in first.glob("*.safetensors"))
    assert weights and all((first / w).read_bytes() == (second / w).read_bytes() for w in weights)
    assert again["cycle-1/examine"]["stats"]["cache"]["misses"] == 0
    # A changed setting that earlier stages depend on is refused without --force.
    with pytest.raises(StaleStageError, match="teach.mutation_share"):
        run_cycles(run_config("teach.mutation_share=0.0"))
    # So is an edited question file under the same settings: its stages are not resumed on.
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(seeds.read_text().splitlines(keepends=True)[:3]))
    with pytest.raises(StaleStageError, match=r"questions: '4 questions #\w+' -> '3 questions #\w+'"):
        run_cycles(run_config())


def test_teacher_written_questions_join_the_pool(run_config, tmp_path: Path) -> None:
    script = json.loads((tmp_path / "teacher.json").read_text())
    script["rules"][:0] = SYNTH_RULES
    (tmp_path / "teacher.json").write_text(json.dumps(script))
    seeds = tmp_path / "seeds.jsonl"
    stages = run_cycles(run_config("name=s", "cycles=1", f"data.seeds=[{seeds}, synth]",
                                   "data.synth_questions=3", "examine.scorer=judge",
                                   "data.decontaminate_against=[humaneval, mbpp]"))
    counts = stages["cycle-0/questions"]["stats"]["counts"]
    assert counts == {"verified": 1, "duplicate": 2}  # the scripted writer repeats itself
    teach = stages["cycle-1/teach"]["stats"]["counts"]
    assert teach["questions"] == 5 and teach["questions_kept"] == 5
    taught = [json.loads(line) for line in (tmp_path / "runs" / "s" / "cycle-1" / "teach.jsonl")
              .read_text().splitlines()]
    quad = next(t for t in taught if t["problem"]["id"] == "synth-0-0")
    assert quad["kept"] and quad["problem"]["source"] == "synth"
    assert any(s["reason"] == "copy of the correct solution" for s in quad["solutions"])
    with pytest.raises(ValueError, match="data.synth_questions"):
        run_config("data.seeds=[synth]")
    # MBPP has no offline copy here: the run says so, records it, and its summary warns.
    coverage = json.loads((tmp_path / "runs" / "s" / "decontamination.json").read_text())
    assert coverage["checked"] == {"humaneval": 164} and list(coverage["skipped"]) == ["mbpp"]
    assert any(line.startswith("WARNING: training data not checked against mbpp")
               for line in summary_lines(tmp_path / "runs" / "s"))


def test_a_required_benchmark_that_cannot_be_loaded_stops_the_run_first(run_config, tmp_path: Path) -> None:
    with pytest.raises(DecontaminationError, match=r"NOT checked: mbpp .*require_decontamination"):
        run_cycles(run_config("name=r", "data.require_decontamination=true",
                              "data.decontaminate_against=[humaneval, mbpp]"))
    assert not list((tmp_path / "runs" / "r").glob("cycle-*"))  # nothing ran
    assert "mbpp" in json.loads((tmp_path / "runs" / "r" / "decontamination.json").read_text())["skipped"]


GROUNDING = '''
def sum_digits(number):
    total = 0
    for digit in str(abs(number)):
        total += int(digit)
    return total
'''
GROUNDED_REPLY = ('```python\ndef sum_digits(number: int) -> int:\n    """The sum of the decimal digits of '
                  'number, sign ignored.\n\n    >>> sum_digits(123)\n    6\n    >>> sum_digits(0)\n    0\n'
                  '    >>> sum_digits(-45)\n    9\n    """\n    ...\n```')


def test_grounded_and_synth_questions_share_the_questions_stage(run_config, tmp_path: Path) -> None:
    from codistill.stages.cycle import CycleRunner

    code = tmp_path / "code"
    code.mkdir()
    (code / "digits.py").write_text(GROUNDING)
    script = json.loads((tmp_path / "teacher.json").read_text())
    script["rules"][:0] = [  # the grounding prompt shows `def sum_digits(` too: its rule comes first
        {"match": "from real code", "reply": GROUNDED_REPLY},
        {"match": "def sum_digits(", "reply": "```python\ndef sum_digits(number):\n"
                                              "    return sum(int(d) for d in str(abs(number)))\n```"},
        *SYNTH_RULES]
    (tmp_path / "teacher.json").write_text(json.dumps(script))
    config = run_config("name=g", "data.seeds=[synth, grounded]", "data.synth_questions=1",
                        "data.grounded_questions=1", f"data.grounded_from=[{code}]")
    problems = CycleRunner(config).questions()
    assert sorted(p.id for p in problems) == ["grounded-0-0", "synth-0-0"]
    grounded = next(p for p in problems if p.source == "grounded")
    assert "candidate(-45) == 9" in grounded.tests and grounded.meta["tests_by"] == "original"
    manifest = json.loads((tmp_path / "runs" / "g" / "manifest.json").read_text())
    assert "data.grounded_from" in json.dumps(manifest["stages"]["cycle-0/questions"])
    with pytest.raises(ValueError, match="data.grounded_questions"):
        run_config("data.seeds=[grounded]")
