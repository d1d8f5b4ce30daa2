"""The daemon's question about files it sees: is there work? Asked of the files an event names,
or of every file of the library at start-up, in one pass over the store. And the set placements
are listed in, kept whole: a placement into a playlist that is gone (its folder deleted) first
writes the whole set again from the store, and the start-up checks every placed track's line."""

from __future__ import annotations

import os
from pathlib import Path

from . import freshness
from .freshness import State
from .item_table import read_table
from .log import log
from .output import playlists
from .records import Track


class FileQuestions:
    """Mixed into the core's Library (its store, embedder, settings, path style and move)."""

    def unplaced(self, paths: list[str]) -> list[str]:
        """Those of `paths` that need placing: not a file that is analysed as it is and in the
        last run, failed as it is, or was only moved here (its vector and playlist line follow
        it now; our own tag writes come back as such events). The store is read once for all
        of them: start-up on 100k files takes seconds, not three queries a file."""
        emb = self.embedder
        rows = self.store.rows(emb.name, paths)
        run = self.store.last_run(emb.name)
        placed = self.store.assigned(run["id"], paths) if run is not None else set()
        out = []
        for path in paths:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue  # gone again; its delete event follows
            except OSError:  # no permission on its folder: `place` reports it by name
                out.append(path)
                continue
            now = freshness.state(rows.get(path), st, emb.version,
                                  self.settings.aggregate == "chunk_level")
            if ((now is State.UNKNOWN and not self._adopt_moved(path, st))
                    or (now is State.FRESH and run is not None and path not in placed)
                    or now is State.CHANGED):
                out.append(path)
        return out

    def _adopt_moved(self, path: str, st: os.stat_result) -> bool:
        """A file the store knows under a path that is gone, with the same size and mtime and
        the same audio fingerprint, was moved here unseen: its vector and playlist line follow,
        through the one move path. Size and mtime alone are not enough (a copy keeps the
        mtime, `touch -d` sets any), and a format without a fingerprint is analysed again."""
        emb, here = self.embedder, None
        for old in self.store.find_moved(st.st_size, st.st_mtime, emb.name, emb.version):
            if old == path or os.path.exists(old):
                continue
            row = self.store.row(old, emb.name)
            if row is None or row.fingerprint is None:
                continue
            if here is None:
                from .analysis.audio import fingerprint

                here = fingerprint(path) or ""
            if row.fingerprint == here:
                log.debug("{} moved to {}; vector kept", old, path)
                self.move([(old, path)])
                return True
        return False

    def _list(self, run: dict, name: str, entry: playlists.Entry) -> None:
        """One line into playlist `name`; a missing playlist (its folder deleted) means the
        set is gone: it is written whole from the store first, not begun anew with one line."""
        target = self.settings.playlist_dir / f"{name}{self.path_style.suffix}"
        if not target.exists():
            self.restore_playlists(run, f"{target} is missing")
        playlists.add_entry(target, entry, style=self.path_style)

    def restore_playlists(self, run: dict, why: str) -> list[Path]:
        """The last run's playlists written whole again from the store's assignments (the
        files that still exist, nearest first), as `beet cluster` last left them plus every
        placement since."""
        log.warning("{}: writing the last run's playlists again from the store", why)
        rows = self.store.assignments(run["id"])
        table = read_table(self.beets) if self.beets is not None else {}
        seconds = self.store.durations_of(run["backend"], list(rows))
        named: dict[str, list[tuple[float, str]]] = {}
        for path, (_, distance, name) in rows.items():
            if os.path.exists(path):
                named.setdefault(name, []).append((distance, path))
        entries = {name: [entry_of(p, table.get(p), seconds.get(p))
                          for _, p in sorted(members)] for name, members in named.items()}
        s = self.settings
        return playlists.write_playlists(entries, s.playlist_dir, mode=s.path_mode,
                                         library_root=s.library_root, prefix=s.path_prefix,
                                         url_encode=s.url_encode)

    def repair_playlists(self) -> int:
        """Every track the last run holds (and that exists) has its line, or the set is
        written again from the store. Returns how many lines were missing."""
        run = self.store.last_run(self.settings.backend)
        if run is None:
            return 0
        folder, style = self.settings.playlist_dir, self.path_style
        lines: dict[str, set[str]] = {}
        missing = 0
        for path, (_, _, name) in self.store.assignments(run["id"]).items():
            if name not in lines:
                target = folder / f"{name}{style.suffix}"
                lines[name] = set(playlists.read_playlist(target)) if target.is_file() else set()
            line = style.format(Path(path), folder, warn=False)
            missing += line is not None and line not in lines[name] and os.path.exists(path)
        if missing:
            self.restore_playlists(run, f"{missing} placed tracks have no playlist line")
        return missing


def entry_of(path: str, track: Track | None, seconds: float | None = None) -> playlists.Entry:
    """A track's playlist line: beets' title and length, else the file's name and `seconds`,
    the length the analysis decoded (a file beets does not know)."""
    # str, not Path: 100k entries per run, and the writer spells strings
    title = (track.title if track else None) or os.path.splitext(os.path.basename(path))[0]
    return playlists.Entry(path, (track.duration if track else None) or seconds, title)
