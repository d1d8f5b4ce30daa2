"""One core, thin front ends: a move leaves one playlist line whoever sees it, and `beet cluster`
and the daemon's recluster give the same playlists for the same library and options."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml
from beets import library
from clusterd.handler import CoreHandler
from conftest import BeetsEnv, pick_clips

from beetsplug.cluster.config import Settings
from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow


def lines_for(env: BeetsEnv) -> list[str]:
    """Every playlist line of the library, as absolute paths (duplicates kept)."""
    return [os.path.normpath(os.path.join(f.parent, ln))
            for f in sorted(env.playlists.glob("*.m3u8")) for ln in read_playlist(f)]


def snapshot(env: BeetsEnv) -> dict[str, str]:
    return {f.name: f.read_text(encoding="utf-8") for f in sorted(env.playlists.glob("*.m3u8"))}


def settings_of(env: BeetsEnv, **changes) -> Settings:
    return Settings(workers=1, store=env.root / "cluster.db", playlist_dir=env.playlists,
                    library_root=env.music, **changes)


def move_unseen(lib_db, music, src, dst) -> None:
    """A move nobody reports: the file and its beets item's path change, no event fires."""
    lib = library.Library(str(lib_db), str(music))
    try:
        [item] = [i for i in lib.items() if os.fsdecode(i.path) == str(src)]
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dst)
        item.path = os.fsencode(dst)
        item.store()
    finally:
        lib._close()


def test_a_move_leaves_exactly_one_line_whoever_sees_it(tmp_path, emotify):
    env = BeetsEnv(tmp_path, workers=1)
    clips = env.import_clips(pick_clips(per_genre=2))  # 8 clips
    env.beet("cluster", "-n", "2")
    assert sorted(lines_for(env)) == sorted(map(str, clips))

    # 1. `beet cluster` meets a move that nobody reported
    one = env.music / "moved" / "one.mp3"
    move_unseen(tmp_path / "library.db", env.music, clips[0], one)
    assert "1 moved" in env.beet("cluster", "-n", "2").stdout
    # 2. beets' own move: item_moved events, followed once at exit
    two = env.music / "beet-moved"
    two.mkdir()
    env.beet("move", "-d", str(two), f"path:{clips[1]}")
    [two] = list(two.rglob("*.mp3"))
    # 3. the import stage (auto: yes) meets an unreported move of a file it is given
    three = env.music / "reimported" / "three.mp3"
    lib = library.Library(str(tmp_path / "library.db"), str(env.music))
    [item] = [i for i in lib.items() if os.fsdecode(i.path) == str(clips[2])]
    item.remove()  # beets forgets it without an event (no plugin loaded here)
    lib._close()
    three.parent.mkdir()
    os.rename(clips[2], three)
    config = yaml.safe_load((env.config_dir / "config.yaml").read_text())
    config["cluster"]["auto"] = True
    (env.config_dir / "config.yaml").write_text(yaml.safe_dump(config))
    env.beet("import", "-A", "-s", "-q", str(three))
    # 4. the daemon's move event
    four = env.music / "daemon-moved" / "four.mp3"
    four.parent.mkdir()
    os.rename(clips[3], four)
    lib = library.Library(str(tmp_path / "library.db"), str(env.music))
    handler = CoreHandler(lib, settings_of(env, clusters=2))
    try:
        handler.moved([(clips[3], four)])
    finally:
        handler.close()
        lib._close()

    lines = lines_for(env)
    for old, new in zip(clips[:4], (one, two, three, four)):
        assert lines.count(str(new)) == 1, (new, lines)
        assert str(old) not in lines, (old, lines)
    assert len(lines) == len(clips)


def test_beet_cluster_and_the_daemons_recluster_make_the_same_playlists(tmp_path, emotify):
    env = BeetsEnv(tmp_path, workers=1)
    env.import_clips(pick_clips(per_genre=3))
    env.beet("cluster", "-n", "3")
    by_beet = snapshot(env)
    assert len(by_beet) == 3

    (tmp_path / "cluster.db").unlink()  # the same library from scratch, through the daemon
    shutil.rmtree(env.playlists)
    lib = library.Library(str(tmp_path / "library.db"), str(env.music))
    handler = CoreHandler(lib, settings_of(env, clusters=3))
    try:
        handler.recluster()
    finally:
        handler.close()
        lib._close()
    assert snapshot(env) == by_beet
