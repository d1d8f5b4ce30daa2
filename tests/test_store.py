from __future__ import annotations

import sqlite3

import numpy as np
import pytest

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
    paths, vecs = store.matrix(["/c", "/b", "/a", "/x"], "handcrafted", "1")
    assert paths == ["/b", "/a"]
    np.testing.assert_array_equal(np.stack(vecs), [[3, 4], [5, 6]])
    assert store.matrix(["/a"], "handcrafted", "2") == ([], [])  # never mix versions
    assert store.up_to_date("handcrafted", "1") == {p: (10, 1.5) for p in ("/a", "/b", "/c")}
    assert store.failures("handcrafted") == [("/c", "bad")]


def test_move_carries_vectors_and_assignments(tmp_path):
    store = Store(tmp_path / "s.db")
    store.save([analysis("/old", [1, 2])])
    run = store.save_run({"backend": "handcrafted", "version": "1", "k": 1},
                         [("/old", 1, 0.5, "C")])
    store.move("/old", "/new")
    assert store.matrix(["/new"], "handcrafted", "1")[0] == ["/new"]
    assert store.assignments(run) == {"/new": (1, 0.5, "C")}
    assert store.find_moved(10, 1.5, "handcrafted", "1") == ["/new"]
    assert store.remove_under("/new") == ["/new"]
    assert store.assignments(run) == {} and store.up_to_date("handcrafted", "1") == {}


def test_concurrent_writers_do_not_lock_each_other_out(tmp_path):
    a, b = Store(tmp_path / "s.db"), Store(tmp_path / "s.db")
    with a.db.atomic():  # a holds a write transaction while b reads (WAL)
        a.db.execute("INSERT INTO tracks (path, backend, version) VALUES ('/p', 'h', '1')")
        assert b.up_to_date("h", "1") == {}
    assert list(b.up_to_date("h", "1")) == ["/p"]


def test_a_version_1_store_is_migrated_in_place(tmp_path):
    from beetsplug.cluster import store as store_mod

    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    store_mod._v1(store_mod.sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO tracks (path, backend, version, size, mtime, vector, dim) "
                 "VALUES ('/a', 'handcrafted', '1', 10, 1.5, ?, 2)",
                 [np.array([1, 2], np.float32).tobytes()])
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 2
    assert store.matrix(["/a"], "handcrafted", "1")[0] == ["/a"]  # nothing lost
    store.save([analysis("/b", [3, 4], fingerprint="f")])
    assert store.fingerprints("handcrafted", "1") == {"/b": "f"}
