"""The real core behind the daemon: the beets library, the embedding store and the pipeline.

`build` is the default core factory (`clusterd.core_adapter:build`). New files are placed by
the last run's centroids (`incremental.place_new`); nothing here re-clusters unless asked to.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from beets import config, library, ui

from beetsplug.cluster import incremental, playlists
from beetsplug.cluster import log as cluster_log
from beetsplug.cluster.errors import ClusterError
from beetsplug.cluster.items import apply_assignments, track_of
from beetsplug.cluster.pipeline import Pipeline, Track
from beetsplug.cluster.plugin import DEFAULTS as PLUGIN_DEFAULTS
from beetsplug.cluster.plugin import settings_from_config
from beetsplug.cluster.settings import Settings
from beetsplug.cluster.store import Store
from beetsplug.cluster.tags import tag_files
from beetsplug.cluster.text import plural
from clusterd.beets_items import add_files, find_items, open_library
from clusterd.events import PathFilter
from clusterd.service import Options
from clusterd.worker import CoreBinding

log = cluster_log.get(__name__)

CHECKS_PER_YIELD = 200  # catch-up: files looked at between two chances to stop


def build(options: Options, lib: library.Library | None = None) -> CoreBinding:
    """The core for the daemon, from the current beets config; `lib` when beets opened it."""
    lib = lib or open_library()
    config["cluster"].add(PLUGIN_DEFAULTS)  # read_config cleared what the plugin added
    settings = settings_from_config(config["cluster"])
    try:
        Store(settings.store_path).close()  # a bad store path fails at start, not per file
    except ClusterError as exc:
        raise ui.UserError(f"clusterd: {exc}") from exc
    handler = CoreHandler(lib, settings, write=ui.should_write(),
                          import_new=config["cluster"]["import_new"].get(bool))
    return CoreBinding(handler, errors=(ClusterError,))  # EmbedderError is one too


class CoreHandler:
    """The `clusterd.worker.Handler` of the real core. Every call comes from the worker thread;
    the store is opened there (sqlite connections belong to the thread that made them)."""

    def __init__(self, lib: library.Library, settings: Settings, *, write: bool,
                 import_new: bool) -> None:
        self.lib, self.settings = lib, settings
        self.write, self.import_new = write, import_new
        self._pipe: Pipeline | None = None
        self._thread: int | None = None

    @property
    def pipe(self) -> Pipeline:
        if self._pipe is None or self._thread != threading.get_ident():
            self._pipe = Pipeline(self.settings, Store(self.settings.store_path))
            self._thread = threading.get_ident()
        return self._pipe

    @property
    def store(self) -> Store:
        return self.pipe.store

    # -- what needs doing ----------------------------------------------------------------------

    def _needs_placing(self, path: str) -> bool:
        """False for a file that is analysed, unchanged and in the last run (or failed before):
        our own tag write comes back as an event and must not start another round."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return False  # gone again; its delete event follows
        emb = self.pipe.embedder
        row = self.store.stamp(path, emb.name)
        if row is None:
            return not self._adopt(path, st.st_size, st.st_mtime)
        size, mtime, version, error = row
        if (size, mtime) != (st.st_size, st.st_mtime) or version != emb.version:
            return True
        if error is not None:
            return False
        run = self.store.last_run(emb.name)
        return run is not None and self.store.assignment(run["id"], path) is None

    def _adopt(self, path: str, size: int, mtime: float) -> bool:
        """A file we know under a path that is gone was moved here unseen (while we were down,
        or from outside the watched folders): its vector and playlist line follow."""
        old = self.pipe.moved_from(path, size, mtime)
        if old is not None:
            log.info("{} moved to {} while unwatched; vector kept", old, path)
            self._move([(old, path)])
        return old is not None

    def _move(self, pairs: list[tuple[str, str]]) -> None:
        self.store.move_many(pairs)
        folder, style = self.settings.playlist_dir, self.pipe.path_style
        playlists.move_entries(folder, [(Path(o), Path(n)) for o, n in pairs], style=style)
        # renamed from a name no playlist line could spell: it had no line to move, list it now
        run = self.store.last_run(self.pipe.embedder.name)
        for old, new in pairs:
            if run and style.format(Path(old), folder, warn=False) is None:
                found = self.store.assignment(run["id"], new)
                if found is not None:
                    playlists.add_entry(incremental.playlist_file(self.pipe, found[2]),
                                        playlists.Entry(Path(new), None, Path(new).stem), style)

    # -- the Handler protocol ------------------------------------------------------------------

    def added(self, paths: Sequence[Path]) -> int:
        with self.lib.music_dir_context():
            todo = [str(p) for p in paths if self._needs_placing(str(p))]
            if not todo:
                return 0
            emb = self.pipe.embedder
            stale = {p for p in todo if self.store.stamp(p, emb.name) is not None}
            items = find_items(self.lib, todo)
            if self.import_new:
                items.update(add_files(self.lib, [p for p in todo if p not in items]))
            if stale:  # changed content: its old line goes, wherever the new one lands
                playlists.remove_entries(self.settings.playlist_dir, [Path(p) for p in stale],
                                         style=self.pipe.path_style)
            tracks = [track_of(items[p]) if p in items else Track(p) for p in todo]
            placed = incremental.place_new(self.pipe, tracks)
            self._write_tags(items, [p for p in todo if p not in items and p in placed], placed)
            new = 0  # tracks the store did not have before (a changed file is not new)
            for path in todo:
                row = self.store.stamp(path, emb.name)
                if row is not None and row[3] is not None:
                    log.warning("{} recorded as failed: {}", path, row[3])
                elif row is not None:
                    new += path not in stale
                    log.info("{} -> {}", path, placed[path][2] if path in placed else "no run yet")
            return new

    def _write_tags(self, items: dict[str, library.Item], others: list[str],
                    assignments: dict[str, tuple[int, float, str]]) -> None:
        s = self.settings
        apply_assignments(items.values(), assignments, write=self.write,
                          grouping=s.write_grouping, written=self.store.restamp)
        tag_files(others, assignments, grouping=s.write_grouping, written=self.store.restamp)

    def moved(self, pairs: Sequence[tuple[Path, Path]]) -> None:
        with self.lib.music_dir_context():
            name = self.pipe.embedder.name
            pairs_ = [(str(o), str(n)) for o, n in pairs]
            known = [(o, n) for o, n in pairs_ if self.store.stamp(o, name) is not None]
            if known:
                self._move(known)
            unknown = [Path(n) for o, n in pairs_ if (o, n) not in known]
        if unknown:
            self.added(unknown)

    def removed(self, paths: Sequence[Path]) -> None:
        gone: set[str] = set()
        for path in paths:
            gone.update(self.store.remove_under(str(path)))
            gone.add(str(path))  # a line for a file the store never had goes too
        playlists.remove_entries(self.settings.playlist_dir, [Path(p) for p in sorted(gone)],
                                 style=self.pipe.path_style)

    def catch_up(self, roots: Sequence[Path]) -> Iterator[object]:
        """New and changed files are placed (moves adopted first, by size+mtime), then rows of
        files that are gone are dropped. Every step leaves the store consistent."""
        self._warm_up()
        filt = PathFilter(roots)
        checked = 0
        for root in roots:
            for path in sorted(filt.audio_files_in(root)):
                checked += 1
                with self.lib.music_dir_context():
                    todo = self._needs_placing(str(path))
                if todo:
                    self.added([path])
                    yield path
                elif checked % CHECKS_PER_YIELD == 0:
                    yield None
        name = self.pipe.embedder.name
        vanished = [p for p in self.store.paths(name)
                    if filt.root_of(Path(p)) is not None and not os.path.exists(p)]
        if vanished:
            log.info("catch-up: {} gone while unwatched", plural(len(vanished), "file"))
            self.removed([Path(p) for p in vanished])
        yield None

    def _warm_up(self) -> None:
        """Load and compile the backend now (librosa alone: ~2 s), not on the first new file."""
        emb = self.pipe.embedder
        noise = np.random.default_rng(0).standard_normal(int(emb.sample_rate * emb.window_seconds))
        emb.embed((0.01 * noise[None, :]).astype(np.float32))

    def recluster(self) -> None:
        """Everything beets and the store know, clustered again; k from the last run."""
        with self.lib.music_dir_context():
            pipe, name = self.pipe, self.pipe.embedder.name
            last = self.store.last_run(name)
            if last is not None and last["k"] != self.settings.n_clusters:
                pipe = Pipeline(self.settings.with_(n_clusters=last["k"]), self.store)
            items = {track_of(i).path: i for i in self.lib.items()}
            strays = pipe.strays(items)
            tracks = [track_of(i) for p, i in items.items() if os.path.exists(p)] + strays
            pipe.analyse(tracks)
            run = pipe.cluster(tracks)
            pipe.export(run, tracks)
            self._write_tags(items, [t.path for t in strays if t.path not in run.unclustered],
                             run.assignments)
            log.info("reclustered {} into {}", plural(len(run.assignments), "track"),
                     plural(run.k, "playlist"))

    def flush(self) -> None:
        """Nothing is buffered: each playlist change is written (atomically) when it happens."""

    def close(self) -> None:
        if self._pipe is not None and self._thread == threading.get_ident():
            self._pipe.store.close()
        self._pipe = self._thread = None
