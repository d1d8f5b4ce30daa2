"""The only orchestration: analyse tracks, cluster them, export playlists. No beets in here."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import clustering, embedders, playlists
from .analysis import Job, run_jobs
from .audio import window_cap
from .errors import ClusterError
from .settings import Settings
from .store import Store

log = logging.getLogger("beets.cluster")


@dataclass(frozen=True)
class Track:
    path: str  # absolute, as the file system spells it
    item_id: int | None = None
    duration: float | None = None  # a hint for the window cap (beets knows it without decoding)
    title: str | None = None


@dataclass
class AnalysisReport:
    total: int = 0
    cached: int = 0
    moved: int = 0
    analysed: int = 0  # files decoded this run
    failed: list[tuple[str, str]] = field(default_factory=list)  # new failures this run
    known_failures: list[tuple[str, str]] = field(default_factory=list)  # not retried
    missing: list[str] = field(default_factory=list)  # in the query, not on disk


@dataclass(frozen=True)
class ClusterRun:
    run_id: int
    k: int
    assignments: dict[str, tuple[int, float, str]]  # path -> (cluster number, distance, playlist)
    playlists: dict[str, list[str]]  # name -> paths, closest to the centre first
    unclustered: list[str]  # tracks of the query with no vector (failed or missing)


class Pipeline:
    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store
        self._embedder: embedders.Embedder | None = None

    @property
    def backend_options(self) -> dict:
        s = self.settings
        return embedders.backend_options(s.backend, s.model, s.device, s.window_seconds)

    @property
    def embedder(self) -> embedders.Embedder:
        if self._embedder is None:
            self._embedder = embedders.create(self.settings.backend, self.backend_options)
        return self._embedder

    def analyse(self, tracks: list[Track], *, force: bool = False,
                progress: Callable[[int], Callable[[int], None]] | None = None) -> AnalysisReport:
        """Analyse what the store does not know yet; `progress(total)` returns a tick function."""
        s, emb = self.settings, self.embedder
        keep_windows = s.aggregate == "chunk_level"
        known = self.store.up_to_date(emb.name, emb.version)
        errors = dict(self.store.failures(emb.name))
        with_windows = self.store.paths_with_windows(emb.name, emb.version) if keep_windows else None
        report = AnalysisReport(total=len(tracks))
        todo: list[tuple[Track, int, float]] = []
        for t in tracks:
            try:
                st = os.stat(t.path)
            except OSError:
                report.missing.append(t.path)
                continue
            stamp = (st.st_size, st.st_mtime)
            fresh = known.get(t.path) == stamp and (not keep_windows or t.path in with_windows
                                                    or t.path in errors)
            if fresh and not force:
                if t.path in errors:
                    report.known_failures.append((t.path, errors[t.path]))
                else:
                    report.cached += 1
            elif not force and t.path not in known and self._adopt_moved(t.path, *stamp):
                report.moved += 1
            else:
                todo.append((t, *stamp))
        if todo:
            cap = s.max_windows or window_cap(
                [t.duration for t in tracks if t.duration] or self.store.durations(emb.name),
                emb.window_seconds, s.window_quantile)
            opts = tuple(sorted(self.backend_options.items()))
            in_workers = embedders.runs_in_workers(s.backend)
            jobs = [Job(t.path, size, mtime, t.item_id, emb.name, opts, emb.sample_rate,
                        emb.window_seconds, s.padding_threshold, cap, in_workers)
                    for t, size, mtime in todo]
            if emb.tag_names:
                self.store.set_tag_names(emb.name, emb.version, emb.tag_names)
            tick = progress(len(jobs)) if progress else None
            done = run_jobs(jobs, self.store, emb, workers=min(s.workers, len(jobs)),
                            keep_windows=keep_windows, progress=tick)
            report.analysed = len(done)
            report.failed = [(p, e) for p, e in done if e]
        return report

    def _adopt_moved(self, path: str, size: int, mtime: float) -> bool:
        """A file we know under a path that no longer exists was moved here: keep its vector."""
        emb = self.embedder
        for old in self.store.find_moved(size, mtime, emb.name, emb.version):
            if old != path and not os.path.exists(old):
                self.store.move(old, path)
                log.debug("%s moved to %s, vector kept", old, path)
                return True
        return False

    def cluster(self, tracks: list[Track]) -> ClusterRun:
        """Cluster every track with a vector and record the run; names come from the template."""
        s, emb = self.settings, self.embedder
        paths = sorted({t.path for t in tracks})  # sorted: the same library gives the same run
        if s.aggregate == "chunk_level":
            kept, mats = self.store.matrix(paths, emb.name, emb.version, windows=True)
            if not kept:
                raise ClusterError("no analysed tracks to cluster")
            owners = np.concatenate([np.full(len(m), i) for i, m in enumerate(mats)])
            result = clustering.fit(np.concatenate(mats), s.n_clusters, seed=s.seed,
                                    pca_variance=s.pca_variance,
                                    minibatch_threshold=s.minibatch_threshold)
            labels, dist = clustering.vote(result.labels, result.distances, owners, len(kept))
        else:
            kept, vecs = self.store.matrix(paths, emb.name, emb.version)
            if not kept:
                raise ClusterError("no analysed tracks to cluster")
            result = clustering.fit(np.stack(vecs), s.n_clusters, seed=s.seed,
                                    pca_variance=s.pca_variance,
                                    minibatch_threshold=s.minibatch_threshold)
            labels, dist = result.labels, result.distances
        names = {c: s.playlist_template.format(number=c + 1) for c in range(s.n_clusters)}
        assignments = {p: (int(c) + 1, float(d), names[int(c)])
                       for p, c, d in zip(kept, labels, dist)}
        run = {"backend": emb.name, "version": emb.version, "k": s.n_clusters,
               "method": s.method, "aggregate": s.aggregate,
               "params": f'{{"pca_variance": {s.pca_variance}, "seed": {s.seed}}}',
               "model": result.model.to_bytes()}
        run_id = self.store.save_run(run, ((p, c, d, n) for p, (c, d, n) in assignments.items()))
        lists: dict[str, list[str]] = {n: [] for n in names.values()}
        for p in sorted(kept, key=lambda p: (assignments[p][0], assignments[p][1], p)):
            lists[assignments[p][2]].append(p)
        unclustered = sorted(set(paths) - set(kept))
        return ClusterRun(run_id, s.n_clusters, assignments, lists, unclustered)

    def entries(self, run: ClusterRun, tracks: list[Track]) -> dict[str, list[playlists.Entry]]:
        info = {t.path: t for t in tracks}
        return {name: [playlists.Entry(Path(p), info[p].duration if p in info else None,
                                       (info[p].title if p in info else None) or Path(p).stem)
                       for p in paths]
                for name, paths in run.playlists.items()}

    def export(self, run: ClusterRun, tracks: list[Track]) -> list[Path]:
        """Write one playlist per cluster; stale playlists of earlier runs go."""
        s = self.settings
        return playlists.write_playlists(self.entries(run, tracks), s.playlist_dir,
                                         mode=s.path_mode, library_root=s.library_root,
                                         prefix=s.path_prefix, url_encode=s.url_encode)
