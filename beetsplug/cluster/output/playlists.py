"""M3U8 playlists: one file per cluster, written atomically, ours recognised by a marker line.

Players skip `#` lines they don't know (MPD, Navidrome, Jellyfin, VLC), so the marker costs
nothing and lets a later run remove its own stale playlists without touching anyone else's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..log import log
from . import files
from .paths import PathStyle, PlaylistError, line_problem, one_line, readable, split_lines

PLAYLIST_RELATIVE = PathStyle()  # the default: entries relative to the playlist file

__all__ = [
    "MARKER",
    "Entry",
    "PathStyle",
    "PlaylistError",
    "add_entry",
    "move_entries",
    "read_playlist",
    "remove_entries",
    "write_playlists",
]


MARKER = "# beets-cluster"
_SUFFIXES = (".m3u8", ".m3u")
_HEAD_BYTES = 4096  # the marker sits in the first three lines


@dataclass(frozen=True)
class Entry:
    path: str | Path  # absolute
    seconds: float | None
    title: str  # "Artist - Title", or the file stem


def write_playlists(
    playlists: dict[str, list[Entry]],
    folder: Path,
    *,
    mode: str = "playlist",
    library_root: Path | None = None,
    prefix: str = "",
    url_encode: bool = False,
) -> dict[Path, int]:
    """Write one playlist per name into `folder`, then remove our stale ones; return each file
    with the number of tracks it lists (a path no line can spell is left out).

    As a set: every changed playlist is first written beside the old one as a temp file, and
    only when all are written are they renamed into place. A failure (a full disk, a read-only
    folder) removes the temps and leaves the previous set whole. Entries keep the given order.
    A file whose content would not change is left alone, so players that re-import on mtime
    see nothing new after an unchanged run.
    """
    style = PathStyle(mode, library_root, prefix, url_encode)
    files.make_folder(folder)
    targets = {name: folder / (_check_name(name) + style.suffix) for name in playlists}
    # Refuse before writing anything, so a conflict never leaves half a set behind.
    for target in targets.values():
        if target.exists() and not is_ours(target):
            raise PlaylistError(f"refusing to overwrite {target}: not written by beets-cluster")
    texts, listed = {}, {}
    for name, target in targets.items():
        blocks = [b for e in playlists[name] if (b := entry_lines(e, style, folder))]
        texts[target], listed[target] = render(name, blocks), len(blocks)
    temps: dict[Path, Path] = {}
    try:
        for target, text in texts.items():
            if not files.unchanged(target, text):
                temps[target] = files.write_temp(target, text)
        # Renames within one folder allocate nothing, so once every temp is written the swap
        # does not fail for want of space.
        for target in list(temps):
            files.replace(temps[target], target)
            del temps[target]
    finally:
        for tmp in temps.values():
            files.discard(tmp)
    _remove_stale(folder, set(targets.values()))
    return listed


def read_playlist(path: Path) -> list[str]:
    """The entries of a playlist as written (comments and blank lines skipped)."""
    return [ln for ln in split_lines(_read_text(path)) if ln.strip() and not ln.startswith("#")]


def is_ours(path: Path) -> bool:
    return has_marker(path, MARKER)


def has_marker(path: Path, marker: str) -> bool:
    """Whether `marker` stands alone on one of the file's first three lines."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return marker in split_lines(head)[:3]


def add_entry(
    path: Path,
    entry: Entry,
    style: PathStyle = PLAYLIST_RELATIVE,
) -> bool:
    """Append one entry to playlist `path` (created if missing); False if it was already there."""
    lines = entry_lines(entry, style, path.parent)
    if lines is None:
        return False
    files.make_folder(path.parent)
    blocks = _read_ours(path) if path.exists() else []
    if any(b[-1] == lines[-1] for b in blocks):
        return False
    files.write_if_changed(path, render(path.stem, blocks + [lines]))
    return True


