"""`beet cluster -n 4` on a real beets library of real clips, through the real command line."""

from __future__ import annotations

import shutil
import sqlite3

import mutagen
import pytest
from conftest import pick_clips

from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow


def playlist_members(env) -> dict[str, list[str]]:
    """Playlist stem -> resolved absolute paths of its entries."""
    out = {}
    for f in sorted(env.playlists.glob("*.m3u8")):
        out[f.stem] = [str((f.parent / line).resolve()) for line in read_playlist(f)]
    return out


def test_cluster_end_to_end(beets_env):
    clips = beets_env.import_clips(pick_clips(per_genre=10))  # 40 clips, all four genres
    first = beets_env.beet("cluster", "-n", "4")
    assert "40 analysed" in first.stdout, first.stdout

    members = playlist_members(beets_env)
    assert len(members) == 4
    listed = [p for paths in members.values() for p in paths]
    assert sorted(listed) == sorted(str(c.resolve()) for c in clips)  # each exactly once
    assert all(len(paths) > 0 for paths in members.values())

    for number, (name, paths) in enumerate(sorted(members.items()), start=1):
        ls = beets_env.beet("ls", "-f", "$path", f"cluster:{number}").stdout.split("\n")
        assert sorted(p for p in ls if p) == sorted(paths), name
        for path in paths:  # the tag reached the files
            tags = mutagen.File(path)
            assert tags["TXXX:CLUSTER"].text == [str(number)]
            assert tags["TXXX:CLUSTER_PLAYLIST"].text == [name]

    before = {f.name: f.read_bytes() for f in beets_env.playlists.iterdir()}
    mtimes = {c: c.stat().st_mtime_ns for c in clips}
    db = beets_env.root / "cluster.db"
    stamps = sqlite3.connect(db).execute("SELECT path, analysed_at FROM tracks").fetchall()

    second = beets_env.beet("cluster", "-n", "4")
    assert "0 analysed, 40 already known" in second.stdout, second.stdout
    assert {f.name: f.read_bytes() for f in beets_env.playlists.iterdir()} == before
    assert sqlite3.connect(db).execute("SELECT path, analysed_at FROM tracks").fetchall() == stamps
    assert {c: c.stat().st_mtime_ns for c in clips} == mtimes  # no tag rewritten either
    assert "0 tracks changed cluster" in second.stdout


def test_query_json_output_and_pretend(beets_env, tmp_path):
    beets_env.import_clips(pick_clips(per_genre=3))
    out = tmp_path / "clusters.json"
    res = beets_env.beet("cluster", "-n", "2", "--pretend", "path:" + str(beets_env.music / "rock"))
    assert "3 analysed" in res.stdout
    assert not beets_env.playlists.exists()  # pretend writes no playlist
    beets_env.beet("cluster", "-n", "2", "-o", str(out), "path:" + str(beets_env.music / "rock"))
    import json

    data = json.loads(out.read_text())
    assert sum(len(v) for v in data.values()) == 3
    assert all(e["path"].startswith(str(beets_env.music / "rock")) for v in data.values()
               for e in v)


def test_unwritable_playlist_folder_is_a_clear_error(tmp_path, emotify):
    from conftest import BeetsEnv

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = BeetsEnv(tmp_path / "lib", workers=1, playlist_dir=str(blocker / "playlists"))
    env.import_clips(pick_clips(per_genre=1))
    res = env.beet("cluster", "-n", "2", check=False)
    assert res.returncode != 0
    assert "cluster:" in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_a_backend_without_weights_is_one_clear_line(tmp_path, emotify):
    from conftest import BeetsEnv

    env = BeetsEnv(tmp_path, workers=1)
    env.import_clips(pick_clips(per_genre=1))
    res = env.beet("cluster", "-n", "2", "--backend", "panns", check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "checkpoint" in res.stderr and "cluster.model" in res.stderr, res.stderr


def test_beet_move_keeps_vectors(beets_env, tmp_path):
    clips = beets_env.import_clips(pick_clips(per_genre=1))
    beets_env.beet("cluster", "-n", "2")
    elsewhere = tmp_path / "moved"
    elsewhere.mkdir()
    beets_env.beet("move", "-d", str(elsewhere))
    assert not any(c.exists() for c in clips)  # beets really moved them

    def listed():
        return [(beets_env.playlists / line).resolve()
                for f in beets_env.playlists.glob("*.m3u8") for line in read_playlist(f)]

    # beets' item_moved events: the playlists follow at once, before any `beet cluster`
    assert len(listed()) == len(clips) and all(p.is_relative_to(elsewhere) for p in listed())
    res = beets_env.beet("cluster", "-n", "2")
    assert "0 analysed" in res.stdout and f"{len(clips)} already known" in res.stdout, res.stdout
    assert len(listed()) == len(clips) and all(p.is_relative_to(elsewhere) for p in listed())


def test_retagged_files_keep_their_vectors(beets_env, emotify):
    from mutagen.id3 import ID3, TXXX

    clips = beets_env.import_clips(pick_clips(per_genre=1))
    beets_env.beet("cluster", "-n", "2")
    for clip in clips:  # another tagger adds a big frame: new size and mtime, same music
        tags = ID3(clip)
        tags.add(TXXX(desc="COMMENT", text=["x" * 5000]))
        tags.save()
    res = beets_env.beet("cluster", "-n", "2")
    assert "0 analysed" in res.stdout and f"{len(clips)} retagged" in res.stdout, res.stdout
    shutil.copyfile(pick_clips(per_genre=1, offset=7)[0], clips[0])  # other music, same path
    res = beets_env.beet("cluster", "-n", "2")
    assert "1 analysed" in res.stdout and "0 retagged" in res.stdout, res.stdout
