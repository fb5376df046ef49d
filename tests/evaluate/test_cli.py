"""`codistill eval`, `compare` and `decontam` as a user runs them: real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codistill.evaluate import load_benchmark

HE = load_benchmark("humaneval")


def codistill(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "codistill.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def write_samples(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n" for t, c in rows))
    return path


def canonical(i: int) -> str:
    return HE[i].reference[len(HE[i].prompt):]


def test_eval_samples_json(tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "samples.jsonl",
                            [(HE[0].id, canonical(0)), (HE[1].id, "    return []\n"),
                             (HE[2].id, canonical(2)), (HE[3].id, canonical(3))])
    done = codistill("eval", "--benchmark", "humaneval", "--samples", str(samples), "--json",
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["pass@1"] == 0.75 and summary["tasks"] == 4 and summary["n"] == 1
    assert summary["status_counts"] == {"failed": 1, "passed": 3}
    folder = tmp_path / "samples-eval"
    assert json.loads((folder / "results.json").read_text())["pass_at_k"] == {"pass@1": 0.75}
    assert (folder / "pass1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_samples_on_a_sandboxfusion_server(tmp_path: Path) -> None:
    # The same scoring through a real local server speaking SandboxFusion's API.
    from codistill.sandbox.backends.fusion_server import FusionServer

    samples = write_samples(tmp_path / "samples.jsonl",
                            [(HE[0].id, canonical(0)), (HE[1].id, "    return []\n")])
    with FusionServer() as server:
        done = codistill("eval", "--benchmark", "humaneval", "--samples", str(samples), "--json",
                         "--sandbox", f"sandboxfusion:{server.url}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status_counts"] == {"failed": 1, "passed": 1}
    bad = codistill("eval", "--benchmark", "humaneval", "--samples", str(samples),
                    "--sandbox", "docker", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown sandbox backend 'docker'" in bad.stderr


def test_eval_samples_table_and_unknown_tasks(tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "s.jsonl", [(HE[0].id, canonical(0))])
    done = codistill("eval", "--benchmark", "humaneval", "--samples", str(samples),
                     "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0 and "pass@1" in done.stdout and "100.0%" in done.stdout
    bad = write_samples(tmp_path / "bad.jsonl", [("HumanEval/0", "x"), ("HumanEval/777", "x")])
    done = codistill("eval", "--benchmark", "humaneval", "--samples", str(bad), cwd=tmp_path)
    assert done.returncode == 2 and "HumanEval/777" in done.stderr


def test_eval_unknown_benchmark_lists_known(tmp_path: Path) -> None:
    samples = write_samples(tmp_path / "s.jsonl", [(HE[0].id, canonical(0))])
    done = codistill("eval", "--benchmark", "humanevl", "--samples", str(samples), cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown benchmark 'humanevl'" in done.stderr and "mbpp+" in done.stderr


def test_eval_a_scripted_model_then_compare(tmp_path: Path) -> None:
    # A fake model script (models' `fake:` spec): task 0 right, tasks 1-2 wrong; a better one
    # gets all three right. Then `compare` says which is better.
    def script(path: Path, right: set[int]) -> Path:
        rules = [{"match": f"def {HE[i].entry_point}(",
                  "reply": f"```python\n{HE[i].reference}```" if i in right else
                           f"```python\ndef {HE[i].entry_point}(*a):\n    return 0\n```"}
                 for i in range(3)]
        path.write_text(json.dumps({"rules": rules}))
        return path

    runs = {}
    for label, right in (("weak", {0}), ("strong", {0, 1, 2})):
        out = tmp_path / label
        done = codistill("eval", "--model", f"fake:{script(tmp_path / f'{label}.json', right)}",
                         "--benchmark", "humaneval", "--limit", "3", "--output", str(out), "--json",
                         cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        runs[label] = json.loads(done.stdout)
        assert (out / "humaneval" / "samples.jsonl").is_file() and (out / "pass1.png").is_file()
    assert runs["weak"]["pass@1"] == pytest.approx(1 / 3) and runs["strong"]["pass@1"] == 1.0

    done = codistill("compare", str(tmp_path / "weak"), str(tmp_path / "strong"), "--json",
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    comparison = json.loads(done.stdout)
    assert comparison["tasks"] == 3 and comparison["wins"] == 2 and comparison["losses"] == 0
    assert comparison["mean_diff"] == pytest.approx(2 / 3)
    table = codistill("compare", str(tmp_path / "weak"), str(tmp_path / "strong"), cwd=tmp_path)
    assert "Wilcoxon" in table.stdout and "bootstrap CI" in table.stdout
    # Several candidates (training seeds) are pooled: weak vs the mean of {weak, strong}.
    done = codistill("compare", str(tmp_path / "weak"), str(tmp_path / "weak"), str(tmp_path / "strong"),
                     "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    mean = json.loads(done.stdout)
    assert mean["wins"] == 2 and mean["mean_diff"] == pytest.approx(1 / 3)
    assert mean["pass1_b"] == pytest.approx(2 / 3) and "mean of 2 runs" in mean["b"]

    # A `codistill run` folder stands for its last finished evaluation (cycle 2 is unfinished).
    run = tmp_path / "run"
    for cycle, label in ((0, "weak"), (1, "strong"), (2, "weak")):
        shutil.copytree(tmp_path / label, run / f"cycle-{cycle}" / "eval")
    stages = {f"cycle-{c}/eval": {"status": s} for c, s in ((0, "done"), (1, "done"), (2, "running"))}
    (run / "manifest.json").write_text(json.dumps({"stages": stages}))
    done = codistill("compare", str(run / "cycle-0" / "eval"), str(run), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["wins"] == 2


def test_eval_reports_greedy_pass1_and_sampled_pass_at_k_and_compare_pairs_both(tmp_path: Path) -> None:
    # Sample i of n gets reply i: the greedy answer is reply 0. Task 0's replies are right, wrong,
    # wrong, wrong; task 1's wrong, right, right, right.
    right = [f"```python\n{HE[i].reference}```" for i in range(2)]
    wrong = [f"```python\ndef {HE[i].entry_point}(*a):\n    return 0\n```" for i in range(2)]
    rules = [{"match": f"def {HE[0].entry_point}(", "reply": [right[0], wrong[0], wrong[0], wrong[0]]},
             {"match": f"def {HE[1].entry_point}(", "reply": [wrong[1], right[1], right[1], right[1]]}]
    (tmp_path / "mixed.json").write_text(json.dumps({"rules": rules}))
    (tmp_path / "right.json").write_text(json.dumps({"rules": [
        {"match": f"def {HE[i].entry_point}(", "reply": right[i]} for i in range(2)]}))
    runs = {}
    for label in ("mixed", "right"):
        done = codistill("eval", "--model", f"fake:{tmp_path / label}.json", "--benchmark", "humaneval",
                         "--limit", "2", "--n", "4", "--ks", "1,2", "--output", str(tmp_path / label),
                         "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        runs[label] = json.loads(done.stdout)
    mixed = runs["mixed"]
    assert mixed["pass@1"] == 0.5  # greedy: task 0 right, task 1 wrong
    assert mixed["pass_at_k"]["pass@2"] == pytest.approx((0.5 + 1.0) / 2)  # from the 4 samples
    assert mixed["sampled"]["n"] == 4 and mixed["sampled"]["pass_at_k"]["pass@1"] == pytest.approx(0.5)
    table = codistill("eval", "--model", f"fake:{tmp_path / 'mixed'}.json", "--benchmark", "humaneval",
                      "--limit", "2", "--n", "4", "--ks", "1,2", "--output", str(tmp_path / "mixed"),
                      cwd=tmp_path)
    assert "1+4" in table.stdout and "pass@1 is greedy; pass@k (k > 1) from 4 samples" in table.stderr
    done = codistill("compare", str(tmp_path / "mixed"), str(tmp_path / "right"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    greedy, sampled = json.loads(done.stdout)["comparisons"]
    assert greedy["k"] == 1 and greedy["wins"] == 1 and greedy["mean_diff"] == pytest.approx(0.5)
    assert sampled["k"] == 2 and sampled["mean_diff"] == pytest.approx(0.25)


def test_decontam_lists_matches_and_writes_clean_rows(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    rows = [{"id": "a", "question": HE[5].prompt, "tests": ""},
            {"id": "b", "question": "Compute the weighted checksum digit of a twelve digit barcode "
                                    "string, weights alternating three and one from the right."},
            {"messages": [{"role": "user", "content": "hi"},
                          {"role": "assistant", "content": HE[9].prompt + "    pass\n"}]}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = codistill("decontam", str(data), "--benchmarks", "humaneval", "--json",
                     "--write-clean", str(tmp_path / "clean.jsonl"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == 3 and report["matched"] == 2
    assert [(m["line"], m["task_id"]) for m in report["matches"]] == [(1, HE[5].id), (3, HE[9].id)]
    assert report["matches"][1]["checked"] == "messages.1.content"
    clean = [json.loads(line) for line in (tmp_path / "clean.jsonl").read_text().splitlines()]
    assert [r.get("id") for r in clean] == ["b"]
    ok = codistill("decontam", str(tmp_path / "clean.jsonl"), "--benchmarks", "humaneval",
                   cwd=tmp_path)
    assert ok.returncode == 0 and "0 of 1 rows" in ok.stdout


def test_eval_takes_unset_options_from_the_config(tmp_path: Path) -> None:
    # The config's eval section decides what a flag does not: here 2 tasks, not all 164;
    # a flag still wins over it, and a bad config value is a one-line error.
    model = tmp_path / "model.json"
    model.write_text(json.dumps({"rules": [{"match": f"def {HE[0].entry_point}(",
                                            "reply": f"```python\n{HE[0].reference}```"}],
                                 "default": "```python\ndef nothing():\n    return 0\n```"}))
    config = tmp_path / "eval.yaml"
    config.write_text("eval:\n  limit: 2\n  ks: [1]\n  max_new_tokens: 100\n")
    base = ["eval", "--model", f"fake:{model}", "--benchmark", "humaneval", "--json", "--no-plot"]
    done = codistill(*base, "--config", str(config), "--output", str(tmp_path / "a"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["tasks"] == 2 and summary["pass@1"] == 0.5 and list(summary["pass_at_k"]) == ["pass@1"]
    assert json.loads((tmp_path / "a" / "humaneval" / "eval.json").read_text())["max_new_tokens"] == 100
    done = codistill(*base, "--config", str(config), "--limit", "1", "--output", str(tmp_path / "b"),
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tasks"] == 1
    done = codistill(*base, "--set", "eval.n=0", "--output", str(tmp_path / "c"), cwd=tmp_path)
    assert done.returncode == 2 and "eval.n" in done.stderr and "Traceback" not in done.stderr
