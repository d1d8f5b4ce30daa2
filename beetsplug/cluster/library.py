"""THE core: it owns the settings and the store and is the only place that sequences work; the
front ends turn what they see into calls on it. Tracks carry their beets item to the write-back.

    update(tracks)     analyse, then recluster (or let the last run stand when its inputs are
                       unchanged): what `beet cluster` and the daemon's recluster do
    whole_library(tracks)  beets' tracks plus the files the daemon placed without beets
    analyse(tracks)    store freshness -> analysis workers -> embedder -> store
    recluster(tracks)  plan (fit, numbers, names) -> playlists -> record the run -> tags
    place(tracks)      analyse -> nearest centre of the last run -> playlist line -> tags
    move(pairs), remove(paths)    the store and the playlists follow the files
    unplaced(paths)    the daemon's question about files it sees: is there work?
    restore_playlists, repair_playlists    the set placements are listed in, kept whole
    similar(seeds, tracks)  a playlist grown from songs or words (similar.find)
    next_songs(seeds, tracks)   the radio's next songs: similar, less recent, history sinks
    last_run, evaluate, draw      judging a recorded run (clustering/recorded.py)

It is composed, not inherited: `store` (store.py: every read and write of the SQLite file),
`embedder` (embedders/: audio -> vectors, loaded on first use), `playlists`
(output/playlist_folder.py: the folder and how a line spells a path) and `beets` (the beets
library, for bulk reads; None for a caller without one).

The clustering (scikit-learn) and the decoders are imported where they are used: `beet similar`
on a library that is analysed needs neither, and would pay seconds to load them.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import beets_items, embedders, freshness, run_inputs
from .config import Settings
from .freshness import Freshness
from .item_table import ItemTable, read_table
from .log import log
from .output.paths import PlaylistError, readable
from .output.playlist_folder import PlaylistFolder, entry_of
from .output.playlists import Entry
from .progress import Workload
from .records import AnalysisReport, Assignment, ClusterRun, Placement, RecordedRun, Track, Updated
from .store import Store

if TYPE_CHECKING:  # the analysis modules load when analysis runs
    from .analysis.workers import Outcome
    from .radio import Listening
    from .similar import Picked, SimilarList

StartProgress = Callable[[Workload], Callable[[float], None]]  # work -> tick(audio seconds)


class Library:
    def __init__(self, settings: Settings, store: Store | None = None, beets=None):
        self.settings = settings
        self.store = store if store is not None else Store(settings.store)
        self.beets = beets  # the beets library that tracks read in bulk (an id, no Item) are in
        self._playlists: PlaylistFolder | None = None
        self._embedder: embedders.Embedder | None = None
        self._told_no_run = False

    def close(self) -> None:
        self.store.close()

    @property
    def playlists(self) -> PlaylistFolder:
        """The playlist folder of the current settings (a caller may swap `settings`)."""
        if self._playlists is None or self._playlists.settings is not self.settings:
            self._playlists = PlaylistFolder(self.settings)
        return self._playlists

    @property
    def embedder(self) -> embedders.Embedder:
        if self._embedder is None:
            self._embedder = embedders.create(self.settings.backend, self._backend_options())
        return self._embedder

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
            if row is not None and not row.intact and now is Freshness.CHANGED:
                log.warning("{}: its stored vector is damaged; analysing it again",
                            readable(t.path))
            if force:
                todo.append((t, st))
            elif now is Freshness.FRESH:
                report.cached += 1
            elif now is Freshness.FAILED:
                report.known_failures.append((t.path, row.error))
            elif now is Freshness.UNKNOWN and self._adopt_moved(t.path, st):
                report.moved += 1
            elif now is Freshness.CHANGED and freshness.retagged(row, emb.version, keep_windows,
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
                        keep_windows=s.aggregate == "chunk_level", dask=s.dask, tick=tick)

    def _adopt_moved(self, path: str, st: os.stat_result) -> bool:
        """A file the store knows under a path that is gone, with the same size and mtime and
        the same audio fingerprint, was moved here unseen: its vector and playlist line follow,
        through the one move path. Size and mtime alone are not enough (a copy keeps the
        mtime, `touch -d` sets any), and a format without a fingerprint is analysed again."""
        emb, here = self.embedder, None
        for old in self.store.find_moved(st.st_size, st.st_mtime, emb.name, emb.version):
            if old == path or os.path.exists(old):
                continue
            row = self.store.row(emb.name, old)
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

    # -- clustering ---------------------------------------------------------------------------

    def update(self, tracks: list[Track], *, force: bool = False,
               progress: StartProgress | None = None,
               analysed: Callable[[AnalysisReport], None] | None = None,
               others: Iterable[Track] = (), rename: bool = False, pretend: bool = False,
               same_k: bool = False) -> Updated:
        """Analyse what is new (`analysed` hears the report before clustering starts), then
        recluster and make it the library's state; with `pretend`, only the run as it would
        be. `same_k`: as many clusters as the last run made (the daemon's recluster). Tracks
        kept out (`eligible`) are neither analysed nor clustered, and lose an earlier cluster.
        When the run's inputs (run_inputs.digest) are the last run's and its playlist files are
        as it left them, the last run stands: returned from the store, `unchanged`, nothing
        written (a track newly kept out changes the kept tracks, so the digest)."""
        tracks, out = self.eligible(tracks)
        report = self.analyse(tracks, force=force, progress=progress)
        if analysed is not None:
            analysed(report)
        if pretend:
            return Updated(report, self.plan(tracks, rename=rename, same_k=same_k))
        others = list(others)
        emb = self.embedder
        stamps = self.store.stamps(emb.name, [t.path for t in tracks])
        inputs = run_inputs.digest(tracks, stamps, self.settings, emb.name, emb.version,
                                   same_k=same_k)
        if not rename and not others:  # --rename renames; others' tags are to be cleared
            # the last run of any backend: another backend's run since wrote the tags
            last = self.store.last_run()
            if (last is not None and last.backend == emb.name
                    and last.params.get("inputs") == inputs
                    and run_inputs.files_stand(last.params.get("outputs", {}))):
                return Updated(report, self._standing(last, tracks, stamps))
        return Updated(report, self.recluster(tracks, others=[*others, *out], rename=rename,
                                              same_k=same_k, inputs=inputs))

    def _standing(self, last: RecordedRun, tracks: list[Track],
                  stamps: Mapping[str, tuple]) -> ClusterRun:
        """The last run as it stands, read back from the store for its summary: the same
        tracks with the same vectors under the same options would make it again."""
        log.debug("run {}: its inputs are unchanged; it stands", last.id)
        names = last.names
        found = self.store.assignments(last.id)
        assignments = {t.path: found[t.path] for t in tracks if t.path in found}
        lists: dict[str, list[str]] = {names[n]: [] for n in sorted(names)}
        for p in sorted(assignments, key=lambda p: (*assignments[p][:2], p)):
            lists.setdefault(assignments[p].playlist, []).append(p)
        usable = {p for p, st in stamps.items()
                  if st[0] == self.embedder.version and st[2] and st[3]}
        rest = sorted({t.path for t in tracks} - set(assignments))
        listed = {Path(f): count for f, (_, _, count) in last.params["outputs"].items()}
        return ClusterRun(last.id, last.k, assignments, lists,
                          [p for p in rest if p not in usable],
                          [p for p in rest if p in usable], listed=listed,
                          files=list(listed), unchanged=True)

    def eligible(self, tracks: Iterable[Track]) -> tuple[list[Track], list[Track]]:
        """The one track selection every verb that picks music goes through (clusters,
        placement, similar lists, the radio): (kept, kept out). Out: the items matching the
        `exclude` queries, and the files in a folder under a `.nomusic` marker."""
        tracks = list(tracks)
        out = beets_items.excluded(tracks, self.settings.exclude, self.beets)
        if not out:
            return tracks, []
        return ([t for t in tracks if t.path not in out], [t for t in tracks if t.path in out])

    def whole_library(self, tracks: list[Track]) -> list[Track]:
        """`tracks` (beets' whole library) plus the files under the library folder the store
        knows and beets does not: the files the daemon placed without beets. A whole-library
        run keeps them, so their playlists and file tags never disagree."""
        root = self.settings.library_root
        if root is None:
            return tracks
        return tracks + beets_items.strays([t.path for t in tracks], self.stored_paths(),
                                           [root])

    def stored_paths(self) -> list[str]:
        """Every file the store holds a vector or a failure of, for this backend."""
        return self.store.paths(self.settings.backend)

    def plan(self, tracks: list[Track], *, rename: bool = False,
             same_k: bool = False) -> ClusterRun:
        """The run these tracks would make; nothing is written. Continuing playlists keep
        their names unless `rename`."""
        from .clustering.plan import plan

        s = self.settings
        last = self.store.last_run(self.embedder.name) if same_k else None
        if last is not None:
            s = s.with_(clusters=last.k)
        return plan(tracks, self.store, self.embedder, s, rename=rename)

    def recluster(self, tracks: list[Track], *, others: Iterable[Track] = (),
                  rename: bool = False, same_k: bool = False,
                  inputs: str | None = None) -> ClusterRun:
        """Cluster the tracks and make it the library's state, in an order that never leaves
        half a run: the playlists as a whole set, then the run's record, then the tags (of the
        tracks, and cleared on `others`: earlier runs' members now in none). `inputs`: the
        run's digest (run_inputs.py), recorded with the files written, so that the same
        inputs next time let this run stand."""
        run = self.plan(tracks, rename=rename, same_k=same_k)
        run.listed = self.export(run, tracks)
        run.files = list(run.listed)
        if inputs is not None:
            params = json.loads(run.record["params"])
            params.update(inputs=inputs, outputs=run_inputs.file_stamps(run.listed))
            run.record = {**run.record, "params": json.dumps(params)}
        run.run_id = self.store.save_run(
            run.record, ((p, *a) for p, a in run.assignments.items()))
        by_path = {t.path: t for t in [*others, *tracks]}
        self._write_back(by_path.values(), run.assignments)
        self.describe(tracks)
        return run

    def export(self, run: ClusterRun, tracks: list[Track]) -> dict[Path, int]:
        """One playlist per cluster, written as a set; our stale playlists go. Each file with
        the number of tracks it lists."""
        return self.playlists.write(self.entries(run, tracks))

    def entries(self, run: ClusterRun, tracks: list[Track]) -> dict[str, list[Entry]]:
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
        tracks, _ = self.eligible(tracks)
        before = {t.path: self.store.row(emb.name, t.path) for t in tracks}
        report = self.analyse(tracks)
        out.failed, out.unreadable = report.failed, report.unreadable
        self.describe(tracks)  # what the analysis found is in beets with or without a run
        not_stored = {p for p, _ in [*report.failed, *report.unreadable]}
        out.new = sum(before[t.path] is None and t.path not in not_stored for t in tracks)
        run = self.store.last_run(emb.name)
        if run is None or run.version != emb.version:
            if not self._told_no_run:  # once, not once per file the daemon sees
                log.info("no earlier run of {} to place new tracks by: new files wait for "
                         "`beet cluster`", emb.name)
                self._told_no_run = True
            return out
        info = {t.path: t for t in tracks}
        stale = [p for p, row in before.items() if row is not None]
        if stale:  # changed music: its old line goes, wherever the new one lands
            # The assignment goes first: the store never claims a line that may be gone.
            self.store.unassign(run.id, stale)
            try:
                self.playlists.remove(stale)
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
                self._list(run, assignment.playlist,
                           entry_of(path, info[path], seconds.get(path)))
            except (PlaylistError, OSError) as exc:
                log.warning("{}: not placed in {}: {}", path, assignment.playlist, exc)
                out.unplaced.append((path, str(exc)))
                continue
            self.store.assign(run.id, path, assignment)
            out.assigned[path] = assignment
        self._write_back([info[p] for p in out.assigned], out.assigned)
        return out

    def _list(self, run: RecordedRun, name: str, entry: Entry) -> None:
        """One line into playlist `name`; a missing playlist (its folder deleted) means the
        set is gone: it is written whole from the store first, not begun anew with one line."""
        target = self.playlists.file(name)
        if not target.exists():
            self.restore_playlists(run, f"{target} is missing")
        self.playlists.add(name, entry)

    def restore_playlists(self, run: RecordedRun, why: str) -> list[Path]:
        """The last run's playlists written whole again from the store's assignments (the
        files that still exist, nearest first), as `beet cluster` last left them plus every
        placement since."""
        log.warning("{}: writing the last run's playlists again from the store", why)
        rows = self.store.assignments(run.id)
        table = read_table(self.beets) if self.beets is not None else {}
        seconds = self.store.durations_of(run.backend, list(rows))
        named: dict[str, list[tuple[float, str]]] = {}
        for path, a in rows.items():
            if os.path.exists(path):
                named.setdefault(a.playlist, []).append((a.distance, path))
        entries = {name: [entry_of(p, table.get(p), seconds.get(p))
                          for _, p in sorted(members)] for name, members in named.items()}
        return self.playlists.write(entries)

    def repair_playlists(self) -> int:
        """Every track the last run holds (and that exists) has its line, or the set is
        written again from the store. Returns how many lines were missing."""
        run = self.store.last_run(self.settings.backend)
        if run is None:
            return 0
        lines: dict[str, set[str]] = {}
        missing = 0
        for path, name in ((p, a.playlist) for p, a in self.store.assignments(run.id).items()):
            if name not in lines:
                lines[name] = self.playlists.lines(name)
            line = self.playlists.line(path)
            missing += line is not None and line not in lines[name] and os.path.exists(path)
        if missing:
            self.restore_playlists(run, f"{missing} placed tracks have no playlist line")
        return missing

    def _write_back(self, tracks: Iterable[Track], assignments: Mapping[str, Assignment]) -> int:
        s = self.settings
        return beets_items.write_back(tracks, assignments, write=s.write_tags,
                                      grouping=s.grouping, written=self.store.restamp,
                                      lib=self.beets)

    def describe(self, tracks: Iterable[Track]) -> int:
        """The tracks' sound fields (sound_fields.py) from the store into beets' database, for
        the tracks beets holds; returns how many items changed."""
        held = [t for t in tracks if t.item is not None
                or (t.item_id is not None and self.beets is not None)]
        if not held:
            return 0
        from . import sound_fields

        found = sound_fields.read(self.store, self.embedder, [t.path for t in held])
        return beets_items.write_sound_fields(held, found, lib=self.beets)

    # -- the daemon's question ---------------------------------------------------------------

    def unplaced(self, paths: list[str]) -> list[str]:
        """Those of `paths` that need placing: not a file that is analysed as it is and in the
        last run, failed as it is, or was only moved here (its vector and playlist line follow
        it now; our own tag writes come back as such events). The store is read once for all
        of them: start-up on 100k files takes seconds, not three queries a file."""
        emb = self.embedder
        kept, _ = self.eligible(Track(p) for p in paths)  # a `.nomusic` folder: no work
        paths = [t.path for t in kept]
        rows = self.store.rows(emb.name, paths)
        run = self.store.last_run(emb.name)
        placed = self.store.assigned(run.id, paths) if run is not None else set()
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
            if ((now is Freshness.UNKNOWN and not self._adopt_moved(path, st))
                    or (now is Freshness.FRESH and run is not None and path not in placed)
                    or now is Freshness.CHANGED):
                out.append(path)
        return out

    # -- the files moved or went --------------------------------------------------------------

    def move(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        """Each (old, new) as one simultaneous rename: vectors, run assignments and playlist
        lines follow. Returns the new paths whose old path the store never knew (to analyse)."""
        pairs = list(pairs)  # the backend's name, not its model: a move loads no network
        known = [(o, n) for o, n in pairs if self.store.row(self.settings.backend, o) is not None]
        if known:
            self.store.move_many(known)
            self.playlists.move(known)
            self._list_newly_spellable(known)
        return [n for o, n in pairs if (o, n) not in known]

    def _list_newly_spellable(self, pairs: list[tuple[str, str]]) -> None:
        """Renamed from a name no playlist line could spell: it had no line to move; list it."""
        run = self.store.last_run(self.settings.backend)
        for old, new in pairs if run else ():
            found = self.store.assignment(run.id, new)
            if found is not None and self.playlists.line(old) is None:
                self.playlists.add(found.playlist, entry_of(new, None))

    def remove(self, paths: Iterable[str]) -> list[str]:
        """Files or folders that are gone: forget every track at or under them."""
        gone: set[str] = set()
        for path in paths:
            gone.update(self.store.remove_under(path))
            gone.add(path)  # a line for a file the store never had goes too
        self.playlists.remove(sorted(gone))
        return sorted(gone)

    # -- a playlist grown from songs or words ---------------------------------------------------

    def similar(self, seeds: list[Track], tracks: Mapping[str, Track] | Iterable[Track], *,
                n: int, path: bool = False, text: str | None = None, out: Path | None = None,
                pretend: bool = False) -> SimilarList:
        """The `n` tracks closest to the seeds (similar.find says how)."""
        from . import similar

        return similar.find(seeds, self._candidates(tracks), n=n, settings=self.settings,
                            store=self.store, emb=self.embedder, analyse=self.analyse,
                            folder=self.playlists, path=path, text=text, out=out, pretend=pretend)

    def _candidates(self, tracks: Mapping[str, Track] | Iterable[Track]
                    ) -> Mapping[str, Track] | list[Track]:
        """The tracks `eligible` keeps; a table read lazily (ItemTable) stays lazy."""
        if isinstance(tracks, ItemTable):
            _, out = self.eligible(tracks.bare())
            return tracks.without({t.path for t in out})
        if isinstance(tracks, Mapping):
            kept, _ = self.eligible(tracks.values())
            return {t.path: t for t in kept}
        return self.eligible(tracks)[0]

    def next_songs(self, seeds: list[Track], tracks: Mapping[str, Track], *, n: int,
                   avoid: set[str] = frozenset(),
                   history: Mapping[str, Listening] | None = None) -> list[Picked]:
        """The radio's `n` songs after seeds[0] (the song playing; the rest, the songs
        played before it): near all seeds, none of `avoid`, often-skipped ones sunk
        (radio.next_songs says how)."""
        from . import radio

        return radio.next_songs(lambda *a, **k: self.similar(*a, **k), seeds, tracks, n=n,
                                avoid=set(avoid), history=history or {})

    # -- judging a recorded run: scikit-learn and matplotlib load only when one is called ----

    def last_run(self) -> RecordedRun:
        """The run whose playlists are on disk: the last one of any backend (`-b musicnn` then
        `--evaluate` under a handcrafted config judges the musicnn run)."""
        from .clustering import recorded

        return recorded.last_run(self.store)

    def evaluate(self, run: RecordedRun, truth: Mapping[str, object] | None = None,
                 label_field: str = "label") -> dict:
        """The measures of a recorded run (external ones against `truth`: path -> label)."""
        from .clustering import recorded

        return recorded.evaluate(self.store, run, truth, label_field)

    def draw(self, run: RecordedRun, out: Path, projection: str = "pca", html: bool = False,
             titles: Mapping[str, str] | None = None) -> list[Path]:
        """The run's map; `titles`: path -> "artist - title", for the HTML page."""
        from .clustering import recorded

        return recorded.draw(self.store, run, out, projection, html, titles)
