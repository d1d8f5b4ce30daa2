"""scripts/evaluate_folder.py on a small labelled folder: the real core, then the table."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO, copy_clips, pick_clips

pytestmark = pytest.mark.slow


def test_prints_the_measures_for_a_labelled_folder(tmp_path, emotify):
    clips = copy_clips(pick_clips(per_genre=3), tmp_path / "music")
    (tmp_path / "music" / "labels.csv").write_text(
        "file,genre\n" + "".join(f"{c.parent.name}/{c.name},{c.parent.name}\n" for c in clips))
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "evaluate_folder.py"), "--folder",
         str(tmp_path / "music"), "--store", str(tmp_path / "s.db"), "-k", "4", "-k", "auto"],
        capture_output=True, text=True, timeout=300, check=True).stdout
    assert "12 clips: 12 analysed now" in out
    for measure in ("silhouette", "nmi", "purity", "k=4", "k=auto"):
        assert measure in out, out
