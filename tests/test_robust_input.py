"""Faults a user meets by accident, through the real `beet` command and the real daemon: a
damaged store, two first runs at once, an option out of its range, a file or folder without
read permission. Each says one line and loses nothing (issue 18, items 8, 9, 11, 12)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from conftest import REPO, BeetsEnv, pick_clips

pytestmark = pytest.mark.slow


@pytest.fixture
def clustered(tmp_path, emotify) -> BeetsEnv:
    """Four real clips imported and clustered (k=2) through `beet`."""
    env = BeetsEnv(tmp_path, workers=1)
    env.import_clips(pick_clips(per_genre=1))
    assert "4 analysed" in env.beet("cluster", "-n", "2").stdout
    return env


def one_line_error(res: subprocess.CompletedProcess) -> str:
    """The single line a failing command printed (no traceback)."""
    assert res.returncode != 0, res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    return lines[0]


# -- item 12: a damaged store ----------------------------------------------------------------


def test_a_damaged_vector_is_skipped_named_and_analysed_again(clustered):
    db = clustered.root / "cluster.db"
    with closing(sqlite3.connect(db)) as conn:
        (path, blob), *_, (seed, _) = conn.execute("SELECT path, vector FROM tracks "
                                                   "ORDER BY path").fetchall()
        conn.execute("UPDATE tracks SET vector = ? WHERE path = ?", [blob[:-2], path])
        conn.commit()
    name = Path(path.decode()).name

    for args in (("cluster", "--evaluate"), ("similar", "-p", "-n", "3", f"path:{seed.decode()}")):
        res = clustered.beet(*args, check=False)
        out = res.stdout + res.stderr
        assert res.returncode == 0 and "Traceback" not in out, out
        said = [ln for ln in out.splitlines() if "damaged" in ln]
        assert len(said) == 1 and name in said[0], out  # named once, on one line

    res = clustered.beet("cluster", "-n", "2", "--pretend")
    assert "1 analysed" in res.stdout and "3 already known" in res.stdout, res.stdout
    assert any(name in ln and "damaged" in ln for ln in res.stderr.splitlines()), res.stderr
    with closing(sqlite3.connect(db)) as conn:  # analysed again: the row is whole
        size, dim = conn.execute("SELECT length(vector), dim FROM tracks WHERE path = ?",
                                 [path]).fetchone()
    assert size == 4 * dim
    assert "4 already known" in clustered.beet("cluster", "-n", "2").stdout


@pytest.mark.parametrize("damage, what", [
    ("DROP TABLE tracks", "no table tracks"),
    ("PRAGMA user_version = 0", "tables but no schema version"),
])
def test_a_damaged_schema_is_one_line_saying_what_to_do(clustered, damage, what):
    db = clustered.root / "cluster.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(damage)
    for args in (("cluster", "--evaluate"), ("cluster", "-n", "2")):
        line = one_line_error(clustered.beet(*args, check=False))
        assert line == (f"error: cluster: the embedding store {db} is damaged ({what}): move "
                        "it aside and run again to re-analyse"), line
    db.rename(db.with_suffix(".old"))  # what the line says to do works
    assert "4 analysed" in clustered.beet("cluster", "-n", "2").stdout


# -- item 9: two first runs at once ----------------------------------------------------------

FIRST_RUN = """
import sys, time
from beetsplug.cluster.store import Store
while time.time() < float(sys.argv[2]):  # both start at the same moment
    pass
Store(sys.argv[1]).close()
print("ok")
"""


def test_two_first_runs_at_once_both_create_the_store(tmp_path):
    import time

    for attempt in range(5):  # the race is real: several fresh stores, none may fail
        db = tmp_path / f"cluster{attempt}.db"
        start = str(time.time() + 1.0)
        procs = [subprocess.Popen([sys.executable, "-c", FIRST_RUN, str(db), start],
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(3)]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0 and out.strip() == "ok", err
        with closing(sqlite3.connect(db)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
