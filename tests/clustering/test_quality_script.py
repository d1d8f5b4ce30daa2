"""scripts/quality.py on a small labelled set: the product's analysis and fit, one row per
option set, each judged against the simplest by the rule's two tests, and the windows curve."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from re import MULTILINE as M

import pytest
from conftest import REPO, copy_clips, pick_clips

pytestmark = pytest.mark.slow


def full_layout(tmp_path, full_slice, per_label: int):
    """A folder laid out as make_full_library.sh lays one out (labels.csv beside music/, files
    relative to music/, the game as `label`, `duration_s`): `per_label` tracks of each game of
    the full slice, its music/ linked, not copied."""
    with open(full_slice.root / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    picked = [r for label in sorted({r["label"] for r in rows})
              for r in [r for r in rows if r["label"] == label][:per_label]]
    lib = tmp_path / "full-lib"
    lib.mkdir()
    (lib / "music").symlink_to(full_slice.root / "music")
    with open(lib / "labels.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(picked)
    return lib, len(picked)


def test_judges_option_sets_and_windows_on_a_full_length_library(tmp_path, full_slice):
    lib, n = full_layout(tmp_path, full_slice, per_label=6)
    run = [sys.executable, str(REPO / "scripts" / "quality.py"), "--folder", str(lib),
           "--backend", "handcrafted", "--stores", str(tmp_path / "stores"),
           "--cost-tracks", "0"]
    out = subprocess.run(run, capture_output=True, text=True, timeout=600, check=True).stdout
    assert f"full-lib handcrafted (every window): {n} tracks ({n} analysed now)" in out
    rows = {line.split(" | ")[0].lstrip("| "): line for line in out.splitlines()
            if line.startswith("| handcrafted")}
    for name in ("mean", "mean, unit rows", "mean + spread", "mean + spread, unit rows"):
        assert f"handcrafted · {name}" in rows, out
    nmi, std = re.search(r"\| ([\d.]+) ± ([\d.]+) \|", rows["handcrafted · mean"]).groups()
    assert 0.0 <= float(nmi) <= 1.0 and 0.0 <= float(std) < 0.5
    # each option set against the simplest: the difference, its interval, the seeds' p
    judged = re.findall(r"^handcrafted · (.+) against mean: (PASSES|fails)$", out, M)
    assert [name for name, _ in judged] == ["mean, unit rows", "mean + spread",
                                            "mean + spread, unit rows"], out
    lines = re.findall(r"^    full-lib: NMI ([-+][\d.]+) \[([-+][\d.]+), ([-+][\d.]+)\] "
                       r"p=([\d.]+); P@10 [-+][\d.]+ \[[-+][\d.]+, [-+][\d.]+\] -> (.+)$",
                       out, M)
    assert len(lines) == 3, out
    for d, lo, hi, p, _ in lines:
        assert float(lo) <= float(d) <= float(hi) and 0.0 <= float(p) <= 1.0
    assert re.search(r"^handcrafted: the rule keeps \*\*.+\*\*$", out, M), out
    # the windows curve: every cap of the curve, every window, and the rule's default
    curve = re.findall(r"^\| (\d+|every window) \| [\d.]+ ± [\d.]+ \| [\d.]+ \| (.+) \|$",
                       out, M)
    caps = [c for c, _ in curve]
    assert {"4", "8", "12", "16", "27", "every window"} <= set(caps), out
    assert re.search(r"^the rule's default: (\d+|every window)", out, M), out
    again = subprocess.run(run, capture_output=True, text=True, timeout=600, check=True).stdout
    assert f"{n} tracks (0 analysed now)" in again  # the kept store: a rerun only reads
    assert again.split("\n\n", 1)[1] == out.split("\n\n", 1)[1]  # fixed seeds and resamples


def test_reads_the_dev_sets_layout(tmp_path, emotify):
    """emotify-dev's layout: files relative to the folder, the label in `genre`; lengths read
    from the files (beets would know them)."""
    sys.path.insert(0, str(REPO / "scripts"))
    from quality_sets import labelled_set

    music = tmp_path / "music"
    clips = copy_clips(pick_clips(per_genre=1), music)
    (music / "labels.csv").write_text(
        "file,genre\n" + "".join(f"{c.parent.name}/{c.name},{c.parent.name}\n" for c in clips))
    s = labelled_set(music)
    assert s.name == "music" and sorted(s.labels) == sorted(str(c) for c in clips)
    assert {s.labels[str(c)] for c in clips} == {c.parent.name for c in clips}
    assert all(25 < s.durations[str(c)] < 35 for c in clips)  # 30 s clips
