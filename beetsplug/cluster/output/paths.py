"""How a track's path is spelled inside a playlist: one rule per player layout.

- playlist: relative to the playlist file (players that read lists inside the library folder)
- library:  relative to the library root (MPD's playlist_directory, `.m3u`)
- absolute: the absolute path
- prefix:   prefix + path relative to the library root, forward slashes, optionally
            URL-encoded (a player on another host, or a container mounting the files elsewhere)

The one rule for what a playlist line may hold lives here too, for the writer and the readers:
a line ends at "\n" only (a trailing "\r" is dropped), and nothing written may hold a character
that any common reader takes for a line break, NUL, or a byte that is not UTF-8 (an M3U8 is
UTF-8 text). A name that breaks the rule is left out and named in a warning, so no file name
can add, split or forge an entry.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath
from urllib.parse import quote

from ..errors import ClusterError
from ..log import log

MODES = ("playlist", "library", "absolute", "prefix")

# Everything str.splitlines() breaks on (players written in Python, Java and JS split on some
# of these, editors on others), and NUL, which ends a C string.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_UNWRITABLE = frozenset(LINE_BREAKS + "\0")
_TO_SPACE = {ord(c): " " for c in _UNWRITABLE}
_BREAK = re.compile(f"[{re.escape(LINE_BREAKS)}\0]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # os.fsdecode's escape for a byte not UTF-8


def split_lines(text: str) -> list[str]:
    """A playlist's lines by the one rule: "\n" ends a line, a "\r" before it goes with it."""
    return [ln.removesuffix("\r") for ln in text.split("\n")]


def line_problem(line: str) -> str | None:
    """Why `line` can't be a playlist line, or None if it can."""
    found = _BREAK.search(line)  # regex scans: 100k lines are written per run
    if found is not None:
        what = "NUL" if found.group() == "\0" else "a line break"
        return f"{what} (U+{ord(found.group()):04X}) in its name"
    if _SURROGATE.search(line):
        return ("its name is not valid UTF-8, which an M3U8 can't spell "
                "(path_mode prefix with url_encode can)")
    return None


def one_line(text: str) -> str:
    """Free text (a title, a playlist name) made safe for one playlist line."""
    if _BREAK.search(text) is None and _SURROGATE.search(text) is None:
        return " ".join(text.split())  # the common case, a title per line of 100k
    text = _SURROGATE.sub("\ufffd", text)
    return " ".join(text.translate(_TO_SPACE).split())


def readable(text: str) -> str:
    """A name as a person can read it in a warning: bytes that are not UTF-8 as \\xNN,
    line breaks and other control characters escaped, everything else as it is."""
    out = []
    for c in text:
        if "\udc80" <= c <= "\udcff":  # os.fsdecode's escape for one undecodable byte
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif c.isprintable() and c != "\\":
            out.append(c)
        else:
            out.append(c.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class PlaylistError(ClusterError):
    """A playlist could not be written; the message says which file or folder and why."""


@dataclass(frozen=True)
class PathStyle:
    mode: str = "playlist"
    library_root: Path | None = None
    prefix: str = ""
    url_encode: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise PlaylistError(f"unknown path mode {self.mode!r}; use one of {', '.join(MODES)}")
        if self.mode in ("library", "prefix") and self.library_root is None:
            raise PlaylistError(f"path mode {self.mode!r} needs the library root")
        if self.mode == "prefix" and not self.prefix:
            raise PlaylistError("path mode 'prefix' needs a path prefix")

    @property
    def suffix(self) -> str:
        # MPD lists only `NAME.m3u` in its playlist_directory; `.m3u8` tells other players UTF-8.
        return ".m3u" if self.mode == "library" else ".m3u8"

    def format(self, path: str | os.PathLike, folder: Path, *, warn: bool = True) -> str | None:
        """The line for `path` in a playlist inside `folder`; None if this style can't say it
        (with a warning naming the file, unless `warn` is off: a line looked up to remove)."""
        path = _absolute(os.fspath(path))
        line = self._spell(path, folder, warn)
        problem = None if line is None else line_problem(line)
        if problem is not None:
            if warn:
                log.warning("not listing {} in playlists: {}", readable(path), problem)
            return None
        return line

    def _spell(self, path: str, folder: Path, warn: bool) -> str | None:
        if self.mode == "absolute":
            return path
        if self.mode == "playlist":
            head, name = os.path.split(path)
            rel = _relative_folder(head, _absolute(os.fspath(folder)))
            return _not_a_comment(name if rel == "." else f"{rel}/{name}")
        inside = self._inside_root(path)
        if inside is None:
            if self.mode == "library":
                # beets can keep files outside its directory (import without copy/move);
                # an absolute path is the only spelling left, and MPD loads it if it can.
                if warn:
                    log.warning("{} is outside the library root; written as an absolute path",
                                readable(path))
                return path
            if warn:
                log.warning("not listing {} in playlists: outside the library root, no "
                            "prefixed path for it", readable(path))
            return None
        if self.mode == "library":
            return _not_a_comment(inside)
        # the file system's bytes, percent-encoded: a name that is not UTF-8 is spelled too
        rel = quote(os.fsencode(inside), safe="/") if self.url_encode else inside
        return self.prefix.rstrip("/") + "/" + rel

    def _inside_root(self, path: str) -> str | None:
        assert self.library_root is not None
        root = _absolute(os.fspath(self.library_root)).rstrip(os.sep) + os.sep
        if not path.startswith(root) or path == root:
            return None
        return path[len(root):].replace(os.sep, "/")


def _absolute(path: str) -> str:
    """os.path.abspath, skipped for a path that is absolute and plain already (the tracks'
    paths are): a playlist set of 100k lines spells each path once."""
    if os.sep == "/" and path[:1] == "/" and "/." not in path and "//" not in path:
        return path.rstrip("/") or "/"
    return os.path.abspath(path)


@lru_cache(maxsize=4096)
def _relative_folder(folder: str, playlist_folder: str) -> str:
    """A track's folder relative to the playlist's, as forward slashes; one per folder."""
    return PurePath(os.path.relpath(folder, playlist_folder)).as_posix()


def _not_a_comment(rel: str) -> str:
    # A file whose relative path starts with '#' would read as a comment line; one that starts
    # with a space, as one to a player that strips lines first.
    return "./" + rel if rel.lstrip().startswith("#") or rel[:1].isspace() else rel
