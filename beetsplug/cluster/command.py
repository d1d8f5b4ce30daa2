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
from .tags import CLUSTER
from .text import plural


def run(lib, items, s: Settings, opts) -> None:
    tracks = [track_of(i) for i in items]
    store = Store(s.store_path)
    try:
        pipe = Pipeline(s, store)
        report = pipe.analyse(tracks, force=opts.force,
                              progress=lambda n: Progress(n, "analysing").tick)
        print_report(report)
        if opts.pretend:
            print_summary(pipe.cluster(tracks, record=False), [], None)
            ui.print_("cluster: --pretend: nothing written (no playlist, tag or run)")
            return
        run = pipe.cluster(tracks)
        files = pipe.export(run, tracks)
        if opts.output:
            playlists.write_json(pipe.entries(run, tracks), Path(opts.output))
            ui.print_(f"cluster: wrote {opts.output}")
        clustered = lib.items(f"{CLUSTER}:0..")  # earlier runs' members: cleared if stale
        members = {item.id: item for item in list(items) + list(clustered)}
        changed = apply_assignments(members.values(), run.assignments,
                                    write=ui.should_write(), grouping=s.write_grouping,
                                    written=store.restamp)
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
    for name, paths in run.playlists.items():
        number = run.assignments[paths[0]][0] if paths else "-"
        ui.print_(f"{number:>7}  {len(paths):>6}  {name:<{width}}  {by_name.get(name, '-')}")
    if run.unclustered:
        has = "has" if len(run.unclustered) == 1 else "have"
        ui.print_(f"cluster: {plural(len(run.unclustered), 'track')} {has} no vector and "
                  f"{_are(run.unclustered)} in no playlist (see the warnings above)")
    if changed is not None:
        ui.print_(f"cluster: {plural(changed, 'track')} changed cluster")


def _are(things: list) -> str:
    return "is" if len(things) == 1 else "are"
