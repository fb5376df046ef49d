"""Soak the local sandbox with many mixed, partly hostile programs; then check nothing leaked.

    python bench/soak.py                                   # 20,000 programs, 2 workers
    python bench/soak.py --programs 2000 --workers 4 --seed 1 --plot soak.png

A seeded mix goes through `execute_many` on the local backend: passing, failing (assertions),
crashing, timing out (loops and sleeps under a short `timeout_s`), fork bombs (some leave
sleeping orphans), memory bombs and output floods (megabytes printed), in Python mostly and in
JavaScript, C and Go where installed. Every `--interval` programs it prints the throughput and
this process's open fds and RSS. Then it checks, and exits 1 if any check fails:

- leaked processes: with the pool idle, every descendant of this process must be a supervisor,
  bwrap or compile server with our uid (as root, jobs run as other uids; without root a leftover
  fork of a Python job would pass for a supervisor's parked child); after closing the pool, no
  descendant may remain, nor any process running as a run uid our supervisors used.
- leftover temp entries: our TMPDIR (a fresh folder) and the compile cache's build area must end
  empty, and /tmp must gain no `codistill*` entry (other jobs on a shared machine write there).
- fds after closing the pool equal those at the start; RSS at the end of the soak within
  `--rss-slack-mb` of the first checkpoint.
- verdicts that differ from the program run alone: each distinct program is rerun once,
  sequentially. Deterministic ones compare status, error type, failing test and stdout (crossed
  wires between concurrent runs would show); timeouts, bombs and floods compare status only.
- `sandbox_error` verdicts (codistill itself failing under load).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from codistill.sandbox import Limits, Program, Status, Verdict, execute, execute_many, languages
from codistill.sandbox.supervisor_pool import POOL

console = Console(width=120)
# Kinds whose verdict may legitimately depend on timing: compared on status only.
TIMING = frozenset({"timeout", "fork bomb", "memory bomb", "output flood"})
SANDBOX_MARKERS = ("bwrap", "supervisor.py", "tsc_server.js", "CodistillJavacServer")


@dataclass(frozen=True)
class Template:
    """One program shape; `@V` in its source and tests is replaced by the variant number."""

    name: str
    language: str
    kind: str
    weight: float
    source: str
    tests: str | None = None
    entry_point: str | None = None

    def program(self, variant: int) -> Program:
        """The variant's program."""
        v = str(variant)
        return Program(self.language, self.source.replace("@V", v),
                       tests=self.tests.replace("@V", v) if self.tests else None,
                       entry_point=self.entry_point)


# Tests in each language's convention: f(i) == i + @W, where @V passes and @V + 1 fails.
PY_CHECK = "def check(candidate):\n    for i in range(50):\n        assert candidate(i) == i + @W\n"
JS_CHECK = ('const assert = require("node:assert");\nconsole.log("js @V");\n'
            "for (let i = 0; i < 50; i++) assert.deepStrictEqual(f(i), i + @W);\n")
C_CHECK = ('#include <assert.h>\n#include <stdio.h>\nint main(void) {\n    printf("c @V\\n");\n'
           "    for (int i = 0; i < 50; i++) assert(f(i) == i + @W);\n    return 0;\n}\n")
GO_CHECK = ('package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("go @V")\n'
            '\tfor i := 0; i < 50; i++ {\n\t\tif f(i) != i+@W {\n'
            '\t\t\tpanic(fmt.Sprint("f(", i, ")"))\n\t\t}\n\t}\n}\n')
PY_OK, PY_WRONG = (PY_CHECK.replace("@W", w) for w in ("@V", "@V + 1"))
JS_OK, JS_WRONG = (JS_CHECK.replace("@W", w) for w in ("@V", "@V + 1"))
C_OK, C_WRONG = (C_CHECK.replace("@W", w) for w in ("@V", "@V + 1"))
GO_OK, GO_WRONG = (GO_CHECK.replace("@W", w) for w in ("@V", "@V + 1"))
PY_F, JS_F = "print('py @V')\ndef f(x):\n    return x + @V\n", "function f(x) { return x + @V; }\n"
C_F, GO_F = "int f(int x) { return x + @V; }\n", "func f(x int) int { return x + @V }\n"

