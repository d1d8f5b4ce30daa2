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
import statistics
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import beets_items, embedders, freshness
from .config import Settings
from .freshness import State
from .judging import RunJudging
from .log import log
from .output import playlists
from .output.paths import PlaylistError
from .placing import FileQuestions, entry_of
from .progress import Workload
from .records import AnalysisReport, Assignment, ClusterRun, Placement, Track
from .similar import SimilarQueries
from .store import Store

if TYPE_CHECKING:  # the analysis modules load when analysis runs
    from .analysis.workers import Outcome

StartProgress = Callable[[Workload], Callable[[float], None]]  # work -> tick(audio seconds)


class Library(SimilarQueries, RunJudging, FileQuestions):
    def __init__(self, settings: Settings, store: Store | None = None, beets=None):
        self.settings = settings
        self.store = store if store is not None else Store(settings.store_path)
        self.beets = beets  # the beets library that tracks read in bulk (an id, no Item) are in
        self._embedder: embedders.Embedder | None = None
        self._told_no_run = False

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
                progress: StartProgress | None = None) -> AnalysisReport:
        """Analyse what the store does not know yet; moves and tag-only edits keep vectors."""
        from .analysis.audio import fingerprint

        emb, keep_windows = self.embedder, self.settings.aggregate == "chunk_level"
        rows = self.store.rows(emb.name, [t.path for t in tracks])
        report = AnalysisReport(total=len(tracks))
        todo: list[tuple[Track, os.stat_result]] = []
        for t in tracks:
            try:
                st = os.stat(t.path)
            except (FileNotFoundError, NotADirectoryError):
                report.missing.append(t.path)
                continue
            except OSError as exc:  # a folder without permission, an I/O error: not missing
                report.unreadable.append((t.path, f"cannot read file: {exc.strerror or exc}"))
                continue
            row = rows.get(t.path)
            now = freshness.state(row, st, emb.version, keep_windows)
            if row is not None and not row.intact and now is State.CHANGED:
                log.warning("{}: its stored vector is damaged; analysing it again",
                            playlists.readable(t.path))
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
            report.analysed = len(done.saved)
            report.failed = [(p, e) for p, e in done.saved if e]
            report.unreadable += done.unreadable
        return report

    def _run(self, todo: list[tuple[Track, os.stat_result]], tracks: list[Track],
             progress: StartProgress | None) -> Outcome:
        from .analysis.jobs import kept_seconds, make_jobs
        from .analysis.workers import run_jobs

        s, emb = self.settings, self.embedder
        hints = [t.duration for t in tracks if t.duration] or self.store.durations(emb.name)
        jobs = make_jobs([(t.path, st, t.item_id) for t, st in todo], s, emb,
                         self._backend_options(), hints)
        if emb.tag_names:
            self.store.set_tag_names(emb.name, emb.version, emb.tag_names)
        tick = None
        if progress:
            typical = statistics.median(hints) if hints else 0.0
            length = {t.path: t.duration for t in tracks}
            tick = progress(Workload(len(jobs), sum(kept_seconds(j, length.get(j.path) or typical)
                                                    for j in jobs)))
        return run_jobs(jobs, self.store, emb, workers=min(s.workers, len(jobs)),
                        keep_windows=s.aggregate == "chunk_level", dask=s.dask, progress=tick)

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
        run.listed = self.export(run, tracks)
        run.files = list(run.listed)
        run.run_id = self.store.save_run(
            run.record, ((p, c, d, n) for p, (c, d, n) in run.assignments.items()))
        by_path = {t.path: t for t in [*others, *tracks]}
        self._write_back(by_path.values(), run.assignments)
        return run

    def export(self, run: ClusterRun, tracks: list[Track]) -> dict[Path, int]:
        """One playlist per cluster, written as a set; our stale playlists go. Each file with
        the number of tracks it lists."""
        s = self.settings
        return playlists.write_playlists(self.entries(run, tracks), s.playlist_dir,
                                         mode=s.path_mode, library_root=s.library_root,
                                         prefix=s.path_prefix, url_encode=s.url_encode)

    def entries(self, run: ClusterRun, tracks: list[Track]) -> dict[str, list[playlists.Entry]]:
        info = {t.path: t for t in tracks}
        return {name: [entry_of(p, info.get(p)) for p in paths]
                for name, paths in run.playlists.items()}

    def place(self, tracks: list[Track]) -> Placement:
        """Analyse the tracks and add each to the playlist of its nearest cluster of the last
        run, without re-clustering (the import stage, the daemon). Nothing is placed before a
        first run. The store records a placement only once its line is written: a track whose
        line cannot be written (a read-only folder, a user's playlist of that name) is named,
        left unplaced, and placed by a later call (the daemon retries it)."""
        emb, out = self.embedder, Placement()
        before = {t.path: self.store.row(t.path, emb.name) for t in tracks}
        report = self.analyse(tracks)
        out.failed, out.unreadable = report.failed, report.unreadable
        not_stored = {p for p, _ in [*report.failed, *report.unreadable]}
        out.new = sum(before[t.path] is None and t.path not in not_stored for t in tracks)
        run = self.store.last_run(emb.name)
        if run is None or run["version"] != emb.version:
            if not self._told_no_run:  # once, not once per file the daemon sees
                log.info("no earlier run of {} to place new tracks by: new files wait for "
                         "`beet cluster`", emb.name)
                self._told_no_run = True
            return out
        info = {t.path: t for t in tracks}
        stale = [p for p, row in before.items() if row is not None]
        if stale:  # changed music: its old line goes, wherever the new one lands
            # The assignment goes first: the store never claims a line that may be gone.
            self.store.unassign(run["id"], stale)
            try:
                playlists.remove_entries(self.settings.playlist_dir, [Path(p) for p in stale],
                                         style=self.path_style)
            except (PlaylistError, OSError) as exc:
                out.unplaced = [(p, str(exc)) for p in info]
                for path in info:
                    log.warning("{}: not placed, its old line cannot go: {}", path, exc)
                return out
        from .clustering.plan import nearest

        found = nearest(run, self.store, emb, list(info))
        seconds = self.store.durations_of(emb.name, list(found))
        for path, assignment in found.items():
            try:
                self._list(run, assignment[2], entry_of(path, info[path], seconds.get(path)))
            except (PlaylistError, OSError) as exc:
                log.warning("{}: not placed in {}: {}", path, assignment[2], exc)
                out.unplaced.append((path, str(exc)))
                continue
            self.store.assign(run["id"], path, *assignment)
            out.assigned[path] = assignment
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
                playlists.add_entry(folder / f"{found[2]}{style.suffix}", entry_of(new, None),
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
