from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import sqlite_utils

from beetsplug.cluster import store_schema
from beetsplug.cluster.errors import StoreError
from beetsplug.cluster.store import MIGRATIONS, Analysis, Store


def analysis(path, vec=None, **kw):
    base = {"size": 10, "mtime": 1.5, "backend": "handcrafted", "version": "1"}
    return Analysis(path=path, vector=None if vec is None else np.asarray(vec, np.float32),
                    **{**base, **kw})


def test_schema_version_and_wal(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    Store(tmp_path / "s.db").close()  # reopening migrates nothing twice


def test_newer_store_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path / "s.db")


def test_upsert_matrix_and_versions(tmp_path):
    store = Store(tmp_path / "s.db")
    store.save([analysis("/a", [1, 2]), analysis("/b", [3, 4]), analysis("/c", error="bad")])
    store.save([analysis("/a", [5, 6])])  # upsert replaces
    paths, vecs = store.arrays(["/c", "/b", "/a", "/x"], "handcrafted", "1")
    assert paths == ["/b", "/a"]
    np.testing.assert_array_equal(np.stack(vecs), [[3, 4], [5, 6]])
    assert store.arrays(["/a"], "handcrafted", "2") == ([], [])  # never mix versions
    assert {p: (r.size, r.mtime, r.version) for p, r in store.rows("handcrafted").items()} == {
        p: (10, 1.5, "1") for p in ("/a", "/b", "/c")}
    assert {p: r.error for p, r in store.rows("handcrafted").items() if r.error} == {"/c": "bad"}


def test_move_carries_vectors_and_assignments(tmp_path):
    store = Store(tmp_path / "s.db")
    store.save([analysis("/old", [1, 2])])
    run = store.save_run({"backend": "handcrafted", "version": "1", "k": 1},
                         [("/old", 1, 0.5, "C")])
    store.move_many([("/old", "/new")])
    assert store.arrays(["/new"], "handcrafted", "1")[0] == ["/new"]
    assert store.assignments(run) == {"/new": (1, 0.5, "C")}
    assert store.find_moved(10, 1.5, "handcrafted", "1") == ["/new"]
    assert store.remove_under("/new") == ["/new"]
    assert store.assignments(run) == {} and store.rows("handcrafted") == {}


def test_concurrent_writers_do_not_lock_each_other_out(tmp_path):
    a, b = Store(tmp_path / "s.db"), Store(tmp_path / "s.db")
    with a.db.atomic():  # a holds a write transaction while b reads (WAL)
        a.db.execute("INSERT INTO tracks (path, backend, version) VALUES ('/p', 'h', '1')")
        assert b.rows("h") == {}
    assert list(b.rows("h")) == ["/p"]


def test_a_version_1_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    store_schema._v1(sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO tracks (path, backend, version, size, mtime, vector, dim) "
                 "VALUES ('/a', 'handcrafted', '1', 10, 1.5, ?, 2)",
                 [np.array([1, 2], np.float32).tobytes()])
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.arrays(["/a"], "handcrafted", "1")[0] == ["/a"]  # nothing lost
    store.save([analysis("/b", [3, 4], fingerprint="f")])
    assert store.row("handcrafted", "/b").fingerprint == "f"


def test_a_version_2_store_gets_byte_paths_and_keeps_every_row(tmp_path):
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    db = sqlite_utils.Database(conn)
    store_schema._v1(db)
    store_schema._v2(db)
    conn.execute("PRAGMA user_version=2")
    conn.execute("INSERT INTO tracks (path, backend, version, size, mtime, vector, dim, "
                 "fingerprint) VALUES ('/m/é.mp3', 'handcrafted', '1', 10, 1.5, ?, 2, 'f')",
                 [np.array([1, 2], np.float32).tobytes()])
    conn.execute("INSERT INTO runs (id, backend, version, k) VALUES (1, 'handcrafted', '1', 1)")
    conn.execute("INSERT INTO assignments VALUES (1, '/m/é.mp3', 1, 0.5, 'C')")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 4
    for table in ("tracks", "assignments"):
        assert store.db.execute(f"SELECT typeof(path) FROM {table}").fetchall() == [("blob",)]
    assert store.arrays(["/m/é.mp3"], "handcrafted", "1")[0] == ["/m/é.mp3"]  # nothing lost
    row = store.row("handcrafted", "/m/é.mp3")
    assert (row.size, row.mtime, row.version, row.error, row.fingerprint) == (10, 1.5, "1", None,
                                                                         "f")
    assert store.assignments(1) == {"/m/é.mp3": (1, 0.5, "C")}
    store.save([analysis("/m/é.mp3", [3, 4])])  # an upsert finds the migrated row
    assert store.paths("handcrafted") == ["/m/é.mp3"]



