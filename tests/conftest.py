"""Shared fixtures: real clips from ../shared/data/emotify-dev, copied before anything writes."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

EMOTIFY = Path(__file__).resolve().parents[2] / "shared" / "data" / "emotify-dev"
GENRES = ("classical", "electronic", "pop", "rock")


def emotify_labels() -> dict[Path, str]:
    """Every clip of emotify-dev with its genre, in a stable order."""
    with open(EMOTIFY / "labels.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["file"])
    return {EMOTIFY / r["file"]: r["genre"] for r in rows}


def pick_clips(per_genre: int, offset: int = 0) -> list[Path]:
    """`per_genre` clips of each genre, the same ones every time."""
    by_genre: dict[str, list[Path]] = {g: [] for g in GENRES}
    for path, genre in emotify_labels().items():
        by_genre[genre].append(path)
    return [p for g in GENRES for p in by_genre[g][offset : offset + per_genre]]


def copy_clips(clips: list[Path], dest: Path) -> list[Path]:
    """Copy clips into dest/<genre>/ (the source folder is read-only)."""
    out = []
    for clip in clips:
        target = dest / clip.parent.name / clip.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, target)
        out.append(target)
    return out


@pytest.fixture(scope="session")
def emotify() -> Path:
    if not (EMOTIFY / "labels.csv").exists():
        pytest.fail(f"test audio missing: {EMOTIFY} (shared/data must sit beside the checkout)")
    return EMOTIFY
