"""The SQLite embedding store every part shares (sqlite-utils, WAL, migrations).

One row per (path, backend): the file's size+mtime, the backend version, the vector or the error.
The store alone answers "does this file need analysis?".

Paths are stored as the file system's bytes (BLOB): a name that is not valid UTF-8 (an old
Windows rip) has no TEXT spelling. The API takes and returns the core's `str` paths
(`os.fsdecode`, surrogate escapes), so the conversion lives here and nowhere else.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import sqlite_utils

from .errors import StoreError, sqlite_errors, store_error
from .freshness import Row
from .log import log
from .output.paths import readable
from .records import Analysis, Assignment, RecordedRun
from .store_schema import MIGRATIONS

BUSY_TIMEOUT_MS = 30_000
# A row's blobs are as long as its counts say (float32): else freshness has it analysed again.
# length() of a BLOB reads only the record header.
INTACT = ("(error IS NOT NULL OR (vector IS NOT NULL AND length(vector) = 4 * dim AND "
          "(windows IS NULL OR (n_windows > 0 AND length(windows) % (4 * n_windows) = 0))))")
SCAN_ABOVE = 2_000  # paths: above this many, one pass over the table beats lookups by path
TABLES = ("tracks", "runs", "assignments", "backend_tags")


@sqlite_errors
class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _to_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            self.db = sqlite_utils.Database(conn)
            self._migrate()
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from exc
        except OSError as exc:
            raise StoreError(f"cannot open the embedding store {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.conn.close()

    def _migrate(self) -> None:
        if self._version() != len(MIGRATIONS):
            # The write lock first (BEGIN IMMEDIATE), then the version read again: a read that
            # turns into a write fails at once in WAL mode when another first run wrote
            # meanwhile, whatever the busy timeout; this waits for it like every other write.
            with self._write_lock():
                current = self._version()
                if current > len(MIGRATIONS):
                    raise StoreError(f"{self.path} was written by a newer beets-cluster "
                                     f"(schema {current}); upgrade the plugin")
                if current == 0 and self._tables():
                    raise self._damaged("tables but no schema version")
                for step in MIGRATIONS[current:]:
                    step(self.db)
                self.db.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
        tables = self._tables()
        missing = [t for t in TABLES if t not in tables]
        if missing:
            raise self._damaged(f"no table {', '.join(missing)}")

    def _version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _tables(self) -> set[str]:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {r[0] for r in self.db.execute(sql)}

    def _damaged(self, what: str) -> StoreError:
        return StoreError(f"the embedding store {self.path} is damaged ({what}): move it aside "
                          "and run again to re-analyse")

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Every write's transaction. BEGIN IMMEDIATE takes the write lock first, waiting up to
        the busy timeout for other writers. A plain BEGIN (sqlite-utils' `atomic`) starts as a
        read (sqlite-utils reads the table's columns before an insert), and in WAL mode a read
        that turns into a write fails at once with "database is locked" when another process
        committed meanwhile: two `beet cluster` runs at once, or one beside the daemon."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.conn.rollback()
            raise
        self.db.execute("COMMIT")

    # -- analyses -----------------------------------------------------------------------------

    _ROW = ("SELECT path, size, mtime, version, error, fingerprint, windows IS NOT NULL, "
            f"{INTACT} FROM tracks WHERE backend = ?")

    def rows(self, backend: str, paths: list[str] | None = None) -> dict[str, Row]:
        """The rows the freshness rule reads for a whole run: every file's for this backend,
        or those of `paths` (a few seeds: read by path, not the whole table)."""
        found = self._select(self._ROW, [backend], paths)
        return {_dec(p): Row(*rest) for p, *rest in found}

    def row(self, backend: str, path: str) -> Row | None:
        """One file's row: the same rule, for one file the daemon saw change."""
        found = self.db.execute(self._ROW + " AND path = ?", [backend, _enc(path)]).fetchone()
        return Row(*found[1:]) if found else None

    def save(self, analyses: Iterable[Analysis]) -> None:
        """Upsert a batch in one transaction (so an interrupted run keeps every finished batch)."""
        now = time.time()
        rows = [{
            "path": _enc(a.path), "backend": a.backend, "version": a.version, "size": a.size,
            "mtime": a.mtime, "duration": a.duration, "item_id": a.item_id,
            "n_windows": None if a.windows is None else len(a.windows),
            "dim": None if a.vector is None else int(a.vector.shape[-1]),
            "vector": _blob(a.vector), "windows": _blob(a.windows), "tags": _blob(a.tags),
            "error": a.error, "analysed_at": now, "fingerprint": a.fingerprint,
        } for a in analyses]
        if rows:
            with self._write_lock():
                self.db["tracks"].upsert_all(rows, pk=("path", "backend"))

    def failed(self, backend: str) -> set[str]:
        """The files whose analysis failed (as they were then): few, so read whole."""
        rows = self.db.execute("SELECT path FROM tracks WHERE backend = ? AND error IS NOT NULL",
                               [backend])
        return {_dec(r[0]) for r in rows}

    def durations(self, backend: str) -> list[float]:
        sql = "SELECT duration FROM tracks WHERE backend = ? AND duration > 0"
        return [r[0] for r in self.db.execute(sql, [backend])]

    def durations_of(self, backend: str, paths: list[str]) -> dict[str, float]:
        """The decoded length of these files (a playlist line for a file beets does not know)."""
        sql = "SELECT path, duration FROM tracks WHERE backend = ? AND duration > 0"
        return {_dec(p): d for p, d in self._select(sql, [backend], paths)}

    def stamps(self, backend: str, paths: list[str]) -> dict[str, tuple]:
        """Each path's analysis as a stamp, without its blobs: (version, when analysed, no
        error, has a vector, has windows). A re-analysis changes it; our own tag write (a
        restamp) does not. What a run's inputs (run_inputs.py) are made of."""
        sql = ("SELECT path, version, analysed_at, error IS NULL, vector IS NOT NULL, "
               "windows IS NOT NULL FROM tracks WHERE backend = ?")
        return {_dec(p): tuple(rest) for p, *rest in self._select(sql, [backend], paths)}

    def find_moved(self, size: int, mtime: float, backend: str, version: str) -> list[str]:
        """Paths of current rows for a file with this size and mtime (a rename keeps both)."""
        rows = self.db.execute(
            "SELECT path FROM tracks WHERE size = ? AND mtime = ? AND backend = ? AND version = ?",
            [size, mtime, backend, version])
        return [_dec(r[0]) for r in rows]

    def restamp(self, path: str) -> None:
        """The file changed only by our own tag write: keep its analyses valid."""
        st = os.stat(path)
        with self._write_lock():
            self.db.execute("UPDATE tracks SET size = ?, mtime = ? WHERE path = ?",
                            [st.st_size, st.st_mtime, _enc(path)])

    def paths(self, backend: str) -> list[str]:
        return [_dec(r[0]) for r in self.db.execute("SELECT path FROM tracks WHERE backend = ? "
                                                    "ORDER BY path", [backend])]

    def move_many(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Carry files' rows (every backend) and assignments to their new paths, as one rename:
        a swap (a->b, b->a) keeps both vectors. Every old row goes to a name no file can have
        (NUL) first, then to its new path."""
        pairs = [(_enc(old), _enc(new)) for old, new in pairs]
        with self._write_lock():
            for i, (old, _) in enumerate(pairs):
                for table in ("tracks", "assignments"):
                    self.db.execute(f"UPDATE {table} SET path = ? WHERE path = ?",
                                    [b"\0moving\0%d" % i, old])
            for i, (_, new) in enumerate(pairs):
                for table in ("tracks", "assignments"):
                    self.db.execute(f"DELETE FROM {table} WHERE path = ?", [new])
                    self.db.execute(f"UPDATE {table} SET path = ? WHERE path = ?",
                                    [new, b"\0moving\0%d" % i])

    def remove_under(self, prefix: str) -> list[str]:
        """Forget the file at `prefix` and every file under it (a deleted folder); returns the
        paths removed. A plain prefix compare of the bytes (substr of a BLOB counts bytes), so
        `a/b` does not take `a/bc`."""
        folder = _enc(prefix.rstrip(os.sep) + os.sep)
        where = "path = ? OR substr(path, 1, ?) = ?"
        args = [_enc(prefix), len(folder), folder]
        with self._write_lock():
            gone = sorted({_dec(r[0]) for r in self.db.execute(
                f"SELECT path FROM tracks WHERE {where} UNION "
                f"SELECT path FROM assignments WHERE {where}", args + args)})
            self.db.execute(f"DELETE FROM tracks WHERE {where}", args)
            self.db.execute(f"DELETE FROM assignments WHERE {where}", args)
        return gone

    def set_tag_names(self, backend: str, version: str, names: tuple[str, ...]) -> None:
        with self._write_lock():
            self.db["backend_tags"].upsert({"backend": backend, "version": version,
                                            "names": json.dumps(list(names))},
                                           pk=("backend", "version"))

    def tag_names(self, backend: str, version: str) -> tuple[str, ...]:
        row = self.db.execute("SELECT names FROM backend_tags WHERE backend = ? AND version = ?",
                              [backend, version]).fetchone()
        return tuple(json.loads(row[0])) if row else ()

    # -- vectors, window matrices and tag probabilities in bulk: one pass over the table for
    # many paths, lookups by path (the primary key) for a few

    def vector_matrix(self, paths: list[str], backend: str,
                      version: str) -> tuple[list[str], np.ndarray]:
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

    def arrays(self, paths: list[str], backend: str, version: str,
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

    # -- clustering runs ----------------------------------------------------------------------

    def save_run(self, run: dict, assignments: Iterable[tuple[str, int, float, str]]) -> int:
        """Record a run and each track's cluster, distance and playlist; returns the run id."""
        with self._write_lock():
            table = self.db["runs"]
            table.insert({**run, "created": time.time()})
            run_id = table.last_pk
            self.db.conn.executemany(  # plain executemany: 100k rows in a fraction of a second
                "INSERT INTO assignments (run_id, path, cluster, distance, playlist) "
                "VALUES (?, ?, ?, ?, ?)",
                ((run_id, _enc(p), int(c), float(d), n) for p, c, d, n in assignments))
            # Only the last run's members are ever read (the next run numbers its clusters by
            # them): earlier runs keep their record, not 100k rows each.
            self.db.execute("DELETE FROM assignments WHERE run_id IN (SELECT id FROM runs "
                            "WHERE backend = ? AND id < ?)", [run["backend"], run_id])
        return run_id

    def last_run(self, backend: str | None = None) -> RecordedRun | None:
        where, args = ("WHERE backend = ?", [backend]) if backend else ("", [])
        rows = list(self.db.query(f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT 1", args))
        return RecordedRun.from_row(rows[0]) if rows else None

    def assignments(self, run_id: int) -> dict[str, Assignment]:
        rows = self.db.execute("SELECT path, cluster, distance, playlist FROM assignments "
                               "WHERE run_id = ?", [run_id])
        return {_dec(p): Assignment(c, d, n) for p, c, d, n in rows}

    def assigned(self, run_id: int, paths: list[str]) -> set[str]:
        """Those of `paths` that the run holds (many: one pass over the run's rows)."""
        sql = "SELECT path FROM assignments WHERE run_id = ?"
        return {_dec(p) for (p,) in self._select(sql, [run_id], paths)}

    def assignment(self, run_id: int, path: str) -> Assignment | None:
        row = self.db.execute("SELECT cluster, distance, playlist FROM assignments "
                              "WHERE run_id = ? AND path = ?", [run_id, _enc(path)]).fetchone()
        return Assignment(*row) if row else None

    def unassign(self, run_id: int, paths: list[str]) -> None:
        """These files are in no playlist of the run (until placed again)."""
        with self._write_lock():
            self.db.conn.executemany("DELETE FROM assignments WHERE run_id = ? AND path = ?",
                                     [(run_id, _enc(p)) for p in paths])

    def assign(self, run_id: int, path: str, to: Assignment) -> None:
        with self._write_lock():
            self.db["assignments"].upsert({"run_id": run_id, "path": _enc(path),
                                           "cluster": to.cluster, "distance": to.distance,
                                           "playlist": to.playlist}, pk=("run_id", "path"))


def _blob(a: np.ndarray | None) -> bytes | None:
    return None if a is None else np.ascontiguousarray(a, dtype=np.float32).tobytes()

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


def _to_wal(conn: sqlite3.Connection) -> None:
    """WAL mode, waiting like every other write: on a new file another first run may hold the
    lock the switch needs, and SQLite answers "database is locked" at once there instead of
    calling the busy handler (seen with three first runs at once)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
