"""The daemon's Handler: each batch of file events becomes calls on the core's Library; beets
is asked which files are its items (with a short wait for an import still committing)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from beets import config, library, ui

from beetsplug.cluster import log as cluster_log
from beetsplug.cluster.beets_items import strays, track_of
from beetsplug.cluster.config import Settings, read_view, settings_from
from beetsplug.cluster.errors import ClusterError, StoreError
from beetsplug.cluster.item_table import read_tracks
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track
from beetsplug.cluster.store import Store
from clusterd.beets_items import add_files, find_items, open_library
from clusterd.events import PathFilter
from clusterd.service import Options
from clusterd.worker import CoreBinding

log = cluster_log.get(__name__)

def build(options: Options, lib: library.Library | None = None) -> CoreBinding:
    """The core for the daemon, from the current beets config; `lib` when beets opened it."""
    lib = lib or open_library()
    try:
        settings = settings_from(read_view(config["cluster"]),
                                 library_db=Path(config["library"].as_filename()),
                                 library_root=Path(config["directory"].as_filename()),
                                 ).with_(write_tags=ui.should_write())
        Store(settings.store_path).close()  # a bad store path fails at start, not per file
    except ValueError as exc:
        raise ui.UserError(f"clusterd: bad configuration: {exc}") from exc
    except ClusterError as exc:
        raise ui.UserError(f"clusterd: {exc}") from exc
    return CoreBinding(CoreHandler(lib, settings), errors=(ClusterError,))


class CoreHandler:
    """The `clusterd.worker.Handler` of the real core. Every call comes from the worker thread;
    the Library is opened there (sqlite connections belong to the thread that made them)."""

    def __init__(self, lib: library.Library, settings: Settings) -> None:
        self.lib, self.settings = lib, settings
        self._core: Library | None = None
        self._thread: int | None = None

    @property
    def core(self) -> Library:
        if self._core is None or self._thread != threading.get_ident():
            self._core = Library(self.settings, beets=self.lib)
            self._thread = threading.get_ident()
        return self._core

    def _tracks(self, paths: list[str]) -> list[Track]:
        """Beets' items for these files (import_new: files it does not know are added)."""
        items = find_items(self.lib, paths)
        if self.settings.import_new:
            items.update(add_files(self.lib, [p for p in paths if p not in items]))
        return [track_of(items[p]) if p in items else Track(p) for p in paths]

    def added(self, paths: Sequence[Path]) -> int:
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
                log.info("{} -> {}", path, placed.assigned[path][2])
        return placed.new

    def moved(self, pairs: Sequence[tuple[Path, Path]]) -> None:
        with self.lib.music_dir_context():
            unknown = self.core.move([(os.fsdecode(o), os.fsdecode(n)) for o, n in pairs])
        if unknown:
            self.added([Path(p) for p in unknown])

    def removed(self, paths: Sequence[Path]) -> None:
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
        vanished = [p for p in self.core.store.paths(self.core.embedder.name)
                    if filt.root_of(Path(p)) is not None and not os.path.exists(p)]
        if vanished:
            log.info("catch-up: {} files gone while unwatched", len(vanished))
            self.core.remove(vanished)
        yield None

    def _warm_up(self) -> None:
        """Load and compile the backend now (librosa alone: ~2 s), not on the first new file."""
        emb = self.core.embedder
        noise = np.random.default_rng(0).standard_normal(int(emb.sample_rate * emb.window_seconds))
        emb.embed((0.01 * noise[None, :]).astype(np.float32))

    def recluster(self) -> None:
        """The whole library clustered again, as `beet cluster` with the last run's k does."""
        with self.lib.music_dir_context():
            core = self.core
            last = core.store.last_run(core.embedder.name)
            if last is not None and last["k"] != self.settings.n_clusters:
                core = Library(self.settings.with_(n_clusters=last["k"]), core.store,
                               beets=self.lib)
            tracks = read_tracks(self.lib)
            tracks = [t for t in tracks if os.path.exists(t.path)]
            tracks += strays([t.path for t in tracks], core.store.paths(core.embedder.name),
                             [self.settings.library_root])
            core.analyse(tracks)
            run = core.recluster(tracks)
        log.info("reclustered {} tracks into {} playlists", len(run.assignments), run.k)

    def flush(self) -> None:
        """Nothing is buffered: each playlist change is written (atomically) when it happens."""

    def close(self) -> None:
        if self._core is not None and self._thread == threading.get_ident():
            self._core.close()
        self._core = self._thread = None
