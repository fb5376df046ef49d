"""Evaluation: benchmarks, pass@k through the sandbox, the rubric judge, decontamination, statistics.

    from codistill.evaluate import load_benchmark, evaluate_model, score_samples, pass_at_k
"""

from codistill.evaluate.benchmarks import BenchmarkError, known_benchmarks, load_benchmark
from codistill.evaluate.passk import mean_pass_at_k, pass_at_k
from codistill.evaluate.results import EvalResult, TaskResult, results_table
from codistill.evaluate.runner import (
    EvalError,
    evaluate_model,
    evaluate_pass_at_k,
    read_samples_file,
    score_samples,
)

__all__ = [
    "BenchmarkError", "EvalError", "EvalResult", "TaskResult", "evaluate_model", "evaluate_pass_at_k", "known_benchmarks",
    "load_benchmark", "mean_pass_at_k", "pass_at_k", "read_samples_file", "results_table",
    "score_samples",
]
