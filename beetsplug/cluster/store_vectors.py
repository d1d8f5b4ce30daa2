"""The store's bulk reads of vectors, window matrices and tag probabilities by path: one pass
over the table for many paths, lookups by path (the primary key) for a few. Store inherits
them; paths go in and out as `str` and are the file system's bytes in SQLite (store.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from .errors import StoreError
from .log import log
from .output.paths import readable

SCAN_ABOVE = 2_000  # paths: above this many, one pass over the table beats lookups by path


class VectorReads:
    def vectors(self, paths: list[str], backend: str, version: str) -> tuple[list[str],
                                                                            np.ndarray]:
        """The stored vectors of those paths that have one, in the given order, as one
        (n, dim) float32 matrix: one buffer and one np.frombuffer for all of them."""
        sql = ("SELECT path, vector, dim FROM tracks WHERE backend = ? AND version = ? "
               "AND error IS NULL AND vector IS NOT NULL")
        many = len(paths) > SCAN_ABOVE  # every row at once: no per-row filtering in Python
        rows = (self.db.conn.execute(sql, [backend, version]).fetchall() if many else
                list(self._select(sql, [backend, version], paths)))
        rows = [r for r in rows if _intact(r[0], r[1], r[2], "vector")]
        dims = {dim for _, _, dim in rows}
        if len(dims) > 1:
            raise StoreError(f"{self.path} holds {backend} {version} vectors of "
                             f"{len(dims)} sizes; `beet cluster --force` re-analyses them")
        at = {p if isinstance(p, bytes) else _enc(p): i for i, (p, _, _) in enumerate(rows)}
        found = [at.get(p) for p in map(os.fsencode, paths)]
        kept = [p for p, i in zip(paths, found) if i is not None]
        X = np.frombuffer(b"".join(blob for _, blob, _ in rows), dtype=np.float32)
        X = X.reshape(len(rows), dims.pop() if dims else 0)
        return kept, X[[i for i in found if i is not None]]

    def matrix(self, paths: list[str], backend: str, version: str,
               windows: bool = False) -> tuple[list[str], list[np.ndarray]]:
        """Stored vectors (or window matrices) for those paths that have one, in the given order.
        A raw cursor + np.frombuffer: row dicts are ~3x slower on big libraries."""
        column = "windows" if windows else "vector"
        found: dict[str, np.ndarray] = {}
        sql = (f"SELECT path, {column}, n_windows, dim FROM tracks WHERE backend = ? "
               f"AND version = ? AND error IS NULL AND {column} IS NOT NULL")
        for path, blob, n_windows, dim in self._select(sql, [backend, version], paths):
            if not _intact(path, blob, n_windows if windows else dim, column, rows=windows):
                continue
            arr = np.frombuffer(blob, dtype=np.float32)
            # by the window count: `dim` is the track vector's, twice a window's when the
            # backend pools mean and spread
            found[_dec(path)] = arr.reshape(n_windows, -1) if windows else arr
        kept = [p for p in paths if p in found]
        return kept, [found[p] for p in kept]

    def tags(self, paths: list[str], backend: str, version: str) -> dict[str, np.ndarray]:
        sql = "SELECT path, tags FROM tracks WHERE backend = ? AND version = ? AND tags IS NOT NULL"
        return {_dec(p): np.frombuffer(blob, dtype=np.float32)
                for p, blob in self._select(sql, [backend, version], paths)
                if _intact(p, blob, None, "tag list")}

    def _select(self, sql: str, params: list, paths: list[str] | None) -> Iterator[tuple]:
        """`sql`'s rows (path first), of `paths` only. Many paths: one pass over the backend's
        rows, filtered here (reading 100k rows once beats 200 lookups of 500 paths); a few:
        looked up by path, which is the primary key."""
        if paths is None or len(paths) > SCAN_ABOVE:
            wanted = None if paths is None else set(map(_enc, paths))
            for row in self.db.conn.execute(sql, params):
                path = row[0] if isinstance(row[0], bytes) else _enc(row[0])  # TEXT: v2 rows
                if wanted is None or path in wanted:
                    yield row
            return
        # `+`: by path; on the (backend, version) index SQLite would scan the backend's rows
        sql = sql.replace("backend = ?", "+backend = ?").replace("version = ?", "+version = ?")
        for chunk in _chunks(paths, 500):
            marks = ",".join("?" * len(chunk))
            yield from self.db.conn.execute(f"{sql} AND path IN ({marks})",
                                            [*params, *map(_enc, chunk)])


def _intact(path: bytes | str, blob: bytes, count: int | None, what: str, *,
            rows: bool = False) -> bool:
    """Whether a stored blob is as long as its row says: `count` floats, or `count` rows of
    floats (`rows`), or any whole number of floats (None). A damaged one is named and skipped;
    the freshness rule (store.INTACT) has its file analysed again on the next run."""
    floats, whole = divmod(len(blob), 4)
    if rows:
        good = not whole and bool(count) and floats % count == 0 and floats > 0
    else:
        good = not whole and (count is None or floats == count)
    if not good:
        log.warning("{}: its stored {} is damaged ({} bytes); skipped, and analysed again by "
                    "the next `beet cluster`", readable(_dec(path)), what, len(blob))
    return good


def _enc(path: str) -> bytes:
    return os.fsencode(path)


def _dec(path: bytes | str) -> str:
    # str too: rows a version-2 store wrote are migrated, but a test may insert TEXT directly
    return os.fsdecode(path)


def _chunks(items: list[str], n: int) -> Iterator[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
