"""Shared by the scripts: the dev sets' clips and labels (emotify-dev, games-dev)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EMOTIFY = REPO.parent / "shared" / "data" / "emotify-dev"
GAMES = REPO.parent / "shared" / "data" / "games-dev"
sys.path[:0] = [str(REPO), str(REPO / "daemon")]


def labelled_clips(folder: Path = EMOTIFY) -> dict[str, str]:
    """Absolute path -> label, sorted by path. The label column is `genre` (emotify-dev, the
    evaluate script's own folders) or `label` (games-dev: the source game)."""
    with open(folder / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    return {str(folder / r["file"]): r["genre"] if "genre" in r else r["label"] for r in rows}