def test_rows_the_old_ffmpeg_subprocess_decoded_are_analysed_again(tmp_path):
    """v4: M4A/Opus/... rows (no fingerprint: libsndfile never read them) were 3 dB louder."""
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    db = sqlite_utils.Database(conn)
    for migrate in MIGRATIONS[:3]:
        migrate(db)
    conn.execute("PRAGMA user_version=3")
    rows = {b"/m/a.m4a": None, b"/m/b.OPUS": None, b"/m/c.mp3": None, b"/m/d.ogg": None,
            b"/m/e.m4a": "f"}  # path -> fingerprint
    for p, print_ in rows.items():
        conn.execute("INSERT INTO tracks (path, backend, version, size, mtime, vector, dim, "
                     "fingerprint) VALUES (?, 'handcrafted', '1', 10, 1.5, ?, 2, ?)",
                     [p, np.array([1, 2], np.float32).tobytes(), print_])
    conn.commit()
    conn.close()
    store = Store(path)
    versions = {p: store.row("handcrafted", p).version for p in
                ("/m/a.m4a", "/m/b.OPUS", "/m/c.mp3", "/m/d.ogg", "/m/e.m4a")}
    assert versions == {"/m/a.m4a": "1+ffmpeg-cli", "/m/b.OPUS": "1+ffmpeg-cli",
                        "/m/c.mp3": "1", "/m/d.ogg": "1", "/m/e.m4a": "1"}

def test_a_name_that_is_not_utf8_is_stored_losslessly(tmp_path):
    import os

    odd = os.fsdecode(b"/m/d\xff\xfe/x\xe9.mp3")  # surrogate escapes, as os.fsdecode gives
    real = tmp_path / os.fsdecode(b"clip\xff.mp3")
    real.write_bytes(b"abc")
    store = Store(tmp_path / "s.db")
    store.save([analysis(odd, [1, 2], fingerprint="f"), analysis(str(real), [3, 4]),
                analysis("/m/dz.mp3", error="bad")])
    assert {p: (r.size, r.mtime) for p, r in store.rows("handcrafted").items()} == {
        p: (10, 1.5) for p in (odd, str(real), "/m/dz.mp3")}
    assert store.arrays([odd, "/m/dz.mp3"], "handcrafted", "1")[0] == [odd]
    assert store.rows("handcrafted")[odd].fingerprint == "f"
    assert store.row("handcrafted", odd).error is None
    assert set(store.find_moved(10, 1.5, "handcrafted", "1")) == {odd, str(real), "/m/dz.mp3"}
    store.restamp(str(real))
    assert store.row("handcrafted", str(real)).size == 3
    run = store.save_run({"backend": "handcrafted", "version": "1", "k": 1}, [(odd, 1, 0.5, "C")])
    assert store.assignment(run, odd) == (1, 0.5, "C")
    moved = os.fsdecode(b"/m/d\xff\xfe/y\xfe.mp3")
    store.move_many([(odd, moved)])
    assert store.assignments(run) == {moved: (1, 0.5, "C")}
    assert store.row("handcrafted", odd) is None
    # the folder's prefix is compared as bytes: `/m/d\xff\xfe` takes its files, not `/m/dz.mp3`
    assert store.remove_under(os.fsdecode(b"/m/d\xff\xfe")) == [moved]
    assert store.assignments(run) == {}
    assert set(store.paths("handcrafted")) == {"/m/dz.mp3", str(real)}
    store.close()


def test_two_processes_writing_at_once_wait_for_each_other(tmp_path):
    """Two runs at once (or a run beside the daemon): each write waits for the other's, none
    fails with "database is locked" (a transaction begun as a read and turned into a write
    fails at once in WAL mode when the other committed meanwhile)."""
    import multiprocessing

    path = tmp_path / "cluster.db"
    Store(path).close()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_write_runs, [(str(path), "a"), (str(path), "b")])
    assert results == ["ok", "ok"], results


def _write_runs(path: str, who: str) -> str:
    store = Store(path)
    try:
        for i in range(400):
            store.save_run({"backend": "handcrafted", "version": "v", "k": 2, "params": "{}"},
                           [(f"/m/{who}{i}.mp3", 0, 0.5, "01")])
            store.save([analysis(f"/m/{who}{i}.mp3")])
    except StoreError as exc:
        return str(exc)
    finally:
        store.close()
    return "ok"
