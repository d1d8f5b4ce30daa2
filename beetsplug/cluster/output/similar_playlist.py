"""The one playlist of `beet similar`: the cluster playlists' line writer and path modes, but its
own marker, so a `beet cluster` run never takes it for one of its stale playlists (those carry
playlists.MARKER alone on their third line; this file carries SIMILAR_MARKER there)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from . import files
from .paths import PathStyle, PlaylistError, one_line
from .playlists import MARKER, Entry, entry_lines, has_marker, render

SIMILAR_MARKER = f"{MARKER} similar"


def is_similar(path: Path) -> bool:
    return has_marker(path, SIMILAR_MARKER)


def write_similar(path: Path, name: str, entries: list[Entry], style: PathStyle) -> Path:
    """Write (or replace) one similar playlist, atomically; never a file someone else wrote."""
    if path.exists() and not is_similar(path):
        raise PlaylistError(f"refusing to overwrite {path}: not a beets-cluster similar playlist")
    blocks = [b for e in entries if (b := entry_lines(e, style, path.parent))]
    files.make_folder(path.parent)
    files.write_if_changed(path, render(name, blocks, SIMILAR_MARKER))
    return path


def file_name(name: str) -> str:
    """A playlist name as a file name: no folder separators, no leading dot, and no control or
    format character (a right-to-left override would make `evil\u202egpj.m3u8` show as
    `evilu3m.jpg` in a file manager; zero-width and other invisible characters hide what a
    name says)."""
    kept = (c for c in one_line(name) if unicodedata.category(c) not in _INVISIBLE)
    cleaned = "".join("-" if c in "/\\" else c for c in kept).strip().lstrip(".")
    return cleaned[:200] or "Similar"


# control (NUL and the C0/C1 codes), format (bidi overrides and marks, zero-width), line and
# paragraph separators
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
