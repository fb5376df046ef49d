"""One request cache for every model call: SQLite in WAL mode, safe across threads and processes.

Keyed by the generator's identity, the request (messages or prompt) and the sampling parameters
(seed included), so a rerun or a resumed run repeats no model call.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from codistill.errors import UserError
from codistill.models.base import (
    Generation,
    GenerationFailed,
    Generator,
    Progress,
    Request,
    Sampling,
)


def cache_key(identity: str, request: Request, sampling: Sampling) -> str:
    """Hex digest identifying one (model, request, sampling) triple."""
    blob = json.dumps(
        {"model": identity, "request": request.to_dict(), "sampling": sampling.to_dict()},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def value_key(kind: str, identity: str, request: dict[str, Any]) -> str:
    """Hex digest for a non-generation value: `kind` keeps it apart from generation keys."""
    blob = json.dumps({"kind": kind, "model": identity, "request": request}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class CacheError(UserError, RuntimeError):
    """The cache file cannot be opened, read or written (a full disk, a read-only folder)."""


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """SQLite's errors say what failed but not where: add the cache file and what to do."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise CacheError(f"request cache {path}: {exc}; free space or make it writable, or set "
                         "`cache` in the config to another file") from None


class RequestCache:
    """Persistent map from cache key to Generation, shared by threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        with _naming(self.path):
            conn = self._conn()
            conn.execute(
                "CREATE TABLE IF NOT EXISTS generations ("
                " key TEXT PRIMARY KEY, model TEXT NOT NULL, value TEXT NOT NULL, created REAL)"
            )
            conn.commit()

    def _conn(self) -> sqlite3.Connection:
        # One connection per thread: sqlite3 connections must not cross threads.
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> Generation | None:
        """The cached generation for `key`, counting a hit or a miss."""
        with _naming(self.path):
            row = self._conn().execute("SELECT value FROM generations WHERE key = ?",
                                       (key,)).fetchone()
        with self._count_lock:
            if row is None:
                self.misses += 1
            else:
                self.hits += 1
        if row is None:
            return None
        gen = Generation.from_dict(json.loads(row[0]))
        gen.cached = True
        gen.seconds = 0.0
        return gen

    def put(self, key: str, model: str, generation: Generation) -> None:
        """Store one generation (first writer wins; identical keys mean identical requests)."""
        data = generation.to_dict()
        data["cached"] = False
        with _naming(self.path):
            conn = self._conn()
            try:
                conn.execute(
                    "INSERT OR IGNORE INTO generations (key, model, value, created) "
                    "VALUES (?, ?, ?, ?)",
                    (key, model, json.dumps(data, ensure_ascii=False), time.time()),
                )
                conn.commit()
            except sqlite3.DatabaseError:
                with suppress(sqlite3.Error):
                    conn.rollback()  # else the failed transaction stays open on this connection
                raise

    def get_json(self, key: str) -> Any:
        """A cached value other than a Generation (a teacher's scores, an endpoint's probe), or None."""
        with _naming(self.path):
            row = self._conn().execute("SELECT value FROM generations WHERE key = ?", (key,)).fetchone()
        with self._count_lock:
            if row is None:
                self.misses += 1
            else:
                self.hits += 1
        return None if row is None else json.loads(row[0])

    def put_json(self, key: str, model: str, value: Any) -> None:
        """Store a JSON value under `key` (first writer wins); keys come from `value_key`."""
        with _naming(self.path):
            conn = self._conn()
            try:
                conn.execute("INSERT OR IGNORE INTO generations (key, model, value, created) VALUES (?, ?, ?, ?)",
                             (key, model, json.dumps(value, ensure_ascii=False), time.time()))
                conn.commit()
            except sqlite3.DatabaseError:
                with suppress(sqlite3.Error):
                    conn.rollback()
                raise

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def stats(self) -> dict[str, int]:
        """Hits and misses counted by this object."""
        return {"hits": self.hits, "misses": self.misses}

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class CachedGenerator(Generator):
    """Wraps a generator: answers from the cache, generates only what is missing.

    `inner` may be a zero-argument factory, so a fully cached rerun never loads the model.
    Misses are generated in chunks and stored after each chunk, so a killed run keeps them.
    """

    def __init__(self, inner: Generator | Callable[[], Generator], cache: RequestCache, *,
                 identity: str | None = None, chunk_size: int = 32) -> None:
        if isinstance(inner, Generator):
            self._inner: Generator | None = inner
            self._factory: Callable[[], Generator] | None = None
            self.identity = identity or inner.identity
        else:
            if not identity:
                raise ValueError("a generator factory needs an explicit identity")
            self._inner, self._factory = None, inner
            self.identity = identity
        if not self.identity:
            raise ValueError("cannot cache a generator without an identity")
        self.cache = cache
        self.chunk_size = chunk_size

    @property
    def inner(self) -> Generator:
        """The wrapped generator, created on first use."""
        if self._inner is None:
            assert self._factory is not None
            self._inner = self._factory()
        return self._inner

    def generate(self, requests: Sequence[Request], sampling: Sampling,
                 progress: Progress | None = None) -> list[Generation]:
        """Cached results where present; the rest from the inner generator."""
        keys = [cache_key(self.identity, r, sampling) for r in requests]
        results: list[Generation | None] = [self.cache.get(k) for k in keys]
        hits = sum(r is not None for r in results)
        if progress and hits:
            progress(hits)
        missing = [i for i, r in enumerate(results) if r is None]
        for start in range(0, len(missing), self.chunk_size):
            chunk = missing[start : start + self.chunk_size]
            try:
                produced = self.inner.generate([requests[i] for i in chunk], sampling, progress)
            except GenerationFailed as exc:
                # A server killed mid-batch: keep what finished, so the rerun asks only the rest.
                for i, gen in zip(chunk, exc.partial, strict=False):
                    if gen is not None:
                        self.cache.put(keys[i], self.identity, gen)
                raise
            for i, gen in zip(chunk, produced, strict=True):
                self.cache.put(keys[i], self.identity, gen)
                results[i] = gen
        return [r for r in results if r is not None]

    def close(self) -> None:
        """Close the inner generator if it was created; a factory-made one loads again on use."""
        if self._inner is not None:
            self._inner.close()
            if self._factory is not None:
                self._inner = None
