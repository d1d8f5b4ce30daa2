"""`beet cluster` writes only its own tags into a user's files: CLUSTER and CLUSTER_PLAYLIST (and
grouping with `grouping: yes`); every other tag stays as it was, for every format."""

from __future__ import annotations

import mutagen
import pytest
from conftest import BeetsEnv

pytestmark = pytest.mark.slow

FORMATS = ("mp3", "flac", "ogg", "opus", "m4a")
OURS = {"txxx:cluster", "txxx:cluster_playlist", "cluster", "cluster_playlist",
        "----:com.apple.itunes:cluster", "----:com.apple.itunes:cluster_playlist"}
GROUPING = {"grp1", "tit1", "grouping", "\xa9grp"}


def shortest_of_each_format(full_slice) -> list[str]:
    import csv

    rows: dict[str, tuple[str, float]] = {}
    with open(full_slice.root / "labels.csv", newline="") as f:
        for r in csv.DictReader(f):
            fmt = r["file"].rsplit(".", 1)[-1]
            if fmt in FORMATS and float(r["duration_s"]) < rows.get(fmt, ("", 1e9))[1]:
                rows[fmt] = (r["file"], float(r["duration_s"]))
    assert set(rows) == set(FORMATS)
    return [rows[f][0] for f in FORMATS]


def others(path, skip=frozenset()) -> dict:
    """Every tag mutagen sees in the file but ours, each key with its values' exact repr (the
    ID3 frames with their encodings), plus the tag container's version."""
    f = mutagen.File(path)
    out = {"version": getattr(f.tags, "version", None)}
    for key, value in f.tags.items():
        k = key.lower()
        if k in OURS or k in skip:
            continue
        out.setdefault(k, []).append(repr(value))
    return out


def ours(path) -> set[str]:
    tags = mutagen.File(path).tags  # a Vorbis comment iterates as (key, value) pairs
    return {k.lower() for k in tags.keys()} & OURS  # noqa: SIM118


def id3v23_clip(dest):
    """A real clip whose tag is ID3v2.3 (as many taggers write it), with a year frame."""
    import shutil

    from conftest import pick_clips
    from mutagen.id3 import ID3, TALB, TIT2, TPE1, TYER

    shutil.copyfile(pick_clips(per_genre=1)[3], dest)
    tags = ID3(dest)
    tags.update_to_v23()
    for frame in (TIT2(text=["Old"]), TPE1(text=["Tagger"]), TALB(text=["v2.3"]),
                  TYER(text=["1999"])):
        tags.add(frame)
    tags.save(v2_version=3)
    assert ID3(dest).version == (2, 3, 0)
    return dest


@pytest.mark.parametrize("grouping", [False, True])
def test_only_our_own_tags_reach_the_files(tmp_path, full_slice, grouping):
    env = BeetsEnv(tmp_path, grouping=grouping)
    files = full_slice.copy_to(env.music, shortest_of_each_format(full_slice))
    files.append(id3v23_clip(env.music / "v23.mp3"))
    env.beet("import", "-A", "-s", "-q", *map(str, files))
    skip = GROUPING if grouping else frozenset()
    before = {f: others(f, skip) for f in files}
    assert all(len(tags) > 3 for tags in before.values())  # artist, album, title at least
    env.beet("cluster", "-n", "2")
    for f in files:
        assert ours(f) == ({"txxx:cluster", "txxx:cluster_playlist"} if f.suffix == ".mp3"
                           else {"----:com.apple.itunes:cluster",
                                 "----:com.apple.itunes:cluster_playlist"}
                           if f.suffix == ".m4a" else {"cluster", "cluster_playlist"}), f
        assert others(f, skip) == before[f], f
        if grouping:
            name = env.beet("ls", "-f", "$cluster_playlist", f"path:{f}").stdout.strip()
            assert mutagen.File(f, easy=True)["grouping"] == [name], f
    # the beets database fields as before: `beet ls cluster:N` finds every track
    listed = [ln for n in (1, 2)
              for ln in env.beet("ls", "-f", "$path", f"cluster:{n}").stdout.splitlines()]
    assert sorted(listed) == sorted(map(str, files))


def test_write_no_leaves_the_files_alone(tmp_path, full_slice):
    env = BeetsEnv(tmp_path)
    files = full_slice.copy_to(env.music, shortest_of_each_format(full_slice)[:2])
    env.beet("import", "-A", "-s", "-q", *map(str, files))
    before = {f: f.read_bytes() for f in files}
    (env.config_dir / "nowrite.yaml").write_text("import: {write: no}\n")
    env.beet("-c", str(env.config_dir / "nowrite.yaml"), "cluster", "-n", "2")
    assert {f: f.read_bytes() for f in files} == before
    assert env.beet("ls", "-f", "$cluster", f"path:{files[0]}").stdout.strip() in ("1", "2")
