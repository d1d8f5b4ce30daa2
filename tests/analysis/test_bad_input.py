"""Every kind of bad file gets one clear error, a row in the store, and the run goes on."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import soundfile as sf
from conftest import pick_clips

from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Store

# A minimal, valid Standard MIDI File: real music data that no audio decoder here can play.
MIDI = bytes.fromhex("4d546864000000060000000100604d54726b0000000b0090403c8360804000ff2f00")


def make_bad_files(folder) -> dict[str, str]:
    """file name -> words its error message must contain."""
    good = pick_clips(per_genre=1)[0]
    data = good.read_bytes()
    (folder / "empty.mp3").write_bytes(b"")
    (folder / "truncated.mp3").write_bytes(data[: len(data) // 3])
    (folder / "random.mp3").write_bytes(np.random.default_rng(0).bytes(20_000))
    sf.write(folder / "silent.wav", np.zeros(22050 * 3, dtype=np.float32), 22050)
    t = np.arange(int(0.5 * 22050)) / 22050
    sf.write(folder / "short.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 22050)
    (folder / "song.mid").write_bytes(MIDI)
    return {"empty.mp3": "empty", "truncated.mp3": "truncated", "random.mp3": "not a readable",
            "silent.wav": "silent", "short.wav": "too short", "song.mid": "not a readable"}


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_files_are_recorded_and_skipped(tmp_path, emotify, workers):
    expected = make_bad_files(tmp_path)
    good = [tmp_path / c.name for c in pick_clips(per_genre=1)]
    for clip, dest in zip(pick_clips(per_genre=1), good):
        shutil.copyfile(clip, dest)
    tracks = [Track(str(p)) for p in sorted(tmp_path.iterdir())]
    store = Store(tmp_path / "store.db")
    core = Library(Settings(workers=workers, clusters=2), store)

    report = core.analyse(tracks)
    failed = {os.path.basename(p): e for p, e in report.failed}
    assert set(failed) == set(expected)
    for name, words in expected.items():
        assert words in failed[name], (name, failed[name])
    assert report.analysed == len(tracks)
    stored = {os.path.basename(p): r.error for p, r in store.rows("handcrafted").items() if r.error}
    assert stored == failed
    run = core.plan(tracks)  # the good files still make clusters
    assert sorted(run.assignments) == sorted(str(p) for p in good)

    again = core.analyse(tracks)  # failures are not retried until the file changes
    assert again.analysed == 0 and len(again.known_failures) == len(expected)
    (tmp_path / "empty.mp3").write_bytes(b"x")
    changed = core.analyse(tracks)
    assert changed.analysed == 1 and "not a readable" in changed.failed[0][1]


def test_missing_file_is_reported_not_recorded(tmp_path, emotify):
    store = Store(tmp_path / "store.db")
    report = Library(Settings(workers=1), store).analyse([Track(str(tmp_path / "gone.mp3"))])
    assert report.missing == [str(tmp_path / "gone.mp3")] and report.analysed == 0


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing(tmp_path, emotify, caplog):
    """The OOM killer takes an analysis process: its files are retried, the run goes on."""
    psutil = pytest.importorskip("psutil")
    clips = [shutil.copyfile(c, tmp_path / c.name) for c in pick_clips(per_genre=5)]
    store = Store(tmp_path / "store.db")
    core = Library(Settings(workers=2, clusters=2), store)
    killed = []

    def progress(total):
        def tick(n):
            if not killed:  # at the first result: both workers are busy with more files
                workers = [p for p in psutil.Process().children()
                           if "resource_tracker" not in " ".join(p.cmdline())]
                workers[0].kill()
                killed.append(workers[0].pid)
        return tick

    with caplog.at_level("WARNING", logger="beets.cluster"):
        report = core.analyse([Track(str(p)) for p in clips], progress=progress)
    assert killed and "an analysis process died" in caplog.text
    assert report.analysed == len(clips) and not report.failed
    assert len(store.arrays([str(p) for p in clips], "handcrafted", core.embedder.version)[0]) \
        == len(clips)


@pytest.mark.slow
def test_beet_cluster_names_each_failing_file_and_why(beets_env):
    """Through the real `beet` command line: every warning names its file and its reason (the
    plugin logger formats with {}, so a %s here would print literally)."""
    clips = beets_env.import_clips(pick_clips(per_genre=2))
    broken = {clips[0]: b"", clips[1]: clips[1].read_bytes()[:3000],
              clips[2]: np.random.default_rng(1).bytes(30_000)}
    for path, data in broken.items():  # broken after import, as a failing disk or a bad copy
        path.write_bytes(data)
    gone = clips[3]
    gone.unlink()
    res = beets_env.beet("cluster", "-n", "2")
    out = res.stdout + res.stderr
    assert "%s" not in out and "%d" not in out, out
    reasons = {clips[0]: "empty file", clips[1]: "truncated", clips[2]: "not a readable"}
    lines = out.splitlines()
    for path, reason in reasons.items():
        assert any(str(path) in ln and reason in ln for ln in lines), (path, reason, out)
    assert any(str(gone) in ln and "not found" in ln for ln in lines), out
    assert "3 failed, 1 missing" in out, out
    assert sum(str(clips[0]) in ln for ln in lines) == 1, out  # said once, not per layer
    assert "error reading" not in out, out  # no tag write is tried on a file with no cluster
