"""Which third-party Python code a sandboxed program can see: an explicit allow-list.

The toolchains stay visible (isolation.Sandbox binds them), but every site-packages or
dist-packages folder inside them is covered by an empty read-only tmpfs, so no installed
package (benchmark data, codistill's own seed bank, anything else) can be read or imported.
The allowed distributions, DEFAULT_PACKAGES plus what a program declares in `Program.packages`
(each with what it requires), are shown at PACKAGES_MOUNT instead, the one third-party folder
on the sandbox's sys.path. docs/sandbox.md lists the whole view.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Third-party distributions every program may import. Kept small on purpose: the benchmarks
# (HumanEval, MBPP, EvalPlus) need only the standard library, and numpy is what generated
# numeric code reaches for most. A program needing more declares it in Program.packages.
DEFAULT_PACKAGES = ("numpy",)
PACKAGES_MOUNT = "/codistill/packages"
SITE_DIRS = frozenset({"site-packages", "dist-packages"})


def canonical(name: str) -> str:
    """A distribution's name in normal form (PEP 503): `Foo_Bar` and `foo-bar` are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def allowed(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The distributions a program may import: the defaults and `extra`, sorted."""
    return tuple(sorted({canonical(name) for name in (*DEFAULT_PACKAGES, *extra) if name}))


def is_site_path(path: str) -> bool:
    """True when `path` lies in a site-packages or dist-packages folder."""
    return any(part in SITE_DIRS for part in Path(path).parts)


@functools.cache
def site_dirs(roots: tuple[str, ...]) -> tuple[str, ...]:
    """Every site-packages or dist-packages folder under `roots` (found once per process)."""
    found: set[str] = set()
    for root in roots:
        for current, dirs, _files in os.walk(root):
            for name in [d for d in dirs if d in SITE_DIRS]:
                dirs.remove(name)
                path = os.path.join(current, name)
                real = os.path.realpath(path)
                # A link is masked at its target, and only when that target is in the view.
                if not os.path.islink(path):
                    found.add(path)
                elif any(real == r or real.startswith(r + os.sep) for r in roots):
                    found.add(real)
    return tuple(sorted(found))


@functools.cache
def package_paths(names: tuple[str, ...], python: str | None = None) -> tuple[str, ...]:
    """Host paths of the top-level modules, folders and metadata of distributions `names`
    and their requirements, as installed for interpreter `python` (default: this one)."""
    if not names:
        return ()
    if python is None or python == sys.executable:
        found = _locate(list(names))
    else:
        code = inspect.getsource(_locate) + "\nimport json, sys\n" \
            "print(json.dumps(_locate(sys.argv[1:])))\n"
        found = json.loads(subprocess.run([python, "-I", "-c", code, *names],
                                          capture_output=True, text=True, check=True).stdout)
    return tuple(found)


def _locate(names: list[str]) -> list[str]:
    # Self-contained (it is also sent as source to another interpreter): standard library only.
    import re  # noqa: PLC0415
    from importlib import metadata  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    todo, seen, paths = list(names), set(), {}
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an import of it fails as a missing module, with the usual verdict
        base = Path(str(dist.locate_file("")))
        for file in dist.files or ():
            top = file.parts[0] if file.parts else ""
            # Scripts (../bin), shared byte code and .pth hooks belong to no one package.
            if top and top not in ("..", "__pycache__") and not top.endswith(".pth"):
                path = base / top
                if path.exists() and path.name not in paths:
                    paths[path.name] = str(path)
        for requirement in dist.requires or ():
            if not re.search(r"\bextra\s*==", requirement):
                todo.append(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1))
    return sorted(paths.values())


@functools.cache
def package_farm(paths: tuple[str, ...]) -> str:
    """A host folder of links to `paths`: what stands in for PACKAGES_MOUNT without namespaces,
    so a program imports the same packages (and fails on the same ones) in both modes."""
    farm = tempfile.mkdtemp(prefix="codistill-packages-")
    os.chmod(farm, 0o755)
    for path in paths:
        link = os.path.join(farm, os.path.basename(path))
        if not os.path.lexists(link):
            os.symlink(path, link)
    atexit.register(shutil.rmtree, farm, True)
    return farm