TEMPLATES = [
    Template("py-pass", "python", "pass", 40, PY_F, PY_OK, "f"),
    Template("py-fail", "python", "fail", 12, PY_F, PY_WRONG, "f"),
    Template("py-raise", "python", "error", 5, "def f(x):\n    return x // (@V - @V)\n",
             PY_OK, "f"),
    Template("py-loop", "python", "timeout", 0.4, "def f(x):\n    while True:\n        x += @V\n",
             PY_OK, "f"),
    Template("py-sleep", "python", "timeout", 0.3, "import time\ntime.sleep(100 + @V)\n"),
    Template("py-forkbomb", "python", "fork bomb", 1.5,
             "import os  # @V\nwhile True:\n    os.fork()\n"),
    Template("py-orphans", "python", "fork bomb", 1.5,  # passes, leaving sleepers to clean up
             "import os, time\nfor _ in range(20 + @V):\n    if os.fork() == 0:\n"
             "        os.setsid()\n        time.sleep(1000)\nprint('left @V sleepers')\n"),
    Template("py-membomb", "python", "memory bomb", 2,
             "x = []\nwhile True:\n    x.append(bytearray(10 ** 7 + @V))\n"),
    Template("py-flood", "python", "output flood", 1.5,
             "import sys\nsys.stdout.write('x' * ((@V + 4) << 20))\n"),
    Template("py-flood-err", "python", "output flood", 1,
             "import sys\nwhile True:\n    print('y' * (1000 + @V), file=sys.stderr)\n"),
    Template("js-pass", "javascript", "pass", 6, JS_F, JS_OK),
    Template("js-fail", "javascript", "fail", 2, JS_F, JS_WRONG),
    Template("js-loop", "javascript", "timeout", 0.15, "let n = @V;\nfor (;;) { n += 1; }\n"),
    Template("js-flood", "javascript", "output flood", 0.5,
             'const s = "x".repeat((1 << 20) + @V);\nfor (;;) process.stdout.write(s);\n'),
    Template("c-pass", "c", "pass", 5, C_F, C_OK),
    Template("c-fail", "c", "fail", 1.5, C_F, C_WRONG),
    Template("c-loop", "c", "timeout", 0.15,
             "int main(void) { volatile unsigned long n = @V; for (;;) n++; }\n"),
    Template("c-forkbomb", "c", "fork bomb", 0.5,
             "#include <unistd.h>\nint main(void) { for (;;) if (fork() < 0) return @V + 1; }\n"),
    Template("c-membomb", "c", "memory bomb", 0.5,
             "#include <stdlib.h>\n#include <string.h>\nint main(void) {\n    for (;;) {\n"
             "        char *p = malloc((1 << 24) + @V);\n        if (!p) return 3;\n"
             "        memset(p, 1, 1 << 24);\n    }\n}\n"),
    Template("c-flood", "c", "output flood", 0.5, "#include <stdio.h>\nint main(void) {\n"
             "    static char b[(1 << 20) + @V];\n"
             "    for (;;) fwrite(b, 1, sizeof b, stdout);\n}\n"),
    Template("go-pass", "go", "pass", 4, GO_F, GO_OK),
    Template("go-fail", "go", "fail", 1.5, GO_F, GO_WRONG),
    Template("go-membomb", "go", "memory bomb", 0.5,
             "package main\n\nfunc main() {\n\tvar k [][]byte\n\tfor {\n\t\tb := make([]byte, "
             "1<<24+@V)\n\t\tfor i := range b {\n\t\t\tb[i] = 1\n\t\t}\n"
             "\t\tk = append(k, b)\n\t}\n}\n"),
]
BY_NAME = {template.name: template for template in TEMPLATES}


def usable_templates() -> list[Template]:
    """The templates whose toolchain is installed; a note for each language left out."""
    missing = {name: why for name, why in languages.available().items() if why}
    for name in sorted({t.language for t in TEMPLATES} & set(missing)):
        console.print(f"[yellow]skipping {name}: toolchain missing ({missing[name]})[/yellow]")
    return [t for t in TEMPLATES if t.language not in missing]


def mix(templates: list[Template], count: int, variants: int, seed: int) -> Iterator[Program]:
    """`count` programs drawn by weight; each id is `<template>:<variant>:<index>`."""
    rng = random.Random(seed)
    weights = [t.weight for t in templates]
    for index in range(count):
        template, variant = rng.choices(templates, weights)[0], rng.randrange(variants)
        yield template.program(variant).with_(id=f"{template.name}:{variant}:{index}")


def signature(verdict: Verdict, kind: str) -> tuple[str, ...]:
    """What must not change between a soak run and a run alone."""
    full = (verdict.status.value, verdict.error_type or "", verdict.failed_test or "",
            verdict.stdout)
    return full[:1] if kind in TIMING else full


class Proc(NamedTuple):
    """One host process as /proc shows it."""

    pid: int
    ppid: int
    uid: int
    cmdline: str


def host_processes() -> list[Proc]:
    """Every process on the host (those that vanish while being read are skipped)."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{name}/status").read_text()
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        ppid = int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        found.append(Proc(int(name), ppid, uid, cmdline.decode("utf-8", "replace").strip()))
    return found


def descendants(table: list[Proc], root: int) -> list[Proc]:
    """The processes below `root` in `table`."""
    found: list[Proc] = []
    parents = {root}
    while layer := [proc for proc in table if proc.ppid in parents]:
        found += layer
        parents = {proc.pid for proc in layer}
    return found


def run_uids(table: list[Proc]) -> set[int]:
    """The run uids our supervisors give their jobs (read from their configs' `"uid": N`)."""
    return {int(m.group(1)) for proc in descendants(table, os.getpid())
            if "supervisor.py" in proc.cmdline
            for m in [re.search(r'"uid": (\d+)', proc.cmdline)] if m}


def job_leftovers() -> list[Proc]:
    """Descendants that are not the idle pool: a job's uid, or not a sandbox process at all."""
    return [proc for proc in descendants(host_processes(), os.getpid())
            if proc.uid != os.getuid() or not any(m in proc.cmdline for m in SANDBOX_MARKERS)]


def settle(check: Callable[[], list[Proc]], seconds: float) -> list[Proc]:
    """`check()` polled until it finds nothing or `seconds` pass (reaping is asynchronous)."""
    deadline = time.monotonic() + seconds
    while (found := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def resources() -> tuple[int, float]:
    """This process's open file descriptors, and its resident memory in MiB."""
    rss_kb = re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)
    return len(os.listdir("/proc/self/fd")), int(rss_kb) / 1024


def tmp_entries() -> set[str]:
    """/tmp entries named like the sandbox's own (codistill*)."""
    return {name for name in os.listdir("/tmp") if name.startswith("codistill")}


class Checkpoint(NamedTuple):
    """The state after `done` programs; `rate` is programs/s over the interval that ended here."""

    done: int
    seconds: float
    rate: float
    fds: int
    rss_mb: float


def soak(args: argparse.Namespace, templates: list[Template], limits: Limits) -> tuple[
        dict[str, Counter], Counter, list[Checkpoint], set[int]]:
    """Run the mix; signatures per distinct program, statuses per kind, checkpoints, run uids."""
    seen: dict[str, Counter] = {}
    by_kind, checkpoints, uids = Counter(), [], set()
    columns = [TextColumn("[bold]soak"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} prog/s"), TimeElapsedColumn()]
    started = last_t = time.monotonic()
    last_n = 0  # programs done at the last checkpoint
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("soak", total=args.programs, rate="-")
        stream = execute_many(mix(templates, args.programs, args.variants, args.seed), limits,
                              workers=args.workers)
        for done, verdict in enumerate(stream, 1):
            name, variant, _ = verdict.id.split(":")
            kind = BY_NAME[name].kind
            seen.setdefault(f"{name}:{variant}", Counter())[signature(verdict, kind)] += 1
            by_kind[(kind, verdict.status.value)] += 1
            bar.update(task, advance=1, rate=f"{done / (time.monotonic() - started):.1f}")
            if done % args.interval and done != args.programs:
                continue
            now = time.monotonic()
            uids |= run_uids(host_processes())
            checkpoints.append(point := Checkpoint(done, now - started,
                                                   (done - last_n) / (now - last_t), *resources()))
            bar.console.print(f"{done:>7} programs {point.seconds:7.1f} s  {point.rate:6.1f} "
                              f"prog/s  fds {point.fds:>3}  RSS {point.rss_mb:6.1f} MB  "
                              f"load {os.getloadavg()[0]:.1f}")
            last_t, last_n = now, done
    return seen, by_kind, checkpoints, uids


def rerun_alone(seen: dict[str, Counter], limits: Limits) -> tuple[int, list[str]]:
    """Rerun each distinct program once, alone; soak verdicts that differ, and descriptions."""
    differing, notes = 0, []
    with Progress(TextColumn("[bold]alone"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        for key in bar.track(sorted(seen)):
            template, variant = BY_NAME[key.split(":")[0]], key.split(":")[1]
            alone = signature(execute(template.program(int(variant)), limits), template.kind)
            other = sum(n for sig, n in seen[key].items() if sig != alone)
            if other:
                differing += other
                notes.append(f"differs: {key}: alone {alone[:2]}, soak "
                             f"{ {sig[:2]: n for sig, n in seen[key].items()} }")
    return differing, notes


def plot(path: Path, checkpoints: list[Checkpoint]) -> None:
    """Throughput, fds and RSS over the soak, as a PNG."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 - only when a plot is asked for

    done = [c.done for c in checkpoints]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    top.plot(done, [c.rate for c in checkpoints], marker="o")
    top.set(ylabel="programs/s (interval)", ylim=(0, None), title="sandbox soak")
    bottom.plot(done, [c.rss_mb for c in checkpoints], marker="o", label="parent RSS (MB)")
    bottom.plot(done, [c.fds for c in checkpoints], marker="s", label="parent open fds")
    bottom.set(xlabel="programs done", ylim=(0, None))
    bottom.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def leaks(uids: set[int]) -> tuple[list[Proc], list[Proc]]:
    """Leftover job processes with the pool idle, then anything left after closing it."""
    idle = settle(job_leftovers, 5.0)
    POOL.close()
    closed = settle(lambda: [p for p in host_processes() if p.uid in uids]
                    + descendants(host_processes(), os.getpid()), 10.0)
    return idle, closed


def leftovers(scratch: Path, tmp_before: set[str]) -> list[str]:
    """Temp entries the run left: in our TMPDIR, the cache's build area, or /tmp (codistill*)."""
    found = [f"/tmp/{name}" for name in sorted(tmp_entries() - tmp_before)]
    for folder in (scratch / "tmp", scratch / "cache" / "tmp"):
        found += [str(path) for path in folder.iterdir()] if folder.exists() else []
    return found


def kind_table(by_kind: Counter, templates: list[Template]) -> Table:
    """Verdict statuses per kind of program."""
    table = Table(title="verdicts by kind")
    statuses = sorted({status for _, status in by_kind})
    for column in ("kind", *statuses):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind in dict.fromkeys(t.kind for t in templates):
        table.add_row(kind, *(str(by_kind[(kind, s)] or "") for s in statuses))
    return table


def main(argv: list[str] | None = None) -> int:
    """Soak, check, print the summary; 1 when anything leaked, was left or differed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programs", type=int, default=20_000, help="programs in the soak")
    parser.add_argument("--workers", type=int, default=2, help="concurrent programs (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the program mix")
    parser.add_argument("--variants", type=int, default=6, help="distinct programs per template")
    parser.add_argument("--timeout", type=float, default=2.0, help="timeout_s of every run")
    parser.add_argument("--interval", type=int, default=1000, help="programs per throughput line")
    parser.add_argument("--rss-slack-mb", type=float, default=32.0,
                        help="RSS growth tolerated from the first checkpoint to the end")
    parser.add_argument("--plot", type=Path, help="save throughput, fds and RSS to this PNG")
    args = parser.parse_args(argv)
    limits = Limits(timeout_s=args.timeout, memory_mb=256)
    # A private TMPDIR and compile cache: on a shared machine, only they compare exactly.
    scratch = Path(tempfile.mkdtemp(prefix="soak-"))
    (scratch / "tmp").mkdir()
    os.environ["TMPDIR"] = tempfile.tempdir = str(scratch / "tmp")
    os.environ["CODISTILL_SANDBOX_CACHE"] = str(scratch / "cache")
    templates = usable_templates()
    tmp_before = tmp_entries()
    (fds_start, rss_start), load_start = resources(), os.getloadavg()[0]
    console.print(f"{args.programs} programs, {args.workers} workers, seed {args.seed}, "
                  f"{len(templates)} templates x {args.variants} variants, timeout "
                  f"{args.timeout:g} s; load average {load_start:.1f} on {os.cpu_count()} cores")
    started = time.monotonic()
    seen, by_kind, checkpoints, uids = soak(args, templates, limits)
    seconds = time.monotonic() - started
    fds_end, rss_end = resources()
    pool = len(descendants(host_processes(), os.getpid()))
    differing, notes = rerun_alone(seen, limits)
    idle, closed = leaks(uids)
    fds_closed, left = resources()[0], leftovers(scratch, tmp_before)
    subprocess.run(["chmod", "-R", "u+rwx", scratch], check=False)  # the cache is not listable
    shutil.rmtree(scratch, ignore_errors=True)
    for line in ([f"leaked pid {p.pid} uid {p.uid}: {p.cmdline[:90]}" for p in idle + closed]
                 + [f"left behind: {entry}" for entry in left] + notes[:10]):
        console.print(f"[red]{line}[/red]")
    console.print(kind_table(by_kind, templates))
    if args.plot:
        plot(args.plot, checkpoints)
    per_language = Counter({t.language: 0 for t in templates})
    for key, signatures in seen.items():
        per_language[BY_NAME[key.split(":")[0]].language] += sum(signatures.values())
    rates = [c.rate for c in checkpoints]
    errors = sum(n for (_, status), n in by_kind.items() if status == Status.SANDBOX_ERROR.value)
    leaked, steady = len({p.pid for p in idle + closed}), checkpoints[0].rss_mb
    failed = (leaked or left or differing or errors or fds_closed > fds_start
              or rss_end - steady > args.rss_slack_mb)
    console.print(
        f"programs: {args.programs} ({', '.join(f'{k} {n}' for k, n in per_language.items())}),"
        f" {len(seen)} distinct, {args.workers} workers: {seconds:.1f} s, "
        f"{args.programs / seconds:.1f} programs/s\n"
        f"per {args.interval}: first {rates[0]:.1f}, last {rates[-1]:.1f}, median "
        f"{statistics.median(rates):.1f}, min {min(rates):.1f}, max {max(rates):.1f} programs/s; "
        f"load average {load_start:.1f} -> {os.getloadavg()[0]:.1f}\n"
        f"leaked processes: {leaked} ({len(idle)} with the pool idle, {len(closed)} after "
        f"closing it; {len(uids)} run uids watched)\nleftover temp entries: {len(left)}\n"
        f"open fds: {fds_start} at the start, {fds_end} at the end (pool of {pool} processes), "
        f"{fds_closed} after closing it\nRSS: {rss_start:.1f} MB at the start, {steady:.1f} at "
        f"the first checkpoint, {rss_end:.1f} at the end\n"
        f"verdicts differing from the program run alone: {differing}; sandbox errors: {errors}\n"
        f"{'FAILED' if failed else 'OK'}", soft_wrap=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
