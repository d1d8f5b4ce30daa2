"""How a track's path is spelled inside a playlist: one rule per player layout.

- playlist: relative to the playlist file (players that read lists inside the library folder)
- library:  relative to the library root (MPD's playlist_directory, `.m3u`)
- absolute: the absolute path
- prefix:   prefix + path relative to the library root, forward slashes, optionally
            URL-encoded (a player on another host, or a container mounting the files elsewhere)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from urllib.parse import quote

from ..errors import ClusterError
from ..log import log

MODES = ("playlist", "library", "absolute", "prefix")


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

    def format(self, path: Path, folder: Path) -> str | None:
        """The line for `path` in a playlist inside `folder`; None if this style can't say it."""
        path = Path(os.path.abspath(path))
        if "\n" in str(path) or "\r" in str(path):
            log.warning("skipping {!r} in playlists: a line break in its name", str(path))
            return None
        if self.mode == "absolute":
            return str(path)
        if self.mode == "playlist":
            rel = os.path.relpath(path, os.path.abspath(folder))
            return _not_a_comment(PurePath(rel).as_posix())
        inside = self._inside_root(path)
        if inside is None:
            if self.mode == "library":
                # beets can keep files outside its directory (import without copy/move);
                # an absolute path is the only spelling left, and MPD loads it if it can.
                log.warning("{} is outside the library root; written as an absolute path", path)
                return str(path)
            log.warning("skipping {}: outside the library root, no prefixed path for it", path)
            return None
        if self.mode == "library":
            return _not_a_comment(inside)
        rel = quote(inside, safe="/") if self.url_encode else inside
        return self.prefix.rstrip("/") + "/" + rel

    def _inside_root(self, path: Path) -> str | None:
        assert self.library_root is not None
        root = Path(os.path.abspath(self.library_root))
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return None


def _not_a_comment(rel: str) -> str:
    # A file whose relative path starts with '#' would read as a comment line.
    return "./" + rel if rel.startswith("#") else rel
