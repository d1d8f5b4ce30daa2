"""The only orchestration: analyse tracks, cluster them, export playlists. No beets in here."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import choose_k, clustering, embedders, playlists, runs
from .analysis import Job, run_jobs
from .audio import fingerprint, window_cap
from .errors import ClusterError
from .log import log
from .settings import Settings
from .store import Store


@dataclass(frozen=True)
class Track:
    path: str  # absolute, as the file system spells it
    item_id: int | None = None
    duration: float | None = None  # a hint for the window cap (beets knows it without decoding)
    title: str | None = None
    fields: dict | None = None  # beets fields (genre, year, ...) for names


@dataclass
class AnalysisReport:
    total: int = 0
    cached: int = 0
    moved: int = 0
    retagged: int = 0  # changed files whose audio is the same: re-stamped, not re-analysed
    analysed: int = 0  # files decoded this run
    failed: list[tuple[str, str]] = field(default_factory=list)  # new failures this run
    known_failures: list[tuple[str, str]] = field(default_factory=list)  # not retried
    missing: list[str] = field(default_factory=list)  # in the query, not on disk


@dataclass(frozen=True)
class ClusterRun:
    run_id: int | None  # None: not recorded (--pretend)
    k: int
    assignments: dict[str, tuple[int, float, str]]  # path -> (cluster number, distance, playlist)
    playlists: dict[str, list[str]]  # name -> paths, closest to the centre first
    unclustered: list[str]  # tracks of the query with no vector (failed or missing)
    noise: list[str] = field(default_factory=list)  # density methods: in no playlist
    scan: choose_k.KScan | None = None  # the k scan of `-n auto`
    previous_ari: float | None = None  # agreement with the previous run, on shared tracks


def _fields(tracks: list[Track]) -> dict[str, list] | None:
    """beets fields per track, aligned with `tracks`, for names when nothing else describes."""
    keys = sorted({k for t in tracks for k in (t.fields or {})})
    return {k: [(t.fields or {}).get(k) for t in tracks] for k in keys} or None


def _renumbered(model: clustering.Model, numbers: dict[int, int]) -> clustering.Model:
    """The model with the run's stable cluster numbers in place of the fit's labels."""
    return dataclasses.replace(model, numbers=np.array([numbers[label] for label in
                                                         range(len(model.centroids))]))


class Pipeline:
    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store
        self._embedder: embedders.Embedder | None = None

    @property
    def backend_options(self) -> dict:
        s = self.settings
        return embedders.backend_options(s.backend, s.model, s.device, s.window_seconds,
                                         s.cache_dir)

    @property
    def path_style(self) -> playlists.PathStyle:
        """How this library's playlists spell track paths (the `path_mode` options)."""
        s = self.settings
        return playlists.PathStyle(s.path_mode, s.library_root, s.path_prefix, s.url_encode)

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
        prints = self.store.fingerprints(emb.name, emb.version)
        with_windows = (self.store.paths_with_windows(emb.name, emb.version)
                        if keep_windows else None)
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
            elif (not force and t.path in prints and prints[t.path] == fingerprint(t.path)
                  and (not keep_windows or t.path in with_windows)):
                self.store.restamp(t.path)  # only the tags changed: the vector still holds
                report.retagged += 1
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

    def moved_from(self, path: str, size: int, mtime: float) -> str | None:
        """The vanished path under which the store knows this file (same size and mtime): a
        rename or move that nobody reported. None for a file the store has never seen."""
        emb = self.embedder
        for old in self.store.find_moved(size, mtime, emb.name, emb.version):
            if old != path and not os.path.exists(old):
                return old
        return None

    def _adopt_moved(self, path: str, size: int, mtime: float) -> bool:
        """A file we know under a path that no longer exists was moved here: keep its vector."""
        old = self.moved_from(path, size, mtime)
        if old is not None:
            self.store.move(old, path)
            log.debug("{} moved to {}, vector kept", old, path)
        return old is not None

    def cluster(self, tracks: list[Track], *, record: bool = True) -> ClusterRun:
        """Cluster every track with a vector, number and name the clusters, record the run
        (unless not `record`: --pretend shows a run and writes nothing)."""
        s, emb = self.settings, self.embedder
        info = {t.path: t for t in tracks}
        paths = sorted(info)  # sorted: the same library gives the same run
        windowed = s.aggregate == "chunk_level"
        kept, mats = self.store.matrix(paths, emb.name, emb.version, windows=windowed)
        if not kept:
            raise ClusterError("no analysed tracks to cluster")
        X = np.concatenate(mats) if windowed else np.stack(mats)
        reduced = clustering.reduce(X, seed=s.seed, pca_variance=s.pca_variance)
        scan, k = None, s.n_clusters
        if k is None:
            low, high = s.k_range
            if len(X) <= low:
                raise ClusterError(f"-n auto needs more than {low} analysed tracks, not {len(X)}")
            scan = choose_k.scan_k(reduced.P, range(low, min(high, len(X) - 1) + 1), seed=s.seed)
            k = scan.best
        previous = self.store.last_run(emb.name)
        previous_model = (clustering.Model.from_bytes(previous["model"])
                          if previous and previous["version"] == emb.version
                          and previous["aggregate"] == s.aggregate else None)
        result = clustering.fit(X, k, method=s.method, seed=s.seed, reduced=reduced,
                                minibatch_threshold=s.minibatch_threshold,
                                previous=previous_model)
        labels, dist = result.labels, result.distances
        if windowed:
            owners = np.concatenate([np.full(len(m), i) for i, m in enumerate(mats)])
            labels, dist = clustering.vote(labels, dist, owners, len(kept))

        before = self.store.assignments(previous["id"]) if previous else {}
        numbers, ari = runs.stable_numbers(
            kept, labels, {p: c for p, (c, _, _) in before.items()}, result.model, previous_model)
        earlier = json.loads(previous["params"]) if previous else {}
        kept_names = ({int(c): n for c, n in earlier["names"].items()}
                      if earlier.get("template") == s.playlist_template else None)
        names = runs.playlist_names(
            labels, numbers, template=s.playlist_template, previous_names=kept_names,
            tags=self._tags(kept), tag_names=self.store.tag_names(emb.name, emb.version),
            descriptors=self._descriptors(mats, windowed),
            fields=_fields([info[p] for p in kept]))
        assignments = {p: (numbers[int(c)], float(d), names[numbers[int(c)]])
                       for p, c, d in zip(kept, labels, dist) if c != runs.NOISE}
        params = {"pca_variance": s.pca_variance, "seed": s.seed, "template": s.playlist_template,
                  "scan": dataclasses.asdict(scan) if scan else None, "previous_ari": ari,
                  "names": names}  # the run's playlists, even once a cluster has no tracks
        run = {"backend": emb.name, "version": emb.version, "k": k, "method": s.method,
               "aggregate": s.aggregate, "params": json.dumps(params),
               "model": _renumbered(result.model, numbers).to_bytes()}
        run_id = (self.store.save_run(run, ((p, c, d, n) for p, (c, d, n) in assignments.items()))
                  if record else None)
        lists: dict[str, list[str]] = {names[n]: [] for n in sorted(names)}
        for p in sorted(assignments, key=lambda p: (assignments[p][0], assignments[p][1], p)):
            lists[assignments[p][2]].append(p)
        noise = sorted(set(kept) - set(assignments))
        return ClusterRun(run_id, len(names), assignments, lists,
                          sorted(set(paths) - set(kept)), noise, scan, ari)

    def _tags(self, paths: list[str]) -> np.ndarray | None:
        emb = self.embedder
        found = self.store.tags(paths, emb.name, emb.version)
        return np.stack([found[p] for p in paths]) if found and len(found) == len(paths) else None

    def _descriptors(self, mats: list[np.ndarray], windowed: bool) -> dict[str, np.ndarray] | None:
        """Per-track values of the backend's describable columns (tempo, brightness, energy)."""
        columns = self.embedder.descriptor_columns
        if not columns:
            return None
        tracks = np.stack([m.mean(axis=0) for m in mats]) if windowed else np.stack(mats)
        return {name: tracks[:, col] for name, col in columns.items()}

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
