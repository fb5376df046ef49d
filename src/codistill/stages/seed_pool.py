"""Where a run's questions come from: the seed pool of its first cycle."""

from __future__ import annotations

from pathlib import Path

from codistill.config import RunConfig
from codistill.records import Problem


def load_seed_pool(config: RunConfig) -> list[Problem]:
    """The first cycle's questions: the packaged bank and/or the user's files, decontaminated.

    A source is `bank`, a JSONL file of problems (with tests), or an instruction-only set
    (a JSONL/JSON file or a hub dataset name) whose tests the teacher writes.
    """
    from codistill.data.seeds import load_instructions, load_problems, load_seed_bank
    from codistill.stages.evolve import benchmark_index

    data = config.data
    pool: list[Problem] = []
    for source in data.seeds:
        if source in ("synth", "grounded"):
            continue  # written by the teacher in the run's questions stage (CycleRunner.questions)
        if source == "bank":
            pool += load_seed_bank(data.languages, limit_per_language=data.limit_per_language,
                                   seed=config.seed)
        elif _looks_like_problems(source):
            pool += load_problems(source, skip_bad=data.skip_bad_records)
        else:
            pool += load_instructions(source, language=data.languages[0],
                                      limit=data.limit_per_language)
    seen: set[str] = set()
    unique = [p for p in pool if not (p.id in seen or seen.add(p.id))]  # type: ignore[func-returns-value]
    kept, _dropped = benchmark_index(benchmarks=tuple(data.decontaminate_against)).filter(unique)
    return kept


def _looks_like_problems(source: str) -> bool:
    """True for a local JSONL whose first record has Problem's required fields."""
    import json

    path = Path(source)
    if not path.is_file():
        return False
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    first = json.loads(line)
                except ValueError:
                    return True  # let the strict loader report the bad line
                return isinstance(first, dict) and "id" in first and "question" in first
    return False
