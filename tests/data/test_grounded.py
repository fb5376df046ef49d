"""Questions grounded in real code: harvesting functions without running them, and the drafts."""

from __future__ import annotations

from pathlib import Path

import pytest

from codistill.data.grounded import (
    GroundingError,
    draft_grounded,
    grounded_request,
    harvest,
    slot_order,
)
from codistill.data.synth import StubError
from codistill.errors import UserError
from codistill.models.fake import prompt_text

USER_CODE = '''
import re
import os
from collections import Counter

LIMIT = 3
open("{marker}", "w").write("imported")  # would run only if the file were imported


def count_words(text):
    """How many times each lowercase word occurs."""
    words = re.findall(r"[a-z]+", text.lower())
    return dict(Counter(words))


def over_limit(values):
    """How many values exceed the module's limit."""
    kept = [v for v in values if v > LIMIT]
    return len(kept)


def home_file(name):
    """The path of a file in the user's home folder."""
    base = os.path.expanduser("~")
    return base + "/" + name


def dump(values):
    """Write the values to a file and return how many there were."""
    with open("x.txt", "w") as fh:
        fh.write(str(values))
    return len(values)


def home(name):
    """The path of a file in a folder of the user's home."""
    import os
    return os.path.join(os.path.expanduser("~"), name, "x")


def lt(a, b):
    "Same as a < b."
    return a < b


def _twice(values):
    """A private helper: the sum of the values, twice."""
    total = sum(values)
    return total * 2


class Stack:
    def __init__(self):
        self.items = []

    def push_all(self, values):
        """Push every value onto the stack and return its new size."""
        for value in values:
            self.items.append(value)
        return len(self.items)
'''


def _project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    marker = tmp_path / "marker"
    (folder / "tools.py").write_text(USER_CODE.replace("{marker}", str(marker)))
    (folder / "broken.py").write_text("def oops(:\n    pass\n")
    return folder


def test_harvest_reads_functions_without_importing_them(tmp_path: Path) -> None:
    found = {f.name: f for f in harvest([str(_project(tmp_path))])}
    assert not (tmp_path / "marker").exists()  # the file's top level never ran
    # Self-contained, safe imports only: its own behaviour can settle tests; the imports travel.
    words = found["count_words"]
    assert words.runnable and words.imports == ("from collections import Counter", "import re")
    assert words.source.startswith("from collections import Counter\nimport re\n\ndef count_words(text):")
    # Module globals, unsafe modules or calls, trivial bodies and methods only inspire a question.
    for name in ("over_limit", "home_file", "home", "dump", "push_all"):
        assert not found[name].runnable, name
    assert "lt" not in found  # trivial, and its docstring is too short to inspire anything
    assert found["push_all"].code.startswith("def push_all(self, values):")  # dedented method
    assert found["push_all"].summary == "Push every value onto the stack and return its new size."
    assert "__init__" not in found and "_twice" not in found  # private: plumbing, not exercises

    assert found["count_words"].origin.endswith("tools.py:count_words")


def test_harvest_reads_installed_modules_and_says_what_it_cannot_read(tmp_path: Path) -> None:
    found = harvest(["colorsys"])
    assert any(f.name == "rgb_to_hsv" and f.runnable for f in found)
    with pytest.raises(GroundingError, match="neither a path nor an installed module") as bad:
        harvest(["no_such_module_anywhere"])
    assert isinstance(bad.value, UserError)  # commands print it in one line, no traceback
    with pytest.raises(GroundingError, match="compiled modules cannot be read"):
        harvest(["math"])
    with pytest.raises(GroundingError, match="no grounded function qualified"):
        slot_order(harvest([str(tmp_path)]), seed=0)  # an empty folder


def test_slots_visit_every_function_before_repeating(tmp_path: Path) -> None:
    """Each seed has its own order; a function comes back only after all the others."""
    sources = ["colorsys", str(_project(tmp_path))]
    functions = harvest(sources)
    order = [f.origin for f in slot_order(functions, seed=1)]
    assert sorted(order) == sorted(f.origin for f in functions)  # each one once per round
    assert order == [f.origin for f in slot_order(list(reversed(functions)), seed=1)]
    assert order != [f.origin for f in slot_order(functions, seed=2)]
    from codistill.stages.questions import grounded_writer

    writer = grounded_writer(sources, seed=1)
    first = slot_order(functions, seed=1)[0]
    assert f"`{first.origin.rsplit('/', 1)[-1]}`" in prompt_text(writer.request(len(order), 1)) \
        or first.code in prompt_text(writer.request(len(order), 1))  # slot len(order) wraps round


REPLY = '''```python
def count_words(text: str) -> dict:
    """Count how many times each lowercase word occurs in the text; an empty text gives {}.

    >>> count_words("a b a")
    {'a': 1}
    >>> count_words("")
    {}
    >>> count_words("Hi hi")
    {'hi': 2}
    """
    ...
```'''


def test_a_runnable_function_asks_for_its_behaviour_and_settles_with_its_own_code(tmp_path: Path) -> None:
    functions = {f.name: f for f in harvest([str(_project(tmp_path))])}
    words = functions["count_words"]
    asked = prompt_text(grounded_request(words, 0))
    assert "def count_words(text):" in asked and "same name `count_words`" in asked
    draft = draft_grounded(REPLY, words, "grounded-0-0")
    assert draft.source == "grounded" and draft.entry_point == "count_words"
    assert draft.meta["writer_code"] == words.source  # the original runs, not the teacher's claim
    assert draft.meta["tests_by"] == "original" and draft.meta["grounded_in"] == words.origin
    assert draft.meta["calls"] == ['count_words("a b a")', 'count_words("")', 'count_words("Hi hi")']
    assert "{'a': 1}" not in draft.prompt  # claimed outputs are never trusted
    with pytest.raises(StubError, match="renamed"):
        draft_grounded(REPLY.replace("count_words", "tally"), words, "grounded-0-1")
    # Other code only inspires a new exercise, written and settled like a synth question.
    stack = functions["push_all"]
    inspired = prompt_text(grounded_request(stack, 1))
    assert "tools.py:push_all" in inspired and "return its new size" in inspired
    assert "self.items" not in inspired  # its code is not shown: a small teacher copies it
    draft = draft_grounded(REPLY.replace("    ...", "    return {}"), stack, "grounded-0-2")
    assert draft.meta["tests_by"] == "agreement" and "return {}" in draft.meta["writer_code"]
