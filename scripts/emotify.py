"""Shared by the scripts: emotify-dev's clips and labels, and a pipeline run over them."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EMOTIFY = REPO.parent / "shared" / "data" / "emotify-dev"
sys.path[:0] = [str(REPO), str(REPO / "daemon")]


def labelled_clips(folder: Path = EMOTIFY) -> dict[str, str]:
    """Absolute path -> genre, sorted by path."""
    with open(folder / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    return {str(folder / r["file"]): r["genre"] for r in rows}
