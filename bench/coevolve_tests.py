"""Can a model play Code-A1's Test model? Validity of the tests it writes, per model and temperature.

    python bench/coevolve_tests.py --model embedded:teacher --temperature 0.3 --shown student
    python bench/coevolve_tests.py --model embedded:student --temperature 1.0 --shown teacher --questions 12

Questions: the gain benchmark's verified training questions (`python bench/gain.py data` first),
each with the teacher's agreed answer as reference. The Test model gets coevolve's white-box prompt
(`tests_prompt`: the task, a candidate, the task's examples as asserts to follow) showing either a
sample of the student (temperature 0.8, what a Code phase shows) or the teacher's verified answer.
Each test is run against the reference, as the reward does. Prints one JSON line: the share of
answers with no parseable test and the mean validity (an answer without tests counts 0).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gain_data import _config, _verified  # noqa: E402

from codistill.extract import assemble_program  # noqa: E402
from codistill.models.base import Request, Sampling  # noqa: E402
from codistill.prompting import solve_prompt  # noqa: E402
from codistill.roles import open_cache, role_generator  # noqa: E402
from codistill.sandbox import Limits  # noqa: E402
from codistill.stages.coevolve_state import tests_prompt  # noqa: E402
from codistill.train.rewards import TestRunner, parse_tests  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Write tests for the first --questions questions and score their validity."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="embedded:teacher", help="the Test model (a model spec)")
    parser.add_argument("--temperature", type=float, default=0.3)
    parser.add_argument("--shown", choices=["student", "teacher"], default="student",
                        help="whose code the prompt shows: a student sample or the teacher's answer")
    parser.add_argument("--count", type=int, default=3, help="tests asked per answer")
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--n", type=int, default=2, help="answers per question")
    parser.add_argument("--out", default="runs/gain", help="the gain benchmark's folder")
    args = parser.parse_args(argv)

    train, _ = _verified(Path(args.out))
    if not train:
        parser.error(f"no verified questions in {args.out}: run `python bench/gain.py data` first")
    chosen = train[: args.questions]
    problems = [t.problem.model_copy(update={"reference": t.correct().code}) for t in chosen]
    cfg = _config(argparse.Namespace(seed=0), batch_size=16)
    cache = open_cache(cfg)
    if args.shown == "teacher":
        codes = [t.correct().code for t in chosen]
    else:
        student = role_generator("embedded:student", cfg, cache)
        outs = student.generate([Request.user(solve_prompt(p)) for p in problems],
                                Sampling(temperature=0.8, top_p=0.95, max_new_tokens=256, seed=0))
        codes = [assemble_program(p, o.text, "chat") for p, o in zip(problems, outs, strict=True)]
        student.close()
    writer = role_generator(args.model, cfg, cache)
    started = time.perf_counter()
    gens = writer.generate([Request.user(tests_prompt(p, c, args.count)) for p, c in zip(problems, codes, strict=True)],
                           Sampling(n=args.n, temperature=args.temperature, top_p=0.95, max_new_tokens=256, seed=0))
    writer.close()
    runner = TestRunner(Limits(timeout_s=5))
    validity, unparsed = [], 0
    for problem, gen in zip(problems, gens, strict=True):
        for text in gen.texts:
            tests = parse_tests(text, problem.entry_point or "", args.count)
            if not tests:
                unparsed += 1
                validity.append(0.0)
                continue
            outcomes = runner.run([(problem.reference or "", problem.entry_point, t) for t in tests])
            validity.append(sum(o.passed for o in outcomes) / len(tests))
    print(json.dumps({"model": args.model, "temperature": args.temperature, "shown": args.shown,
                      "count": args.count, "questions": len(problems), "answers": len(validity),
                      "unparseable": round(unparsed / len(validity), 3),
                      "validity": round(sum(validity) / len(validity), 3),
                      "seconds": round(time.perf_counter() - started)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
