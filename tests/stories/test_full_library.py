"""A clustered library of full-length tracks as its owner sees it over time: real beets, real
decoding (MP3, FLAC, Ogg, Opus, M4A) from the full_slice fixture."""

from __future__ import annotations

import re

import pytest
from conftest import BeetsEnv

from beetsplug.cluster.output.playlists import read_playlist

pytestmark = pytest.mark.slow


def members(env: BeetsEnv) -> dict[str, set[str]]:
    """Playlist file name -> the resolved paths it lists."""
    return {f.name: {str((f.parent / line).resolve()) for line in read_playlist(f)}
            for f in sorted(env.playlists.glob("*.m3u8"))}


def changed_line(out: str) -> int:
    found = re.search(r"cluster: (\d+) tracks? changed cluster", out)
    assert found, out
    return int(found.group(1))


@pytest.fixture(scope="module")
def grown(full_slice, tmp_path_factory):
    """A library clustered once with 27 tracks of one game and 4 of another, then again after
    5 more of the second arrived."""
    env = BeetsEnv(tmp_path_factory.mktemp("grown"), workers=2)
    files = full_slice.copy_to(env.music)
    late = [f for f in files if f.parent.name == "Pushover"][:5]  # a second game arrives
    env.beet("import", "-A", "-s", "-q", *[str(f) for f in files if f not in late])
    env.beet("cluster", "-n", "6")
    before = members(env)
    env.beet("import", "-A", "-s", "-q", *map(str, late))
    second = env.beet("cluster", "-n", "6").stdout
    return env, before, members(env), second, late


def test_continuing_playlists_keep_their_files(grown):
    _, before, after, _, _ = grown
    assert len(before) == len(after) == 6
    for name, tracks in before.items():
        # the playlist of the same number continues this one (it holds most of its tracks):
        number = name.split()[0]
        (same,) = [n for n in after if n.split()[0] == number]
        if len(tracks & after[same]) * 2 > len(tracks):
            assert same == name, f"{name!r} continues as {same!r}"
    assert set(before) == set(after), (sorted(before), sorted(after))


def test_the_summary_counts_tracks_that_moved(grown):
    _, before, after, out, late = grown
    where = {p: n for n, ps in before.items() for p in ps}
    moved = sum(where.get(p) != n for n, ps in after.items() for p in ps)
    assert moved >= len(late)  # the new tracks count
    assert changed_line(out) == moved, out


def test_rename_rederives_every_name(grown):
    env, _, after, _, _ = grown
    out = env.beet("cluster", "-n", "6", "--rename").stdout
    assert changed_line(out) == 0, out  # a rename moves no track
    renamed = members(env)
    assert sorted(renamed.values(), key=sorted) == sorted(after.values(), key=sorted)

    # issue 19 item 2: names tell the playlists apart, by what sets each from the library
    names = [f.removesuffix(".m3u8").split(" ", 1)[1] for f in renamed]
    assert not any(re.search(r"\(\d+\)$", n) for n in names), names
    leads = [n.split(" · ")[0] for n in names]
    assert max(leads.count(w) for w in leads) <= 2, names
    for file, tracks in renamed.items():
        pushover = sum("/Pushover/" in t for t in tracks)
        if pushover >= 0.8 * len(tracks) >= 3:  # the minority game: its album is the word
            assert file.split(" ", 1)[1].startswith("Pushover"), names
