"""`beet cluster` and `beet similar` at their edges, through the real command on a real beets
library: two runs at once, bad option values, files it must not overwrite, playlist files'
mode and group, names a file system should not get."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import REPO, BeetsEnv, pick_clips

from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, emotify) -> BeetsEnv:
    """A library of 12 clips, analysed and clustered once (k=2)."""
    env = BeetsEnv(tmp_path_factory.mktemp("edges"))
    env.import_clips(pick_clips(per_genre=3))
    res = env.beet("cluster", "-n", "2")
    assert "12 analysed" in res.stdout, res.stdout
    return env


def table(stdout: str) -> dict[str, int]:
    """playlist file -> the track count the summary printed for it."""
    out = {}
    for ln in stdout.splitlines():
        m = re.match(r"\s+\d+\s+(\d+)\s+.*\s(/\S.*\.m3u8)$", ln)
        if m:
            out[m[2]] = int(m[1])
    return out


def test_two_runs_at_once_each_print_their_own_run(analysed):
    env = analysed
    procs_env = {**os.environ, "BEETSDIR": str(env.config_dir),
                 "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "daemon")])}
    # -n 3 and -n 4 replace each other's playlists while they print (the race is rare on its
    # own: the next test makes it happen every time)
    procs = [subprocess.Popen([sys.executable, "-m", "beets", "cluster", "-n", k],
                              env=procs_env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
             for k in ("3", "4")]
    outs = [p.communicate(timeout=300) for p in procs]
    for (out, err), p, k in zip(outs, procs, (3, 4)):
        assert p.returncode == 0 and "Traceback" not in err, err
        counts = table(out)
        assert len(counts) == k and sum(counts.values()) == 12, out


OTHER_RUN = """
from pathlib import Path

from beets import config
from beets.plugins import BeetsPlugin


class OtherRun(BeetsPlugin):
    \"\"\"Stands for a second `beet cluster` that replaces this run's playlists while this one
    writes its tags back: at the first database change it removes the playlist files.\"\"\"

    def __init__(self):
        super().__init__()
        self.done = False
        self.register_listener("database_change", self.changed)

    def changed(self, lib, model):
        if not self.done:
            self.done = True
            for f in (Path(config["directory"].as_filename()) / "Playlists").glob("*.m3u8"):
                f.unlink()
"""


def test_the_summary_is_the_run_in_memory_not_the_files(analysed, tmp_path):
    env = analysed
    (tmp_path / "otherrun.py").write_text(OTHER_RUN)
    extra = tmp_path / "other.yaml"
    extra.write_text(f"pluginpath: [{tmp_path}]\nplugins: [cluster, otherrun]\n")
    k = "5" if len(list(env.playlists.glob("*.m3u8"))) != 5 else "4"  # a run that changes tags
    res = env.beet("-c", str(extra), "cluster", "-n", k, check=False)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    counts = table(res.stdout)
    assert len(counts) == int(k) and sum(counts.values()) == 12, res.stdout
    assert not list(env.playlists.glob("*.m3u8"))  # the other run really took them away


def runs(env) -> int:
    import sqlite3

    with sqlite3.connect(env.root / "cluster.db") as db:
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]


def test_a_bad_number_of_clusters_is_one_line(analysed):
    res = analysed.beet("cluster", "-n", "abc", check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.strip() == ("error: cluster: -n/--clusters takes a whole number or 'auto', "
                                  "not 'abc'"), res.stderr


def test_an_unknown_label_field_is_found_before_the_run_is_written(analysed):
    before = runs(analysed)
    res = analysed.beet("cluster", "-n", "3", "-e", "--labels", "nosuchfield", check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr
    assert "nosuchfield" in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert runs(analysed) == before  # no run written, no playlist replaced


def test_output_json_never_replaces_a_file_it_did_not_write(analysed, tmp_path):
    env = analysed
    mine = tmp_path / "notes.json"
    mine.write_text('{"my": "own file"}\n')
    before = runs(env)
    res = env.beet("cluster", "-n", "3", "-o", str(mine), check=False)
    assert res.returncode != 0 and "refusing to overwrite" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and mine.read_text() == '{"my": "own file"}\n'
    assert runs(env) == before  # refused before the run was written
    # an export of ours is replaced on a rerun, as `beet similar -o` replaces its playlist
    ours = tmp_path / "clusters.json"
    env.beet("cluster", "-n", "2", "-o", str(ours))
    ours.write_text(ours.read_text().replace('"title"', '"title" ', 1))  # touched by a user
    env.beet("cluster", "-n", "3", "-o", str(ours))
    assert len(json.loads(ours.read_text())) == 3


def test_a_similar_playlist_name_holds_no_bidi_or_control_characters(analysed):
    env = analysed
    title = "evil\u202egpj.mp3\u200b\u0007x"  # shows as "evilx.mp3.jpg" in a file manager
    env.beet("modify", "-y", "-W", "path:" + str(min(env.music.rglob("*.mp3"))),
             f"title={title}")
    res = env.beet("similar", "-n", "3", f"title:{title}")
    assert "Traceback" not in res.stderr, res.stderr
    [made] = [f for f in (env.playlists / "Similar").iterdir()  # similar_dir, issue 19
              if f.name.startswith("Similar to")]
    assert "evilgpj.mp3x" in made.name, made.name
    import unicodedata

    assert not [c for c in made.name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]


def test_a_rewritten_playlist_keeps_its_mode_and_group(tmp_path, emotify):
    env = BeetsEnv(tmp_path)
    clips = env.import_clips(pick_clips(per_genre=1))
    env.beet("cluster", "-n", "2")
    lists = sorted(env.playlists.glob("*.m3u8"))
    for f in lists:  # a user lets a player's group read them, and no one else
        os.chown(f, -1, 4)
        f.chmod(0o640)
    before = {f: f.read_text() for f in lists}
    (tmp_path / "moved").mkdir()
    env.beet("move", "-d", str(tmp_path / "moved"))  # every line rewritten
    for f in lists:
        assert f.read_text() != before[f] and read_playlist(f), f
        st = f.stat()
        assert (st.st_mode & 0o7777, st.st_gid) == (0o640, 4), f
    assert not any(c.exists() for c in clips)
