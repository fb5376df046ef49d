"""The pass@1 PNG: one group per benchmark/language, one bar per model."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import pytest

from codistill.evaluate.plot import plot_pass1
from codistill.evaluate.results import build_result
from codistill.records import Sample


def result(model: str, benchmark: str, language: str, passed: int, total: int):
    samples = [Sample(task_id=f"t{i}", completion="", status="passed" if i < passed else "failed",
                      passed=i < passed) for i in range(total)]
    return build_result(benchmark, model, [f"t{i}" for i in range(total)], samples, ks=(1,),
                        language=language)


def test_grouped_bars_are_written_as_png(tmp_path: Path) -> None:
    results = [result("student", "humaneval", "python", 3, 10),
               result("teacher", "humaneval", "python", 6, 10),
               result("student", "humaneval-go", "go", 1, 10),
               result("teacher", "multipl-e:humaneval-cpp", "cpp", 5, 10)]
    path = plot_pass1(results, tmp_path / "sub" / "pass1.png", title="pass@1 by model")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = mpimg.imread(path).shape
    assert width > height > 100  # three groups side by side


def test_nothing_to_plot_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no results"):
        plot_pass1([], tmp_path / "x.png")