def remove_entries(
    folder: Path,
    paths: Iterable[Path],
    style: PathStyle = PLAYLIST_RELATIVE,
) -> list[Path]:
    """Drop these tracks from every playlist of ours in `folder`; return the files rewritten."""
    gone = {style.format(Path(p), folder, warn=False) for p in paths} - {None}
    return _rewrite_all(folder, lambda b: None if b[-1] in gone else b)


def move_entries(
    folder: Path,
    pairs: Iterable[tuple[Path, Path]],
    style: PathStyle = PLAYLIST_RELATIVE,
) -> list[Path]:
    """Several moves in one pass over our playlists; applied at once, so a swap is safe.

    A track moved to a name no playlist line can hold leaves its playlists (and is warned about):
    its old line would point at nothing.
    """
    lines = {style.format(Path(o), folder, warn=False): style.format(Path(n), folder)
             for o, n in pairs}
    lines = {o: n for o, n in lines.items() if o is not None and o != n}
    if not lines:
        return []
    return _rewrite_all(folder, lambda b: _moved(b, lines))


def _moved(block: Block, lines: dict[str, str | None]) -> Block | None:
    if block[-1] not in lines:
        return block
    new = lines[block[-1]]
    return None if new is None else [*block[:-1], new]


# --- internals -------------------------------------------------------------------------------

Block = list[str]  # optional #EXTINF line, then the entry line


def entry_lines(entry: Entry, style: PathStyle, folder: Path) -> Block | None:
    line = style.format(entry.path, folder)
    if line is None:
        return None
    secs = -1 if entry.seconds is None else round(entry.seconds)  # -1: length unknown (M3U)
    return [f"#EXTINF:{secs},{one_line(entry.title)}", line]


def render(name: str, blocks: list[Block], marker: str = MARKER) -> str:
    head = ["#EXTM3U", f"#PLAYLIST:{one_line(name)}", marker]
    return "\n".join(head + [ln for b in blocks for ln in b]) + "\n"


def _read_ours(path: Path) -> list[Block]:
    if not is_ours(path):
        raise PlaylistError(f"refusing to rewrite {path}: not written by beets-cluster")
    blocks: list[Block] = []
    extinf: str | None = None
    for ln in split_lines(_read_text(path)):
        if ln.startswith("#EXTINF:"):
            extinf = ln if line_problem(ln) is None else None
        elif ln.strip() and not ln.startswith("#"):
            problem = line_problem(ln)
            if problem is None:
                blocks.append([extinf, ln] if extinf else [ln])
            else:  # an older writer let it through: other readers would split it
                log.warning("dropping {} from {}: {}", readable(ln), path, problem)
            extinf = None
    return blocks


def _read_text(path: Path) -> str:
    # surrogateescape: a stray byte is kept (and caught by line_problem), never a crash
    return path.read_text(encoding="utf-8", errors="surrogateescape")


def _rewrite_all(folder: Path, change) -> list[Path]:
    changed = []
    for path in _our_files(folder):
        blocks = _read_ours(path)
        new = [b2 for b in blocks if (b2 := change(b)) is not None]
        if new != blocks:
            files.atomic_write(path, render(path.stem, new))
            changed.append(path)
    return changed


def _our_files(folder: Path) -> list[Path]:
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise PlaylistError(f"cannot list playlist folder {folder}: {e.strerror}") from e
    return [p for p in files if p.is_file() and is_ours(p)]


def _remove_stale(folder: Path, keep: set[Path]) -> None:
    for path in _our_files(folder):
        if path not in keep:
            try:
                path.unlink()
            except OSError as e:  # a stale list left behind is not worth failing the run for
                log.warning("cannot remove stale playlist {}: {}", path, e.strerror)


def _check_name(name: str) -> str:
    if not name.strip() or name in (".", "..") or "/" in name or os.sep in name or "\0" in name:
        raise PlaylistError(f"unusable playlist name: {name!r}")
    return name
