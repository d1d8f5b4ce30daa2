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

from beetsplug.cluster.config import DEFAULTS, RANGES, Range, check_ranges
from beetsplug.cluster.store_schema import MIGRATIONS

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
            assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- item 11: every option checked against its range, before any work -----------------------


def outside(allowed: Range) -> list[object]:
    """Values just outside a range: below (or at an open) low end, above the high end, a
    fraction where a whole number is wanted."""
    out: list[object] = []
    if allowed.low is not None:
        out.append(allowed.low if allowed.above else allowed.low - 1)
    if allowed.high is not None:
        out.append(allowed.high + 1)
    if allowed.whole:
        out.append((allowed.low or 0) + 1.5)
    return out


def test_every_range_refuses_what_lies_outside_it_and_holds_its_default():
    for name, allowed in RANGES.items():
        assert allowed.holds(DEFAULTS[name]), name
        for value in outside(allowed):
            with pytest.raises(ValueError, match=f"^{name} must be "):
                check_ranges({**DEFAULTS, name: value})


def test_readme_states_every_options_range():
    text = (REPO / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1]
    for name, allowed in RANGES.items():
        assert f"| `{name}` | {allowed.text()} |" in text, name


# The cases first, then the first value outside each option's range (the table's own).
CASES = [("window_seconds", 0), ("window_seconds", -5), ("window_seconds", 0.5), ("seed", -1),
         *((name, outside(allowed)[0]) for name, allowed in RANGES.items())]


def bad_config_runs(tmp_path: Path, command: list[str]) -> list[tuple[str, object, object]]:
    """Each case's command under a config holding it, several at once (each exits at once)."""
    import os

    started = []
    for i, (name, value) in enumerate(CASES):
        env = BeetsEnv(tmp_path / f"{i}-{name}", **{name: value})
        run_env = {**os.environ, "BEETSDIR": str(env.config_dir),
                   "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}
        started.append((name, value, subprocess.Popen(
            [sys.executable, "-m", *command], env=run_env, text=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        if len(started) % 4 == 0:  # four at a time on a shared machine
            started[-4][2].wait(timeout=120)
    done = []
    for name, value, proc in started:
        out, err = proc.communicate(timeout=120)
        done.append((name, value, subprocess.CompletedProcess(proc.args, proc.returncode,
                                                              out, err)))
    return done


@pytest.mark.parametrize("command", [["beets", "cluster"], ["beets", "similar", "x"]])
def test_beet_refuses_each_out_of_range_option_in_one_line(tmp_path, command):
    for name, value, res in bad_config_runs(tmp_path, command):
        line = one_line_error(res)
        assert line == (f"error: cluster: bad configuration: {name} must be "
                        f"{RANGES[name].text()}, not {value!r}"), line


def test_clusterd_refuses_each_out_of_range_option_at_start(tmp_path):
    for name, value, res in bad_config_runs(tmp_path, ["clusterd"]):
        assert res.returncode == 2, (name, value, res.stderr)
        line = one_line_error(res)
        assert line.endswith(f"ERROR clusterd: clusterd: bad configuration: {name} must be "
                             f"{RANGES[name].text()}, not {value!r}"), line


# -- item 8: files and folders without read permission ---------------------------------------

# Tests run as root, whose DAC override reads every file: these steps run without it.
NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]


def run_env(env: BeetsEnv) -> dict[str, str]:
    import os

    return {**os.environ, "BEETSDIR": str(env.config_dir), "OPENBLAS_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}


def beet_unprivileged(env: BeetsEnv, *args: str) -> subprocess.CompletedProcess:
    res = subprocess.run([*NO_OVERRIDE, sys.executable, "-m", "beets", *args], env=run_env(env),
                         text=True, capture_output=True, timeout=600, stdin=subprocess.DEVNULL,
                         check=False)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stdout + res.stderr
    return res


def stored(env: BeetsEnv) -> dict[str, str | None]:
    """File name -> the error its row records (None: a vector)."""
    with closing(sqlite3.connect(env.root / "cluster.db")) as conn:
        return {Path(p.decode()).name: e for p, e in conn.execute("SELECT path, error "
                                                                    "FROM tracks")}


def test_beet_cluster_reports_unreadable_files_and_folders_and_retries_them(tmp_path, emotify):
    env = BeetsEnv(tmp_path, workers=2)
    clips = env.import_clips(pick_clips(per_genre=2))
    file, folder = clips[0], clips[-1].parent  # one file, and a folder of two others
    inside = [c for c in clips if c.parent == folder]
    assert len(inside) == 2 and file.parent != folder
    file.chmod(0o000)
    folder.chmod(0o000)
    try:
        res = beet_unprivileged(env, "cluster", "-n", "2")
    finally:
        folder.chmod(0o755)
    out = res.stdout + res.stderr
    assert "5 analysed" in res.stdout and "0 failed, 0 missing, 3 unreadable" in res.stdout, out
    for path in (file, *inside):  # each named once, as unreadable, not as missing or broken
        said = [ln for ln in out.splitlines() if str(path) in ln]
        assert len(said) == 1 and "Permission denied" in said[0], out
    assert "not found" not in out, out
    assert set(stored(env)) == {c.name for c in clips} - {file.name} - {c.name for c in inside}
    assert all(e is None for e in stored(env).values())

    file.chmod(0o644)  # the fault cleared: the next run analyses them, nothing else
    again = beet_unprivileged(env, "cluster", "-n", "2")
    assert "3 analysed, 5 already known" in again.stdout, again.stdout + again.stderr
    assert set(stored(env)) == {c.name for c in clips}
    assert all(e is None for e in stored(env).values())


def test_the_daemons_catch_up_goes_on_past_an_unreadable_file(clustered):
    import os
    import time

    # In the order the catch-up meets them: a file in a folder that can be listed but not
    # entered, a file without read permission, two good files.
    folder = clustered.music / "new" / "0-locked"
    new = [folder / "a.mp3", *(clustered.music / "new" / f"{i}-{c.name}"
                               for i, c in enumerate(pick_clips(per_genre=1, offset=3)[:3], 1))]
    folder.mkdir(parents=True)
    for clip, dest in zip(pick_clips(per_genre=1, offset=3), new):
        dest.write_bytes(clip.read_bytes())
    new[1].chmod(0o000)
    folder.chmod(0o644)
    log = clustered.root / "daemon.log"

    def daemon_run() -> str:
        start = log.stat().st_size if log.exists() else 0
        with open(log, "a") as f:
            proc = subprocess.Popen([*NO_OVERRIDE, sys.executable, "-m", "clusterd"],
                                    env=run_env(clustered), stdout=f, stderr=f)
        try:
            deadline = time.monotonic() + 120
            while "catch-up scan" not in log.read_text()[start:]:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            proc.send_signal(15)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        return log.read_text()[start:]

    text = daemon_run()
    assert "catch-up scan done" in text and "catch-up scan failed" not in text, text
    for path in new[:2]:  # named, not recorded
        said = [ln for ln in text.splitlines() if str(path) in ln]
        assert len(said) == 1 and "Permission denied" in said[0], text
        assert path.name not in stored(clustered)
    for path in new[2:]:  # the files after them are placed
        assert f"{path} -> " in text and stored(clustered)[path.name] is None, text

    folder.chmod(0o755)  # retried at the next start, and placed
    os.chmod(new[1], 0o644)
    text = daemon_run()
    for path in new[:2]:
        assert f"{path} -> " in text and stored(clustered)[path.name] is None, text
