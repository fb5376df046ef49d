"""Code-A1's Mistake Book: per question, the tests that broke the Code model, each with a frequency.

The rules (docs/coevolve.md):

- An *event* is one evaluation of a test against one group of the Code model's samples for the
  test's question. The code *fails* the test when any sample fails it, and *passes* it when every
  sample passes it (a group whose only trouble is the environment gives no event).
- A failure adds 1 to the test's frequency (a test enters the book with its first failure); a
  pass subtracts 1; a test whose frequency reaches 0 is dropped.
- `top(question, k)` gives the k most frequent tests (ties: the one that entered first), which the
  Code model's reward replays.
- A question is blacklisted when it is found unsolvable: its reference fails its own tests, or no
  sample of the Code model passes a single test of its reward in `patience` code phases in a row
  (all-zero rewards give GRPO no advantage to learn from).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class MistakeBook:
    """Tests that broke the code, by question, with frequencies; plus the blacklist."""

    tests: dict[str, dict[str, int]] = field(default_factory=dict)  # question -> test -> frequency
    blacklist: dict[str, str] = field(default_factory=dict)  # question -> why
    misses: dict[str, int] = field(default_factory=dict)  # question -> consecutive unsolved phases

    def record(self, question_id: str, test: str, failed: bool) -> int:
        """Apply one event (+1 on a failure, -1 on a pass, dropped at 0); return the new frequency.

        Events on a blacklisted question are ignored: its tests are never replayed.
        """
        if question_id in self.blacklist:
            return 0
        entries = self.tests.get(question_id, {})
        count = entries.get(test, 0) + (1 if failed else -1)
        if count > 0:
            self.tests.setdefault(question_id, entries)[test] = count
            return count
        if test in entries:
            del entries[test]
            if not entries:
                del self.tests[question_id]
        return 0

    def update(self, question_id: str, events: Iterable[tuple[str, bool]]) -> None:
        """Apply (test, failed) events in order."""
        for test, failed in events:
            self.record(question_id, test, failed)

    def frequency(self, question_id: str, test: str) -> int:
        """A test's frequency (0 when it is not in the book)."""
        return self.tests.get(question_id, {}).get(test, 0)

    def top(self, question_id: str, k: int) -> list[str]:
        """The k most frequent tests of a question; among equals, the one that entered first."""
        entries = list(self.tests.get(question_id, {}).items())
        order = sorted(range(len(entries)), key=lambda i: (-entries[i][1], i))
        return [entries[i][0] for i in order[: max(k, 0)]]

    def size(self) -> int:
        """How many tests the book holds over all questions."""
        return sum(len(entries) for entries in self.tests.values())

    def ban(self, question_id: str, reason: str) -> None:
        """Blacklist a question (its tests leave the book: they will never be replayed)."""
        self.blacklist.setdefault(question_id, reason)
        self.tests.pop(question_id, None)
        self.misses.pop(question_id, None)

    def banned(self, question_id: str) -> bool:
        """True when the question is blacklisted."""
        return question_id in self.blacklist

    def note_attempt(self, question_id: str, solved: bool, patience: int) -> bool:
        """Count a code phase on a question; blacklist it after `patience` unsolved ones in a row.

        `solved`: some sample passed at least one test of its reward. `patience` 0 never
        blacklists. Returns True when this call blacklisted the question.
        """
        if solved:
            self.misses.pop(question_id, None)
            return False
        self.misses[question_id] = self.misses.get(question_id, 0) + 1
        if patience and self.misses[question_id] >= patience and not self.banned(question_id):
            self.ban(question_id, f"no sample passed a single test in {patience} code phases in a row")
            return True
        return False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; tests keep their entry order as [test, frequency] pairs."""
        return {"tests": {q: [[t, n] for t, n in entries.items()] for q, entries in self.tests.items()},
                "blacklist": dict(self.blacklist), "misses": dict(self.misses)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MistakeBook:
        """Inverse of `to_dict`."""
        tests = {q: {str(t): int(n) for t, n in pairs if int(n) > 0}
                 for q, pairs in data.get("tests", {}).items()}
        return cls(tests={q: e for q, e in tests.items() if e}, blacklist=dict(data.get("blacklist", {})),
                   misses={q: int(n) for q, n in data.get("misses", {}).items()})

    def save(self, path: str | Path) -> Path:
        """Write the book as JSON, atomically (a killed writer leaves the old file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> MistakeBook:
        """Read a saved book; an absent file is an empty book."""
        path = Path(path)
        if not path.is_file():
            return cls()
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path} is not a Mistake Book file ({exc}); delete it to start an empty book") from None
