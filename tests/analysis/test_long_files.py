"""A long file costs no more memory than a short one: it is read in blocks (or only where its
kept windows are) and at most `window_ceiling` windows are kept, whatever its length."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from conftest import REPO, pick_clips

from beetsplug.cluster.analysis.audio import MAX_WINDOW_BYTES, decode_windows, window_ceiling
from beetsplug.cluster.analysis.audio_stream import WindowSink


@pytest.mark.slow
def test_a_30_minute_file_alone_costs_what_a_clip_costs(emotify):
    """scripts/bench_long_files.py: a whole analysis in a fresh process and store, peak RSS of
    all its processes. Before the streaming decode the 30-minute file peaked at ~1.3 GB."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_long_files.py"),
                           "--minutes", "0.5", "30"], capture_output=True, text=True,
                          check=True, timeout=600)
    peaks = [int(m) for m in re.findall(r"peak RSS \(all processes\)\s+(\d+) MiB", proc.stdout)]
    assert len(peaks) == 2 and "FAILED" not in proc.stdout, proc.stdout
    clip, long = peaks
    assert long - clip < 150, proc.stdout
    assert long < 1024, proc.stdout


def test_the_window_ceiling_holds_whatever_the_cap(tmp_path):
    ceiling = window_ceiling(11025, 5.0)
    assert ceiling == MAX_WINDOW_BYTES // (4 * 55125) == 304  # 25 min of 5 s windows
    path = tmp_path / "27min.wav"
    noise = 0.1 * np.random.default_rng(0).standard_normal(5 * 11025).astype(np.float32)
    sf.write(path, np.tile(noise, 320), 11025, subtype="PCM_16")  # 320 windows of 5 s
    for cap in (None, 10_000):  # no cap, and a cap above the ceiling: the ceiling holds
        got = decode_windows(path, 11025, 5.0, max_windows=cap)
        assert got.windows.shape == (ceiling, 55125)
        assert got.duration == pytest.approx(1600.0)


def test_a_stream_of_unknown_length_keeps_an_even_spread():
    """A container that can't seek has no length up front: the sink holds at most `limit`
    windows and ends with an even spread over the whole stream."""
    size, n = 10, 1000
    sink = WindowSink(size, limit=64)
    y = np.repeat(np.arange(n, dtype=np.float32), size)  # window i holds the value i
    for start in range(0, len(y), 37):  # blocks that do not line up with windows
        sink.add(y[start : start + 37])
        assert len(sink.held) <= 65
    got = sink.windows(0.5, keep=20)[:, 0]
    assert len(got) == 20 and got[0] == 0 and got[-1] > 0.9 * n
    assert np.all(np.diff(got) > 0.5 * n / 20) and np.all(np.diff(got) < 1.5 * n / 20)


def test_the_sink_cuts_as_cut_windows_does():
    from beetsplug.cluster.analysis.audio import cut_windows

    rng = np.random.default_rng(0)
    for samples, threshold in [(2345, 0.5), (2050, 0.5), (2400, 0.5), (300, 0.9), (1000, 0.5)]:
        y = rng.standard_normal(samples).astype(np.float32)
        sink = WindowSink(500, limit=100)
        for start in range(0, samples, 128):
            sink.add(y[start : start + 128])
        want = cut_windows(y, 100, 5.0, threshold)
        np.testing.assert_array_equal(sink.windows(threshold, keep=100), want)


def test_a_long_flac_streams_to_the_same_windows_as_a_whole_read(tmp_path, emotify):
    """Block by block (decode, mix down, resample) is sample for sample a whole-file read."""
    y, sr = sf.read(pick_clips(per_genre=1)[0], dtype="float32", always_2d=True)
    path = tmp_path / "three.flac"
    sf.write(path, np.concatenate([y, y[::-1], y]), sr)
    got = decode_windows(path, 11025, 5.0, max_windows=1000)  # below the cap: the whole file
    import soxr

    whole = soxr.resample(sf.read(path, dtype="float32", always_2d=True)[0] @ np.full(
        2, 0.5, np.float32), sr, 11025, quality="HQ")
    n = len(whole) // 55125
    np.testing.assert_array_equal(got.windows[:n].reshape(-1), whole[: n * 55125])
