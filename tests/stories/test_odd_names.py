"""Real clips under names that are not UTF-8 or hold line breaks, through both front ends: the
real `beet cluster` command line and the daemon's core handler. Analysed, stored, clustered and
tagged like any other file; listed in playlists only where a line can spell them."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import mutagen
import pytest
from beets import library
from clusterd.handler import CoreHandler
from conftest import clustered_folder, pick_clips

from beetsplug.cluster.output.paths import readable

NOT_UTF8 = os.fsdecode(b"old rip \xff\xfe.mp3")
HOSTILE = (NOT_UTF8, "a\u2028/etc/passwd.mp3", "x\x85#EXTINF:99,INJECTED.mp3")


def place_hostile(clips: list[Path], music: Path) -> list[Path]:
    """Copies of real clips under the hostile names, inside `music/odd`."""
    out = []
    for clip, rel in zip(clips, HOSTILE, strict=False):
        target = music / "odd" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, target)
        out.append(target)
    return out


def all_lines(folder: Path) -> list[str]:
    """Every line of every playlist, split as the strictest reader splits (str.splitlines)."""
    return [ln for f in sorted(folder.glob("*.m3u*"))
            for ln in f.read_bytes().decode("utf-8", "replace").splitlines()]


def cluster_tag(path: Path) -> list[str]:
    return mutagen.File(os.fsencode(path))["TXXX:CLUSTER"].text


@pytest.mark.slow
def test_beet_cluster_handles_names_that_are_not_utf8_or_hold_line_breaks(beets_env):
    normal = beets_env.import_clips(pick_clips(per_genre=1))
    odd = place_hostile(pick_clips(per_genre=1, offset=1)[:3], beets_env.music)
    beets_env.beet("import", "-A", "-s", "-q", *map(str, odd))
    res = beets_env.beet("cluster", "-n", "2")
    out = res.stdout + res.stderr
    assert "7 analysed" in res.stdout and "0 failed" in res.stdout, out
    assert "Traceback" not in out and "surrogates" not in out

    stored = {bytes(p) for (p,) in sqlite3.connect(beets_env.root / "cluster.db").execute(
        "SELECT path FROM tracks WHERE vector IS NOT NULL")}
    assert stored == {os.fsencode(p) for p in normal + odd}  # lossless: the raw bytes
    for path in normal + odd:  # clustered and tagged, through beets, bytes paths and all
        assert cluster_tag(path) in (["1"], ["2"]), path

    lines = all_lines(beets_env.playlists)
    entries = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    assert sorted(entries) == sorted(f"../{p.relative_to(beets_env.music)}" for p in normal)
    assert len([ln for ln in lines if ln.startswith("#EXTINF")]) == len(normal)
    for path in odd:  # each named, readably
        assert f"not listing {readable(str(path))} in playlists" in out, out
    assert "old rip \\xff\\xfe.mp3" in out
    # the table counts what the files hold, and one line says what is missing and why
    assert "3 clustered tracks in no playlist file: a playlist line can't spell" in res.stdout
    rows = [ln.split() for ln in res.stdout.splitlines() if ln.strip()[:1].isdigit()
            and ln.split()[0] in ("1", "2")]
    assert sum(int(r[1]) for r in rows) == len(normal), res.stdout


@pytest.mark.slow
def test_the_daemon_places_and_catches_up_with_such_names(tmp_path, emotify, caplog):
    settings, first = clustered_folder(tmp_path, per_genre=1)  # a first run to place by
    music = settings.library_root

    lib = library.Library(str(tmp_path / "library.db"), str(music))
    handler = CoreHandler(lib, settings)
    try:
        new, unseen = place_hostile(pick_clips(per_genre=1, offset=1)[:2], music)
        with caplog.at_level("WARNING", logger="beets.cluster"):
            assert handler.added([new]) == 1  # the freshness check and the placing
            assert handler.added([new]) == 0  # our own tag write is no new work
            assert list(handler.catch_up([music]))  # a restart's scan finds `unseen`
        assert cluster_tag(new) in (["1"], ["2"]) and cluster_tag(unseen) in (["1"], ["2"])
        assert handler.core.store.row("handcrafted", str(unseen)) is not None
        assert f"not listing {readable(str(new))} in playlists" in caplog.text
        lines = all_lines(music / "Playlists")
        assert not any("passwd" in ln or "old rip" in ln for ln in lines)
        assert len([ln for ln in lines if ln.strip() and not ln.startswith("#")]) == len(first)

        moved = new.with_name(os.fsdecode(b"moved \xfe.mp3"))
        new.rename(moved)
        handler.moved([(new, moved)])
        assert handler.core.store.row("handcrafted", str(moved)) is not None
        fixed = moved.with_name("fixed.mp3")  # renamed to a name a line can spell: listed now
        moved.rename(fixed)
        handler.moved([(moved, fixed)])
        assert "../odd/fixed.mp3" in all_lines(music / "Playlists")
        fixed.rename(moved)
        handler.moved([(fixed, moved)])
        assert "../odd/fixed.mp3" not in all_lines(music / "Playlists")
        handler.removed([music / "odd"])  # a deleted folder: both go
        assert handler.core.store.row("handcrafted", str(moved)) is None
        assert handler.core.store.row("handcrafted", str(unseen)) is None
    finally:
        handler.close()
        lib._close()
