"""M3U8 playlists: one file per cluster, written atomically, ours recognised by a marker line.

Players skip `#` lines they don't know (MPD, Navidrome, Jellyfin, VLC), so the marker costs
nothing and lets a later run remove its own stale playlists without touching anyone else's.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..log import log
from .paths import PathStyle, PlaylistError, line_problem, one_line, readable, split_lines

PLAYLIST_RELATIVE = PathStyle()  # the default: entries relative to the playlist file

__all__ = [
    "MARKER",
    "Entry",
    "PathStyle",
    "PlaylistError",
    "add_entry",
    "move_entries",
    "move_entry",
    "read_playlist",
    "remove_entries",
    "write_json",
    "write_playlists",
]


MARKER = "# beets-cluster"
_SUFFIXES = (".m3u8", ".m3u")
_HEAD_BYTES = 4096  # the marker sits in the first three lines


@dataclass(frozen=True)
class Entry:
    path: Path  # absolute
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
    extension: str | None = None,
) -> list[Path]:
    """Write one playlist per name into `folder`, then remove our stale ones; return the files.

    As a set: every changed playlist is first written beside the old one as a temp file, and
    only when all are written are they renamed into place. A failure (a full disk, a read-only
    folder) removes the temps and leaves the previous set whole. Entries keep the given order.
    A file whose content would not change is left alone, so players that re-import on mtime
    see nothing new after an unchanged run.
    """
    style = PathStyle(mode, library_root, prefix, url_encode)
    suffix = extension or style.suffix
    _make_folder(folder)
    targets = {name: folder / (_check_name(name) + suffix) for name in playlists}
    # Refuse before writing anything, so a conflict never leaves half a set behind.
    for target in targets.values():
        if target.exists() and not is_ours(target):
            raise PlaylistError(f"refusing to overwrite {target}: not written by beets-cluster")
    texts = {}
    for name, target in targets.items():
        lines = [_entry_lines(e, style, folder) for e in playlists[name]]
        texts[target] = _render(name, [ln for ln in lines if ln])
    temps: dict[Path, Path] = {}
    try:
        for target, text in texts.items():
            if not _unchanged(target, text):
                temps[target] = _write_temp(target, text)
        # Renames within one folder allocate nothing, so once every temp is written the swap
        # does not fail for want of space.
        for target in list(temps):
            _replace(temps[target], target)
            del temps[target]
    finally:
        for tmp in temps.values():
            _discard(tmp)
    _remove_stale(folder, set(targets.values()))
    return list(targets.values())


def read_playlist(path: Path) -> list[str]:
    """The entries of a playlist as written (comments and blank lines skipped)."""
    return [ln for ln in split_lines(_read_text(path)) if ln.strip() and not ln.startswith("#")]


def is_ours(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return MARKER in split_lines(head)[:3]


def add_entry(
    path: Path,
    entry: Entry,
    style: PathStyle = PLAYLIST_RELATIVE,
) -> bool:
    """Append one entry to playlist `path` (created if missing); False if it was already there."""
    lines = _entry_lines(entry, style, path.parent)
    if lines is None:
        return False
    _make_folder(path.parent)
    blocks = _read_ours(path) if path.exists() else []
    if any(b[-1] == lines[-1] for b in blocks):
        return False
    _write_if_changed(path, _render(path.stem, blocks + [lines]))
    return True


def remove_entries(
    folder: Path,
    paths: Iterable[Path],
    style: PathStyle = PLAYLIST_RELATIVE,
) -> list[Path]:
    """Drop these tracks from every playlist of ours in `folder`; return the files rewritten."""
    gone = {style.format(Path(p), folder, warn=False) for p in paths} - {None}
    return _rewrite_all(folder, lambda b: None if b[-1] in gone else b)


def move_entry(
    folder: Path,
    old: Path,
    new: Path,
    style: PathStyle = PLAYLIST_RELATIVE,
) -> list[Path]:
    """Point entries for `old` at `new` in our playlists in `folder`, keeping order and title."""
    return move_entries(folder, [(old, new)], style)


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


def write_json(playlists: dict[str, list[Entry]], out: Path) -> None:
    """`--output FILE.json`: name -> [{path, seconds, title}], absolute paths."""
    data = {
        name: [{"path": str(e.path), "seconds": e.seconds, "title": e.title} for e in entries]
        for name, entries in playlists.items()
    }
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    # A name that is not UTF-8 holds surrogate escapes: as JSON escapes they are valid JSON,
    # and json.loads + os.fsencode give back the file system's bytes.
    text = re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m[0]):04x}", text)
    _make_folder(out.parent)
    _atomic_write(out, text)


# --- internals -------------------------------------------------------------------------------

Block = list[str]  # optional #EXTINF line, then the entry line


def _entry_lines(entry: Entry, style: PathStyle, folder: Path) -> Block | None:
    line = style.format(entry.path, folder)
    if line is None:
        return None
    secs = -1 if entry.seconds is None else round(entry.seconds)  # -1: length unknown (M3U)
    return [f"#EXTINF:{secs},{one_line(entry.title)}", line]


def _render(name: str, blocks: list[Block]) -> str:
    head = ["#EXTM3U", f"#PLAYLIST:{one_line(name)}", MARKER]
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
            _atomic_write(path, _render(path.stem, new))
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


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PlaylistError(f"cannot create playlist folder {folder}: {e.strerror}") from e


def _unchanged(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False  # missing or unreadable: write it


def _write_if_changed(path: Path, text: str) -> None:
    if not _unchanged(path, text):
        _atomic_write(path, text)


def _atomic_write(path: Path, text: str) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the new one."""
    tmp = _write_temp(path, text)
    try:
        _replace(tmp, path)
    except PlaylistError:
        _discard(tmp)
        raise


def _write_temp(path: Path, text: str) -> Path:
    """`text` in a synced temp file beside `path`; nothing is left behind when that fails."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open with 0o666 lets the umask decide, so a player running as another user can
        # read the list (tempfile would make it 0600).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise PlaylistError(f"cannot write playlist {path}: {e.strerror or e}") from e
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        _discard(tmp)
        raise PlaylistError(f"cannot write playlist {path}: {e.strerror or e}") from e
    return tmp


def _replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as e:
        raise PlaylistError(f"cannot write playlist {path}: {e.strerror or e}") from e


def _discard(tmp: Path) -> None:
    """Remove a temp file of ours if it is still there. Never raises: it runs while another
    error is on its way to the user, which must not be replaced by this one."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError as e:
        log.warning("cannot remove temp file {}: {}", tmp, e.strerror or e)
