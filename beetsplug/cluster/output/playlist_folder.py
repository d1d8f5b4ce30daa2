"""The core's playlist folder: where the cluster playlists live and how their lines spell a
path, from the settings once. Every change to the set goes through here (playlists.py does
the file work: atomic writes, the marker, one rule for a line)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..records import Track
from . import playlists
from .playlists import Entry, PathStyle

if TYPE_CHECKING:
    from ..config import Settings


class PlaylistFolder:
    def __init__(self, settings: Settings):
        self.settings = settings  # what the folder and style were made from
        self.folder: Path = settings.playlist_dir
        self.style = PathStyle(settings.path_mode, settings.library_root, settings.path_prefix,
                               settings.url_encode)

    def file(self, name: str) -> Path:
        return self.folder / f"{name}{self.style.suffix}"

    def write(self, entries: dict[str, list[Entry]]) -> dict[Path, int]:
        """The whole set, each file with the number of tracks it lists; our stale ones go."""
        s = self.style
        return playlists.write_playlists(entries, self.folder, mode=s.mode,
                                         library_root=s.library_root, prefix=s.prefix,
                                         url_encode=s.url_encode)

    def add(self, name: str, entry: Entry) -> bool:
        return playlists.add_entry(self.file(name), entry, style=self.style)

    def remove(self, paths: Iterable[str]) -> list[Path]:
        return playlists.remove_entries(self.folder, [Path(p) for p in paths], style=self.style)

    def move(self, pairs: Iterable[tuple[str, str]]) -> list[Path]:
        return playlists.move_entries(self.folder, [(Path(o), Path(n)) for o, n in pairs],
                                      style=self.style)

    def line(self, path: str) -> str | None:
        """The line this path has in a playlist here; None where no line can spell it."""
        return self.style.format(Path(path), self.folder, warn=False)

    def lines(self, name: str) -> set[str]:
        target = self.file(name)
        return set(playlists.read_playlist(target)) if target.is_file() else set()


def entry_of(path: str, track: Track | None, seconds: float | None = None) -> Entry:
    """A track's playlist line: beets' title and length, else the file's name and `seconds`,
    the length the analysis decoded (a file beets does not know)."""
    # str, not Path: 100k entries per run, and the writer spells strings
    title = (track.display_name if track else None) or os.path.splitext(os.path.basename(path))[0]
    return Entry(path, (track.duration if track else None) or seconds, title)
