"""The work behind `beet cluster`: analyse, cluster, export, write back, report; judge a run.

Kept apart from plugin.py because beets imports every enabled plugin for every command
(`beet ls` too): what is here, scikit-learn and librosa with it, loads only when it runs.
"""

from __future__ import annotations

from pathlib import Path

from beets import ui

from . import evaluation, judge, playlists
from .errors import ClusterError
from .incremental import place_new
from .items import apply_assignments, field_label, item_path, track_of
from .log import log
from .pipeline import AnalysisReport, ClusterRun, Pipeline
from .progress import Progress
from .settings import Settings
from .store import Store
from .tags import CLUSTER, tag_files
from .text import plural


def run(lib, items, s: Settings, opts, *, whole_library: bool = False) -> None:
    """`whole_library` (no query): files the daemon placed without beets are clustered too."""
    tracks = [track_of(i) for i in items]
    store = Store(s.store_path)
    try:
        pipe = Pipeline(s, store)
        strays = (pipe.strays([t.path for t in tracks], [s.library_root])
                  if whole_library and s.library_root else [])
        tracks += strays
        report = pipe.analyse(tracks, force=opts.force,
                              progress=lambda n: Progress(n, "analysing").tick)
        print_report(report)
        if opts.pretend:
            print_summary(pipe.cluster(tracks), [], None)
            ui.print_("cluster: --pretend: nothing written (no playlist, tag or run)")
            return
        run = pipe.cluster(tracks)
        files = pipe.export(run, tracks)  # records the run: tags follow only a whole export
        clustered = lib.items(f"{CLUSTER}:0..")  # earlier runs' members: cleared if stale
        members = {item.id: item for item in list(items) + list(clustered)}
        changed = apply_assignments(members.values(), run.assignments,
                                    write=ui.should_write(), grouping=s.write_grouping,
                                    written=store.restamp)
        if ui.should_write():  # no beets item to hold them: the file is their only place
            changed += tag_files([t.path for t in strays if t.path not in run.unclustered],
                                 run.assignments, grouping=s.write_grouping,
                                 written=store.restamp)
        if opts.output:  # an extra, after the tags: its failure must not part them from lists
            playlists.write_json(pipe.entries(run, tracks), Path(opts.output))
            ui.print_(f"cluster: wrote {opts.output}")
        print_summary(run, files, changed)
    finally:
        store.close()


def judge_last(items, s: Settings, opts) -> None:
    """--evaluate and --plot on the last run of the configured backend."""
    store = Store(s.store_path)
    try:
        run = store.last_run(s.backend)
        if run is None:
            raise ClusterError(f"no {s.backend} run to judge yet: run `beet cluster` first")
        if opts.evaluate:
            truth = None
            if opts.labels:
                truth = {item_path(i): field_label(i, opts.labels) for i in items}
            measures = judge.evaluate(store, run, truth, label_field=opts.labels)
            ui.print_(evaluation.format_table({f"run {run['id']} (k={run['k']})": measures}))
        if opts.plot:
            for f in judge.draw(store, run, Path(opts.plot), opts.projection, opts.html):
                ui.print_(f"cluster: wrote {f}")
    finally:
        store.close()


def place_imported(items, s: Settings) -> None:
    """The import stage: analyse new tracks, place them by the last run's clusters."""
    store = Store(s.store_path)
    try:
        placed = place_new(Pipeline(s, store), [track_of(i) for i in items])
        apply_assignments(items, placed, write=ui.should_write(), grouping=s.write_grouping,
                          written=store.restamp)
    except ClusterError as exc:
        log.warning("{}", exc)
    finally:
        store.close()


def print_report(r: AnalysisReport) -> None:
    ui.print_(f"cluster: {plural(r.total, 'track')}: {r.analysed} analysed, "
              f"{r.cached} already known, {r.moved} moved, {r.retagged} retagged, "
              f"{len(r.failed) + len(r.known_failures)} failed, {len(r.missing)} missing")
    for path, error in r.failed:
        log.warning("skipped {}: {}", path, error)
    if r.known_failures:
        log.info("{} failed before and {} unchanged (not retried; --force retries them)",
                 plural(len(r.known_failures), "file"), _are(r.known_failures))
    for path in r.missing:
        log.warning("file not found: {}", path)


def print_summary(run: ClusterRun, files: list[Path], changed: int | None) -> None:
    """The run as a table; `changed` None: nothing was written (--pretend), files show "-"."""
    if run.scan:
        ui.print_(run.scan.render())
        ui.print_(f"cluster: k={run.k} chosen by silhouette")
    if run.previous_ari is not None:
        ui.print_(f"cluster: agreement with the previous run (ARI) {run.previous_ari:.3f}")
    if run.noise:
        ui.print_(f"cluster: {plural(len(run.noise), 'track')} {_are(run.noise)} noise and in "
                  "no playlist")
    by_name = {f.stem: f for f in files}
    width = max(len(n) for n in run.playlists)
    ui.print_(f"{'cluster':>7}  {'tracks':>6}  {'playlist':<{width}}  file")
    unlisted = 0
    for name, paths in run.playlists.items():
        number = run.assignments[paths[0]][0] if paths else "-"
        file = by_name.get(name)
        # what the file holds: a track whose name no playlist line can spell is not in it
        listed = len(playlists.read_playlist(file)) if file else len(paths)
        unlisted += len(paths) - listed
        ui.print_(f"{number:>7}  {listed:>6}  {name:<{width}}  {file or '-'}")
    if unlisted:
        ui.print_(f"cluster: {unlisted} clustered track{'s' * (unlisted != 1)} in no playlist "
                  "file: a playlist line can't spell the path (a line break or bytes that are "
                  "not UTF-8 in the name, or outside the library root; named above)")
    if run.unclustered:
        has = "has" if len(run.unclustered) == 1 else "have"
        ui.print_(f"cluster: {plural(len(run.unclustered), 'track')} {has} no vector and "
                  f"{_are(run.unclustered)} in no playlist (see the warnings above)")
    if changed is not None:
        ui.print_(f"cluster: {plural(changed, 'track')} changed cluster")


def _are(things: list) -> str:
    return "is" if len(things) == 1 else "are"
