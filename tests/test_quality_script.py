"""scripts/quality.py on a small labelled folder: the product's analysis and fit, one row per
option set, the measures over the seeds."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO, copy_clips, pick_clips

pytestmark = pytest.mark.slow


def test_prints_a_row_per_option_set_for_a_labelled_folder(tmp_path, emotify):
    music = tmp_path / "music"
    clips = copy_clips(pick_clips(per_genre=3), music)
    (music / "labels.csv").write_text(
        "file,genre\n" + "".join(f"{c.parent.name}/{c.name},{c.parent.name}\n" for c in clips))
    run = [sys.executable, str(REPO / "scripts" / "quality.py"), "--folder", str(music),
           "--backend", "handcrafted", "--stores", str(tmp_path / "stores")]
    out = subprocess.run(run, capture_output=True, text=True, timeout=600, check=True).stdout
    assert "music handcrafted: 12 clips (12 analysed now)" in out
    rows = {line.split(" | ")[0].lstrip("| "): line for line in out.splitlines()
            if line.startswith("| handcrafted")}
    for name in ("before: mean", "NEW DEFAULT: mean_std + unit rows", "before, PCA 0.8",
                 "mean_std + unit rows, -m vae"):
        assert f"handcrafted · {name}" in rows, out
    nmi, std = re.search(r"\| ([\d.]+) ± ([\d.]+) \|", rows["handcrafted · before: mean"]).groups()
    assert 0.0 <= float(nmi) <= 1.0 and 0.0 <= float(std) < 0.5
    again = subprocess.run(run, capture_output=True, text=True, timeout=600, check=True).stdout
    assert "12 clips (0 analysed now)" in again  # the kept store: a rerun only reads
    assert again.split("\n\n")[-1] == out.split("\n\n")[-1]  # fixed seeds: the same table
