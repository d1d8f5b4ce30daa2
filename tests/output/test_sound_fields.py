"""The analysis's descriptors as beets fields: `beet cluster` writes them to the beets database
of a real library (real clips), typed so that `beet ls` compares them as numbers, never into
the audio files; `bpm` only where the user has none."""

# ruff: noqa: F811  (the fixtures imported from daemon_helpers are test arguments here)
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from conftest import BeetsEnv, copy_clips, pick_clips
from daemon_helpers import (  # noqa: F401  (template, library, daemons: fixtures)
    daemons,
    library,
    template,
    wait_until,
)
from daemon_helpers import (
    listed as playlisted,
)

from beetsplug.cluster import sound_fields

FIELDS = ("sound_tempo", "sound_brightness", "sound_energy", "sound_pulse", "sound_density")


def listed(env: BeetsEnv, *query: str) -> dict[str, list[str]]:
    """path -> the sound fields and bpm of the items the query matches, as `beet ls` prints."""
    fmt = "$path|" + "|".join(f"${f}" for f in (*FIELDS, "bpm"))
    out = env.beet("ls", "-f", fmt, *query).stdout
    return {row.split("|")[0]: row.split("|")[1:] for row in out.splitlines() if row}


def digest(paths) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, emotify):
    env = BeetsEnv(tmp_path_factory.mktemp("fields"))
    clips = env.import_clips(pick_clips(per_genre=2))
    env.beet("modify", "-y", "-W", f"path:{clips[0]}", "bpm=77")  # the user's own bpm
    env.beet("cluster", "-n", "2")
    return env, clips


def test_fields_reach_every_item_and_read_as_numbers(analysed):
    env, clips = analysed
    rows = listed(env)
    assert len(rows) == len(clips)
    for path, values in rows.items():
        tempo, brightness, energy, pulse, density, bpm = map(float, values)
        assert 40 <= tempo <= 250, (path, tempo)
        assert 100 <= brightness <= 6000, (path, brightness)
        assert 0 < energy < 1 and 0 <= pulse <= 1 and density > 0, (path, values)
        # bpm: the user's own value stays; every other item takes the analysed tempo
        assert bpm == (77 if path == str(clips[0]) else round(tempo)), (path, values)


@pytest.mark.parametrize("field", ["sound_energy", "sound_tempo", "sound_brightness"])
def test_a_range_query_compares_numbers(analysed, field):
    env, _ = analysed
    rows = listed(env)
    values = sorted(float(v[FIELDS.index(field)]) for v in rows.values())
    cut = values[len(values) // 2]  # the median: half the items on either side
    above = listed(env, f"{field}:{cut}..")
    below = listed(env, f"{field}:..{cut}")
    assert set(above) == {p for p, v in rows.items() if float(v[FIELDS.index(field)]) >= cut}
    assert set(below) == {p for p, v in rows.items() if float(v[FIELDS.index(field)]) <= cut}
    assert 0 < len(above) < len(rows)


def test_no_file_is_written_for_them_and_a_run_keeps_them_in_sync(analysed):
    env, clips = analysed
    before_rows = listed(env)
    env.beet("modify", "-y", "-W", "sound_energy=0.01", "sound_tempo!")  # stale in beets only
    # A run with nothing changed stands and writes nothing (issue 20), hand edits unseen, as
    # for the cluster field: a playlist file gone makes the next run a real one.
    next(env.playlists.glob("*.m3u8")).unlink()
    before = digest(clips)
    out = env.beet("cluster", "-n", "2").stdout
    assert "0 tracks changed cluster" in out, out
    assert digest(clips) == before  # the fields went to the database, not the files
    assert listed(env) == before_rows  # the run wrote the analysed values back


def test_strong_tags_strongest_first():
    names = ("rock", "calm", "guitar", "female vocalists")
    assert sound_fields.strong_tags(np.array([0.6, 0.05, 0.9, 0.31]), names) == \
        "guitar, rock, female vocalists"
    assert sound_fields.strong_tags(np.array([0.1, 0.2, 0.0, 0.29]), names) is None


def test_the_import_stage_writes_them(tmp_path, emotify):
    """`auto: yes`: an import analyses the new tracks, and their fields follow at once (no run
    is needed for them, only for a playlist)."""
    env = BeetsEnv(tmp_path, auto=True)
    clips = env.import_clips(pick_clips(per_genre=1))
    rows = listed(env)
    assert set(rows) == {str(p) for p in clips}
    assert all(40 <= float(v[0]) <= 250 and 0 < float(v[2]) < 1 for v in rows.values()), rows


def test_musicnn_strong_tags_are_a_queryable_list(tmp_path, emotify):
    pytest.importorskip("torch", reason="the musicnn backend needs torch (the [deep] extra)")
    pytest.importorskip("musicnn", reason="the musicnn wheel holds the weights")
    env = BeetsEnv(tmp_path, backend="musicnn", workers=1)
    clips = env.import_clips(pick_clips(per_genre=1))
    env.beet("cluster", "-n", "2")
    out = env.beet("ls", "-f", "$path|$sound_tags", "sound_tags::.").stdout
    tags = {row.split("|")[0]: row.split("|")[1].split(", ") for row in out.splitlines()}
    assert tags and set(tags) <= {str(p) for p in clips}, out
    assert all(1 <= len(t) <= sound_fields.MAX_TAGS for t in tags.values()), tags
    some = next(iter(tags.values()))[0]  # one tag, asked for as a word
    found = set(env.beet("ls", "-f", "$path", f"sound_tags:{some}").stdout.split())
    assert found == {p for p, t in tags.items() if any(some in x for x in t)}


def test_the_daemon_writes_them_for_a_track_beets_imports(library, daemons):
    """`beet import` while the daemon runs: the daemon places the new item and its fields
    follow (the import itself runs no stage of ours: `auto` is off)."""
    daemon = daemons(library)
    (clip,) = copy_clips(pick_clips(per_genre=1, offset=9)[:1], library.music / "new")
    library.beet("import", "-A", "-s", "-q", str(clip))
    wait_until(lambda: str(clip) in playlisted(library), 30, "the imported clip placed", daemon)
    tempo, *_ = listed(library, f"path:{clip}")[str(clip)]
    assert 40 <= float(tempo) <= 250, tempo
    assert daemon.stop() == 0
