"""A run picks its sandbox backend once; every batch inside `use_backend` runs there."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from codistill.sandbox import Limits, LocalBackend, Program, Verdict, run_all, use_backend


class Counting(LocalBackend):
    """The local backend, counting the programs it was given."""

    def __init__(self) -> None:
        super().__init__(1)
        self.seen = 0

    def run_many(self, programs: Iterable[Program], limits: Limits) -> Iterator[Verdict]:
        programs = list(programs)
        self.seen += len(programs)
        yield from super().run_many(programs, limits)


def test_batches_use_the_chosen_backend() -> None:
    backend = Counting()
    prog = Program("python", "print(1)\n", id="a")
    with use_backend(backend):
        assert run_all([prog, prog.with_(id="b")])[1].passed
        with use_backend(Counting()) as inner:
            run_all([prog])
        assert inner.seen == 1
        run_all([prog])
    run_all([prog])  # outside: back to a fresh local backend
    assert backend.seen == 3
