"""The one playlist of `beet similar`: the cluster playlists' line writer and path modes, but its
own marker, so a `beet cluster` run never takes it for one of its stale playlists (those carry
playlists.MARKER alone on their third line; this file carries SIMILAR_MARKER there)."""

from __future__ import annotations

from pathlib import Path

from . import files
from .paths import PathStyle, PlaylistError, one_line, split_lines
from .playlists import MARKER, Entry, _entry_lines

SIMILAR_MARKER = f"{MARKER} similar"
_HEAD_BYTES = 4096


def is_similar(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return SIMILAR_MARKER in split_lines(head)[:3]


def write_similar(path: Path, name: str, entries: list[Entry], style: PathStyle) -> Path:
    """Write (or replace) one similar playlist, atomically; never a file someone else wrote."""
    if path.exists() and not is_similar(path):
        raise PlaylistError(f"refusing to overwrite {path}: not a beets-cluster similar playlist")
    blocks = [b for e in entries if (b := _entry_lines(e, style, path.parent))]
    head = ["#EXTM3U", f"#PLAYLIST:{one_line(name)}", SIMILAR_MARKER]
    files.make_folder(path.parent)
    files.write_if_changed(path, "\n".join(head + [ln for b in blocks for ln in b]) + "\n")
    return path


def file_name(name: str) -> str:
    """A playlist name as a file name: no folder separators, no NUL, no leading dot."""
    cleaned = "".join("-" if c in "/\\\0" else c for c in one_line(name)).strip().lstrip(".")
    return cleaned[:200] or "Similar"
