"""What a user reads: --pretend's table, --labels on every beets, numbers 1..k, plural forms."""

from __future__ import annotations

import re
import sqlite3

import pytest
from beets.library import Item
from conftest import GENRES, pick_clips

from beetsplug.cluster.beets_items import field_label
from beetsplug.cluster.command import print_summary
from beetsplug.cluster.records import Assignment, ClusterRun
from beetsplug.cluster.text import plural


def test_plural():
    assert plural(1, "track") == "1 track"
    assert plural(0, "track") == "0 tracks"
    assert plural(2, "playlist") == "2 playlists"
    assert plural(3, "match", "matches") == "3 matches"


def test_the_summary_says_1_track(capsys):
    run = ClusterRun(7, 2, {"/a.mp3": Assignment(1, 0.1, "01 calm"),
                            "/b.mp3": Assignment(2, 0.2, "02 loud")},
                     {"01 calm": ["/a.mp3"], "02 loud": ["/b.mp3"]}, unclustered=["/c.mp3"],
                     noise=["/d.mp3"])
    run.changed = 1
    print_summary(run)
    out = capsys.readouterr().out
    assert "1 track changed cluster" in out
    assert "1 track is noise" in out and "1 track has no vector and is in no playlist" in out
    assert not re.search(r"\b1 tracks\b", out), out


def test_a_label_field_on_every_beets():
    # beets 2.14: genres is a list and genre empty; before 2.14: genre is a string (beets 2.14
    # keeps such a value as a flexible attribute, which is what an old library's item holds).
    assert field_label(Item(genres=["Rock", "Pop"]), "genre") == "Rock"
    assert field_label(Item(genres=["Rock", "Pop"]), "genres") == "Rock"
    assert field_label(Item(genre="Jazz"), "genre") == "Jazz"
    assert field_label(Item(genre="Jazz"), "genres") == "Jazz"
    assert field_label(Item(genres=[]), "genre") is None
    assert field_label(Item(year=0), "year") is None
    assert field_label(Item(year=1994), "year") == 1994


@pytest.mark.slow
def test_pretend_labels_and_numbers_through_beet(beets_env):
    beets_env.import_clips(pick_clips(per_genre=2))  # 8 clips
    for genre in GENRES:  # on beets 2.14 this sets `genres` (beets warns: genre is deprecated)
        beets_env.beet("modify", "-y", f"path:{beets_env.music / genre}", f"genre={genre}")
    db = beets_env.root / "cluster.db"

    pretend = beets_env.beet("cluster", "-n", "3", "--pretend").stdout
    table = [line.split() for line in pretend.splitlines() if re.match(r"\s+\d+\s+\d+\s", line)]
    assert [row[0] for row in table] == ["1", "2", "3"], pretend  # numbers, sizes, names
    assert sum(int(row[1]) for row in table) == 8 and all(row[-1] == "-" for row in table)
    assert "nothing written" in pretend
    assert not beets_env.playlists.exists()
    assert beets_env.beet("ls", "cluster:1..").stdout.split() == []  # no tag
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)

    for k in ("3", "6", "3", "auto"):  # numbers are always exactly 1..k, never with gaps
        out = beets_env.beet("cluster", "-n", k).stdout
        auto = re.search(r"k=(\d+), the best silhouette", out)
        chosen = int(k) if k != "auto" else int(auto.group(1))
        stems = [f.stem for f in beets_env.playlists.glob("*.m3u8")]
        assert sorted(int(s[:2]) for s in stems) == list(range(1, chosen + 1)), (k, stems)
        assert not any(re.search(r" \(\d+\)$", s) for s in stems), stems  # no counter

    for field in ("genre", "genres"):
        judged = beets_env.beet("cluster", "--evaluate", "--labels", field).stdout
        assert re.search(r"^unlabelled\s+0$", judged, re.MULTILINE), judged
        assert re.search(r"^nmi\s+\d\.\d{3}$", judged, re.MULTILINE), judged
    bad = beets_env.beet("cluster", "--evaluate", "--labels", "nosuchfield", check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    # checked before any run is written now (issue 18 item 14): "no track of the query"
    assert "'nosuchfield'" in bad.stderr and "no track of the query" in bad.stderr, bad.stderr
