"""A recluster's cost is the store read and the clustering, not beets Items: on a synthetic
library of a few thousand analysed tracks, `beet cluster` builds no Item per track, the first
time (the cluster field written to every item) or with nothing changed; `beet ls` on the same
library shows that the count is real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from synthetic_library import build

N = 3000


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("big")
    build(root, N, files=True, config={"workers": 1})
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["import"] = {"write": False}  # the tiny files are not audio: the database only
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def beet(root: Path, *args: str) -> tuple[int, str]:
    """(Items built, stdout) of one `beet` process."""
    count = root / "items-built"
    env = {**os.environ, "BEETSDIR": str(root), "ITEM_COUNT_FILE": str(count),
           "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "helpers" / "item_counter"),
                                           str(REPO)])}
    out = subprocess.run([sys.executable, "-m", "beets", *args], env=env, check=True,
                         capture_output=True, text=True, timeout=600).stdout
    return int(count.read_text()), out


def test_a_recluster_builds_no_beets_item_per_track(big):
    built, _ = beet(big, "ls")
    assert built >= N  # the counter counts

    built, out = beet(big, "cluster", "-n", "4")
    assert f"{N} tracks changed cluster" in out, out
    assert built < 10, f"the first run built {built} beets Items"

    built, out = beet(big, "cluster", "-n", "4")
    assert "0 tracks changed cluster" in out, out
    assert built < 10, f"a recluster with nothing changed built {built} beets Items"

    _, listed = beet(big, "ls", "-f", "$cluster", "cluster:1..4")
    assert len(listed.split()) == N  # the field reached every item, through the bulk write
