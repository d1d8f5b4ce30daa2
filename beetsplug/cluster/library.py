"""THE core: it owns the settings and the store and is the only place that sequences work; the
front ends turn what they see into calls on it. Tracks carry their beets item to the write-back.

    analyse(tracks)    store freshness -> analysis workers -> embedder -> store
    recluster(tracks)  plan (fit, numbers, names) -> playlists -> record the run -> tags
    place(tracks)      analyse -> nearest centre of the last run -> playlist line -> tags
    move(pairs), remove(paths)    the store and the playlists follow the files
    similar(seeds, tracks)  a playlist grown from songs or words: similar.py, inherited
    last_run, evaluate, draw      judging a recorded run: judging.py, inherited
    unplaced(paths)    the daemon's question about files it sees: placing.py

The clustering (scikit-learn) and the decoders are imported where they are used: `beet similar`
on a library that is analysed needs neither, and would pay seconds to load them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from . import beets_items, embedders, freshness
from .config import Settings
from .freshness import State
from .judging import RunJudging
from .log import log
from .output import playlists
from .placing import FileQuestions
from .records import AnalysisReport, Assignment, ClusterRun, Placement, Track
from .similar import SimilarQueries
from .store import Store

Progress = Callable[[int], Callable[[int], None]]  # total -> tick(n)


class Library(SimilarQueries, RunJudging, FileQuestions):
    def __init__(self, settings: Settings, store: Store | None = None, beets=None):
        self.settings = settings
        self.store = store if store is not None else Store(settings.store_path)
        self.beets = beets  # the beets library that tracks read in bulk (an id, no Item) are in
        self._embedder: embedders.Embedder | None = None

    def close(self) -> None:
        self.store.close()

    @property
    def embedder(self) -> embedders.Embedder:
        if self._embedder is None:
            self._embedder = embedders.create(self.settings.backend, self._backend_options())
        return self._embedder

    @property
    def path_style(self) -> playlists.PathStyle:
        s = self.settings
        return playlists.PathStyle(s.path_mode, s.library_root, s.path_prefix, s.url_encode)

    def _backend_options(self) -> dict:
        s = self.settings
        return embedders.backend_options(s.backend, s.model, s.device, s.window_seconds,
                                         s.cache_dir)

    # -- analysis -----------------------------------------------------------------------------

    def analyse(self, tracks: list[Track], *, force: bool = False,
                progress: Progress | None = None) -> AnalysisReport:
        """Analyse what the store does not know yet; moves and tag-only edits keep vectors."""
        from .analysis.audio import fingerprint

        emb, keep_windows = self.embedder, self.settings.aggregate == "chunk_level"
        rows = self.store.rows(emb.name, [t.path for t in tracks])
        report = AnalysisReport(total=len(tracks))
        todo: list[tuple[Track, os.stat_result]] = []
        for t in tracks:
            try:
                st = os.stat(t.path)
            except OSError:
                report.missing.append(t.path)
                continue
            row = rows.get(t.path)
            now = freshness.state(row, st, emb.version, keep_windows)
            if force:
                todo.append((t, st))
            elif now is State.FRESH:
                report.cached += 1
            elif now is State.FAILED:
                report.known_failures.append((t.path, row.error))
            elif now is State.UNKNOWN and self._adopt_moved(t.path, st):
                report.moved += 1
            elif now is State.CHANGED and freshness.retagged(row, emb.version, keep_windows,
                                                             fingerprint(t.path)):
                self.store.restamp(t.path)  # only the tags changed: the vector still holds
                report.retagged += 1
            else:
                todo.append((t, st))
        if todo:
            done = self._run(todo, tracks, progress)
            report.analysed = len(done)
            report.failed = [(p, e) for p, e in done if e]
        return report

    def _run(self, todo: list[tuple[Track, os.stat_result]], tracks: list[Track],
             progress: Progress | None) -> list[tuple[str, str | None]]:
        from .analysis.jobs import make_jobs
        from .analysis.workers import run_jobs

        s, emb = self.settings, self.embedder
        hints = [t.duration for t in tracks if t.duration] or self.store.durations(emb.name)
        jobs = make_jobs([(t.path, st, t.item_id) for t, st in todo], s, emb,
                         self._backend_options(), hints)
        if emb.tag_names:
            self.store.set_tag_names(emb.name, emb.version, emb.tag_names)
        return run_jobs(jobs, self.store, emb, workers=min(s.workers, len(jobs)),
                        keep_windows=s.aggregate == "chunk_level", dask=s.dask,
                        progress=progress(len(jobs)) if progress else None)

    # -- clustering ---------------------------------------------------------------------------

    def plan(self, tracks: list[Track], *, rename: bool = False) -> ClusterRun:
        """The run these tracks would make; nothing is written. Continuing playlists keep
        their names unless `rename`."""
        from .clustering.plan import plan

        return plan(tracks, self.store, self.embedder, self.settings, rename=rename)

    def recluster(self, tracks: list[Track], *, others: Iterable[Track] = (),
                  rename: bool = False) -> ClusterRun:
        """Cluster the tracks and make it the library's state, in an order that never leaves
        half a run: the playlists as a whole set, then the run's record, then the tags (of the
        tracks, and cleared on `others`: earlier runs' members now in none)."""
        run = self.plan(tracks, rename=rename)
        run.files = self.export(run, tracks)
        run.run_id = self.store.save_run(
            run.record, ((p, c, d, n) for p, (c, d, n) in run.assignments.items()))
        by_path = {t.path: t for t in [*others, *tracks]}
        self._write_back(by_path.values(), run.assignments)
        return run

    def export(self, run: ClusterRun, tracks: list[Track]) -> list[Path]:
        """One playlist per cluster, written as a set; our stale playlists go."""
        s = self.settings
        return playlists.write_playlists(self.entries(run, tracks), s.playlist_dir,
                                         mode=s.path_mode, library_root=s.library_root,
                                         prefix=s.path_prefix, url_encode=s.url_encode)

    def entries(self, run: ClusterRun, tracks: list[Track]) -> dict[str, list[playlists.Entry]]:
        info = {t.path: t for t in tracks}
        return {name: [_entry(p, info.get(p)) for p in paths]
                for name, paths in run.playlists.items()}

    def place(self, tracks: list[Track]) -> Placement:
        """Analyse the tracks and add each to the playlist of its nearest cluster of the last
        run, without re-clustering (the import stage, the daemon). Nothing is placed before a
        first run."""
        emb, out = self.embedder, Placement()
        before = {t.path: self.store.row(t.path, emb.name) for t in tracks}
        report = self.analyse(tracks)
        out.failed = report.failed
        out.new = sum(before[t.path] is None for t in tracks) - len(report.failed)
        run = self.store.last_run(emb.name)
        if run is None or run["version"] != emb.version:
            log.info("no earlier run of {} to place new tracks by; run `beet cluster`", emb.name)
            return out
        stale = [Path(p) for p, row in before.items() if row is not None]
        if stale:  # changed music: its old line goes, wherever the new one lands
            playlists.remove_entries(self.settings.playlist_dir, stale, style=self.path_style)
        info = {t.path: t for t in tracks}
        from .clustering.plan import nearest

        out.assigned = nearest(run, self.store, emb, list(info))
        for path, assignment in out.assigned.items():
            self.store.assign(run["id"], path, *assignment)
            playlists.add_entry(self.settings.playlist_dir / f"{assignment[2]}"
                                f"{self.path_style.suffix}", _entry(path, info[path]),
                                style=self.path_style)
        self._write_back([info[p] for p in out.assigned], out.assigned)
        return out

    def _write_back(self, tracks: Iterable[Track], assignments: Mapping[str, Assignment]) -> int:
        s = self.settings
        return beets_items.write_back(tracks, assignments, write=s.write_tags,
                                      grouping=s.write_grouping, written=self.store.restamp,
                                      lib=self.beets)

    # -- the files moved or went --------------------------------------------------------------

    def move(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        """Each (old, new) as one simultaneous rename: vectors, run assignments and playlist
        lines follow. Returns the new paths whose old path the store never knew (to analyse)."""
        pairs = list(pairs)  # the backend's name, not its model: a move loads no network
        known = [(o, n) for o, n in pairs if self.store.row(o, self.settings.backend) is not None]
        if known:
            self.store.move_many(known)
            folder, style = self.settings.playlist_dir, self.path_style
            playlists.move_entries(folder, [(Path(o), Path(n)) for o, n in known], style=style)
            self._list_newly_spellable(known)
        return [n for o, n in pairs if (o, n) not in known]

    def _list_newly_spellable(self, pairs: list[tuple[str, str]]) -> None:
        """Renamed from a name no playlist line could spell: it had no line to move; list it."""
        run = self.store.last_run(self.settings.backend)
        folder, style = self.settings.playlist_dir, self.path_style
        for old, new in pairs if run else ():
            found = self.store.assignment(run["id"], new)
            if found is not None and style.format(Path(old), folder, warn=False) is None:
                playlists.add_entry(folder / f"{found[2]}{style.suffix}", _entry(new, None),
                                    style=style)

    def remove(self, paths: Iterable[str]) -> list[str]:
        """Files or folders that are gone: forget every track at or under them."""
        gone: set[str] = set()
        for path in paths:
            gone.update(self.store.remove_under(path))
            gone.add(path)  # a line for a file the store never had goes too
        playlists.remove_entries(self.settings.playlist_dir, [Path(p) for p in sorted(gone)],
                                 style=self.path_style)
        return sorted(gone)


def _entry(path: str, track: Track | None) -> playlists.Entry:
    # str, not Path: 100k entries per run, and the writer spells strings
    title = (track.title if track else None) or os.path.splitext(os.path.basename(path))[0]
    return playlists.Entry(path, track.duration if track else None, title)
