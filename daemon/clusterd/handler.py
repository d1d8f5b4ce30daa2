"""The daemon's Handler: each batch of file events becomes calls on the core's Library; beets
is asked which files are its items (with a short wait for an import still committing)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from beets import library as beets_library
from beets import ui

from beetsplug.cluster import log as cluster_log
from beetsplug.cluster.beets_config import settings_from_beets
from beetsplug.cluster.beets_items import track_of
from beetsplug.cluster.config import Settings
from beetsplug.cluster.errors import ClusterError, StoreError
from beetsplug.cluster.item_table import read_tracks
from beetsplug.cluster.library import Library
from beetsplug.cluster.output.paths import PlaylistError
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Store
from clusterd.beets_lookup import add_files, find_items, open_library
from clusterd.events import PathFilter
from clusterd.service import DaemonOptions
from clusterd.worker import CoreBinding

log = cluster_log.get(__name__)

def build(options: DaemonOptions, lib: beets_library.Library | None = None) -> CoreBinding:
    """The core for the daemon, from the current beets config; `lib` when beets opened it."""
    lib = lib or open_library()
    settings = settings_from_beets(who="clusterd")
    try:
        Store(settings.store).close()  # a bad store path fails at start, not per file
    except ClusterError as exc:
        raise ui.UserError(f"clusterd: {exc}") from exc
    return CoreBinding(CoreHandler(lib, settings), errors=(ClusterError,))


class CoreHandler:
    """The `clusterd.worker.Handler` of the real core. Every call comes from the worker thread;
    the Library is opened there (sqlite connections belong to the thread that made them)."""

    def __init__(self, lib: beets_library.Library, settings: Settings) -> None:
        self.lib, self.settings = lib, settings
        self._core: Library | None = None
        self._thread: int | None = None
        self._store_id: tuple[int, int] | None = None  # the store file the core has open
        # Analysed, but their playlist line could not be written (a read-only folder, a
        # user's playlist of that name): tried again after the next batch, and after every
        # one until it works (not at once: the fault has had no time to clear).
        self._unplaced: set[str] = set()
        self._failed_now: set[str] = set()

    @property
    def core(self) -> Library:
        if self._core is None or self._thread != threading.get_ident():
            self._core = Library(self.settings, beets=self.lib)
            self._thread = threading.get_ident()
            self._store_id = _file_id(self.settings.store)
        return self._core

    def _check_store(self) -> None:
        """The store deleted or replaced under the running daemon: SQLite would go on writing
        into the old file, which nobody will read again. Say so once and open the one there
        now (a new, empty store when it was deleted)."""
        if self._core is None or self._thread != threading.get_ident():
            return
        now = _file_id(self.settings.store)
        if now == self._store_id:
            return
        log.warning("the embedding store {} was {} while clusterd ran; opening it afresh",
                    self.settings.store, "deleted" if now is None else "replaced")
        self._core.close()
        self._core = self._thread = None

    def _tracks(self, paths: list[str]) -> list[Track]:
        """Beets' items for these files (import_new: files it does not know are added)."""
        items = find_items(self.lib, paths)
        if self.settings.import_new:
            items.update(add_files(self.lib, [p for p in paths if p not in items]))
        return [track_of(items[p]) if p in items else Track(p) for p in paths]

    def added(self, paths: Sequence[Path]) -> int:
        self._check_store()
        with self.lib.music_dir_context():
            todo = self.core.unplaced([os.fsdecode(p) for p in paths])
        return self._place(todo)

    def _place(self, todo: list[str]) -> int:
        """Place files the core said need it; returns how many were new to the store."""
        if not todo:
            return 0
        with self.lib.music_dir_context():
            placed = self.core.place(self._tracks(todo))
        for path, error in placed.failed:
            log.warning("{} recorded as failed: {}", path, error)
        for path, error in placed.unreadable:
            log.warning("{} skipped: {} (tried again at its next change or start)", path, error)
        for path in todo:
            if path in placed.assigned:
                log.info("{} -> {}", path, placed.assigned[path].playlist)
                self._unplaced.discard(path)
        self._failed_now.update(path for path, _ in placed.unplaced)  # the core named each
        return placed.new

    def moved(self, pairs: Sequence[tuple[Path, Path]]) -> None:
        self._check_store()
        with self.lib.music_dir_context():
            unknown = self.core.move([(os.fsdecode(o), os.fsdecode(n)) for o, n in pairs])
        if unknown:
            self.added([Path(p) for p in unknown])

    def removed(self, paths: Sequence[Path]) -> None:
        self._check_store()
        self.core.remove([os.fsdecode(p) for p in paths])

    def catch_up(self, roots: Sequence[Path]) -> Iterator[object]:
        """New and changed files are placed (moves adopted first, by size+mtime), then rows of
        files that are gone are dropped. Every step leaves the store consistent. The store is
        asked about all files at once: a 100k library with nothing new takes seconds."""
        self._warm_up()
        filt = PathFilter(roots)
        paths = [os.fsdecode(p) for root in roots for p in sorted(filt.audio_files_in(root))]
        yield None
        with self.lib.music_dir_context():
            todo = self.core.unplaced(paths)
        for path in todo:  # one at a time: the worker may stop between two
            try:
                self._place([path])
            except StoreError:
                raise  # the store's fault, not this file's: every file would fail alike
            except (OSError, ClusterError) as exc:  # this file's fault; the scan goes on
                log.error("{} skipped: {}", path, exc)
            yield path
        vanished = [p for p in self.core.stored_paths()
                    if filt.root_of(Path(p)) is not None and not os.path.exists(p)]
        if vanished:
            log.info("catch-up: {} files gone while unwatched", len(vanished))
            self.core.remove(vanished)
        yield None
        try:  # every placed track has its line (the playlist folder deleted while we were down)
            self.core.repair_playlists()
        except PlaylistError as exc:
            log.warning("catch-up: cannot write the playlists again: {}", exc)
        yield None

    def _warm_up(self) -> None:
        """Load the backend now (a network's weights: seconds), not on the first new file."""
        emb = self.core.embedder
        noise = np.random.default_rng(0).standard_normal(int(emb.sample_rate * emb.window_seconds))
        emb.embed((0.01 * noise[None, :]).astype(np.float32))

    def recluster(self) -> None:
        """The whole library clustered again, as `beet cluster` with the last run's k does."""
        with self.lib.music_dir_context():
            tracks = [t for t in read_tracks(self.lib) if os.path.exists(t.path)]
            _, run = self.core.update(self.core.whole_library(tracks), same_k=True)
        log.info("reclustered {} tracks into {} playlists", len(run.assignments), run.k)

    def flush(self) -> None:
        """Each playlist change is written (atomically) when it happens; what is left are the
        files whose line could not be written: tried again, now that another batch is done."""
        self._check_store()
        retry = sorted(p for p in self._unplaced - self._failed_now if os.path.exists(p))
        self._unplaced = set()
        if retry:
            with self.lib.music_dir_context():
                todo = self.core.unplaced(retry)
            self._place(todo)
        self._unplaced, self._failed_now = self._failed_now, set()

    def close(self) -> None:
        if self._core is not None and self._thread == threading.get_ident():
            self._core.close()
        self._core = self._thread = None


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino
