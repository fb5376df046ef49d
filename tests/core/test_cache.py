"""Request cache: zero repeated calls on rerun, counted hits and misses, concurrent writers."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from codistill.cache import CachedGenerator, CacheError, RequestCache, cache_key
from codistill.models.base import (
    Generation,
    GenerationFailed,
    Generator,
    Progress,
    Request,
    Sampling,
)


class Counting(Generator):
    """Echoes the prompt and counts how many requests reached it."""

    identity = "counting-v1"

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, requests: Sequence[Request], sampling: Sampling,
                 progress: Progress | None = None) -> list[Generation]:
        self.calls += len(requests)
        out = [Generation(texts=[f"echo:{r.prompt}:{sampling.seed}"] * sampling.n,
                          completion_tokens=[3] * sampling.n) for r in requests]
        if progress:
            progress(len(requests))
        return out


def test_rerun_makes_no_repeated_calls(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "c.sqlite")
    inner = Counting()
    gen = CachedGenerator(inner, cache, chunk_size=2)
    reqs = [Request.completion(f"p{i}") for i in range(5)]
    first = gen.generate(reqs, Sampling())
    assert inner.calls == 5 and cache.stats() == {"hits": 0, "misses": 5}
    again = CachedGenerator(inner, RequestCache(tmp_path / "c.sqlite")).generate(reqs, Sampling())
    assert inner.calls == 5
    assert [g.texts for g in again] == [g.texts for g in first]
    assert all(g.cached for g in again)


class DiesMidBatch(Counting):
    """Finishes the first `finish` requests of a batch, then fails like a killed server."""

    identity = "counting-v1"

    def __init__(self, finish: int) -> None:
        super().__init__()
        self.finish = finish

    def generate(self, requests: Sequence[Request], sampling: Sampling,
                 progress: Progress | None = None) -> list[Generation]:
        done = super().generate(requests[: self.finish], sampling)
        partial: list[Generation | None] = [*done, *[None] * (len(requests) - len(done))]
        raise GenerationFailed("server went away", partial)


def test_a_batch_that_fails_part_way_keeps_what_finished(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "c.sqlite")
    reqs = [Request.completion(f"p{i}") for i in range(5)]
    with pytest.raises(GenerationFailed):
        CachedGenerator(DiesMidBatch(finish=2), cache, chunk_size=8).generate(reqs, Sampling())
    assert len(cache) == 2
    healthy = Counting()
    got = CachedGenerator(healthy, cache).generate(reqs, Sampling())
    assert healthy.calls == 3  # only the three that never finished are asked again
    assert [g.cached for g in got] == [True, True, False, False, False]


def test_key_covers_model_request_and_sampling() -> None:
    r = Request.user("hi")
    base = cache_key("m", r, Sampling())
    assert base != cache_key("m2", r, Sampling())
    assert base != cache_key("m", Request.user("ho"), Sampling())
    assert base != cache_key("m", r, Sampling(seed=1))
    assert base != cache_key("m", r, Sampling(max_new_tokens=10))
    assert base != cache_key("m", r, Sampling(stop=("\n",)))
    assert base == cache_key("m", Request.user("hi"), Sampling())


def test_factory_is_not_called_when_everything_is_cached(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "c.sqlite")
    CachedGenerator(Counting(), cache).generate([Request.completion("a")], Sampling())
    made = []
    lazy = CachedGenerator(lambda: made.append(1) or Counting(), cache, identity="counting-v1")
    assert lazy.generate([Request.completion("a")], Sampling())[0].text == "echo:a:0"
    assert made == []


def test_a_closed_lazy_generator_loads_again_when_next_needed(tmp_path: Path) -> None:
    # The run frees the teacher before training and expects it back for the curriculum.
    made: list[Counting] = []

    def factory() -> Counting:
        made.append(Counting())
        return made[-1]

    lazy = CachedGenerator(factory, RequestCache(tmp_path / "c.sqlite"), identity="counting-v1")
    lazy.generate([Request.completion("a")], Sampling())
    lazy.close()
    lazy.close()  # twice is harmless
    assert lazy.generate([Request.completion("a")], Sampling())[0].cached and len(made) == 1
    assert lazy.generate([Request.completion("b")], Sampling())[0].text == "echo:b:0"
    assert len(made) == 2 and made[1].calls == 1


def test_concurrent_threads(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "c.sqlite")
    gen = CachedGenerator(Counting(), cache)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            gen.generate([Request.completion(f"t{t}-{i}") for i in range(50)], Sampling())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) == 300


WRITER = """
import sys
from codistill.cache import RequestCache
from codistill.models.base import Generation
cache = RequestCache(sys.argv[1])
for i in range(200):
    cache.put(f"{sys.argv[2]}-{i}", "m", Generation(texts=[str(i)]))
    cache.put(f"shared-{i}", "m", Generation(texts=[str(i)]))
"""


def test_concurrent_processes(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    RequestCache(path)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"p{i}"]) for i in range(4)]
    assert all(p.wait() == 0 for p in procs)
    cache = RequestCache(path)
    assert len(cache) == 4 * 200 + 200
    assert cache.get("p3-199").text == "199"


def test_a_cache_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    where = tmp_path / "a-folder"
    where.mkdir()  # not a file SQLite can open
    with pytest.raises(CacheError, match=f"request cache {where}: unable to open"):
        RequestCache(where)
