"""A training that fails because its disk is full says which folder, not torch's "file write failed"."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from codistill.train.common import disk_errors

FULL = """
import resource, signal, sys
from pathlib import Path
from codistill.train.common import disk_errors
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write then fails (EFBIG)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))  # a disk that is all but full
try:
    with disk_errors(Path(sys.argv[1])):
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")
except OSError as exc:
    print(exc.filename, exc.errno, type(exc.__cause__).__name__)
"""


def test_a_full_disk_is_named(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", FULL, str(tmp_path / "sft")], capture_output=True,
                          text=True, check=True)
    assert done.stdout.split() == [str(tmp_path / "sft"), str(errno.EFBIG), "RuntimeError"]
    assert [p.name for p in (tmp_path / "sft").iterdir()] == []  # its test write is gone


def test_other_failures_pass_through(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not a disk problem"), disk_errors(tmp_path):
        raise RuntimeError("not a disk problem")
    assert list(tmp_path.iterdir()) == []
