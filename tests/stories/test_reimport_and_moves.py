"""Ordinary beets workflows on a clustered library, through the real `beet` command: a re-import
keeps what the files had, and a new file that only looks like a moved one is analysed."""

from __future__ import annotations

import os
import shutil
import sqlite3

import mutagen
import pytest
from conftest import BeetsEnv, pick_clips

from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow


def listed(env) -> dict[str, str]:
    """Each playlist line's absolute path -> its playlist's name."""
    return {str((f.parent / line).resolve()): f.stem
            for f in sorted(env.playlists.glob("*.m3u8")) for line in read_playlist(f)}


def stored(env) -> set[str]:
    with sqlite3.connect(env.root / "cluster.db") as db:
        return {os.fsdecode(p) for (p,) in db.execute("SELECT path FROM tracks")}


def field(env, path) -> str:
    return env.beet("ls", "-f", "$cluster_playlist", f"path:{path}").stdout.strip()


@pytest.fixture
def clustered(tmp_path, emotify) -> tuple[BeetsEnv, list]:
    env = BeetsEnv(tmp_path)
    clips = env.import_clips(pick_clips(per_genre=2))  # 8 clips, music/<genre>/
    res = env.beet("cluster", "-n", "2")
    assert "8 analysed" in res.stdout, res.stdout
    return env, clips


def test_a_reimport_keeps_vectors_lines_and_tags(clustered, emotify):
    env, clips = clustered
    before_lines, before_rows = listed(env), stored(env)
    rock = [c for c in clips if c.parent.name == "rock"]
    assert all(str(c) in before_lines for c in rock)
    # beets replaces the items at the same paths (item_removed for each), plus a new file
    # copied in beside them: an import of a folder that is half known
    new = env.music / "rock" / "new.mp3"
    shutil.copyfile(pick_clips(per_genre=1, offset=9)[3], new)
    env.beet("import", "-A", "-s", "-q", "--noincremental", str(env.music / "rock"))
    after = listed(env)
    for c in rock:
        assert after.get(str(c)) == before_lines[str(c)], c  # still on its line
        assert field(env, c) == before_lines[str(c)]  # the new item read our tag back
        assert mutagen.File(c)["TXXX:CLUSTER_PLAYLIST"].text == [before_lines[str(c)]]
    assert before_rows <= stored(env)  # no vector lost
    res = env.beet("cluster", "-n", "2")
    assert "1 analysed, 8 already known" in res.stdout, res.stdout  # only the new file
    assert set(listed(env)) == {str(c) for c in clips} | {str(new)}


def test_beet_rm_of_a_file_that_stays_changes_nothing(clustered):
    env, clips = clustered
    before = listed(env)
    env.beet("rm", "-f", f"path:{clips[0]}")  # the item goes, the file stays (no -d)
    assert listed(env) == before and str(clips[0]) in stored(env)
    env.beet("rm", "-f", "-d", f"path:{clips[1]}")  # file deleted too: it leaves everything
    assert str(clips[1]) not in listed(env) and str(clips[1]) not in stored(env)


def same_size(path, size: int) -> None:
    """Pad an MP3's ID3 tag so that the file has exactly `size` bytes (the audio untouched)."""
    from mutagen.id3 import ID3, TXXX

    tags = ID3(path)
    tags.add(TXXX(desc="PAD", text=["x"]))
    tags.save(padding=lambda info: 0)
    tags.save(padding=lambda info: size - path.stat().st_size)
    assert path.stat().st_size == size


def test_same_size_and_mtime_is_not_a_move_unless_the_audio_matches(clustered):
    env, clips = clustered
    a, other = sorted(clips, key=lambda c: c.stat().st_size, reverse=True)[:2]
    st = a.stat()
    b = a.with_name("B.mp3")
    shutil.copyfile(other, b)  # other audio, given A's size and mtime
    same_size(b, st.st_size)
    a.unlink()  # A deleted outside beets; B added without a tag write (write: no)
    env.beet("import", "-A", "-s", "-q", "-W", str(b))
    os.utime(b, ns=(st.st_atime_ns, st.st_mtime_ns))
    res = env.beet("cluster", "-n", "2")
    assert "0 moved" in res.stdout and "1 analysed" in res.stdout, res.stdout
    assert "1 missing" in res.stdout, res.stdout  # A: beets still has its item

    # a real move beets was not told about (same audio): still adopted, nothing analysed
    c = clips[1] if clips[1] != a else clips[2]
    moved = env.music / "elsewhere.mp3"
    os.rename(c, moved)
    env.beet("import", "-A", "-s", "-q", "-W", str(moved))
    res = env.beet("cluster", "-n", "2")
    assert "1 moved" in res.stdout and "0 analysed" in res.stdout, res.stdout
