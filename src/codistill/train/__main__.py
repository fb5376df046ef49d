"""`python -m codistill.train ...` = `codistill train ...`; the form `accelerate launch -m` needs."""

from __future__ import annotations

import sys

from codistill.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
