"""The daemon's question about files it sees: is there work? Asked of the files an event names,
or of every file of the library at start-up, in one pass over the store."""

from __future__ import annotations

import os

from . import freshness
from .freshness import State
from .log import log


class FileQuestions:
    """Mixed into the core's Library (its store, embedder, settings and move)."""

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
