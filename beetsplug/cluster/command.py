"""`beet cluster` and the import stage as calls on the core's Library, and what they print.

Kept apart from plugin.py because beets imports every enabled plugin for every command
(`beet ls` too): what is here, scikit-learn with it, loads only when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from beets import ui

from .beets_items import field_label, item_path, track_of
from .config import Settings
from .errors import ClusterError
from .item_table import read_clustered, read_tracks
from .library import Library
from .log import log
from .output import files, playlists
from .progress import ProgressLine
from .records import AnalysisReport, ClusterRun, Track
from .text import plural


def query_tracks(lib, query) -> list[Track]:
    """The query's tracks, read in bulk; beets Items only for a query beets matches in Python."""
    found = read_tracks(lib, query)
    return found if found is not None else [track_of(i) for i in lib.items(query)]


def run(lib, with_items: list[Track], s: Settings, opts, *,
        whole_library: bool = False) -> None:
    """Analyse, then recluster (or only show, with --pretend). `whole_library` (no query):
    the files the daemon placed without beets are clustered too."""
    if opts.json and not opts.pretend:  # before anything is written: the run included
        files.check_export_target(Path(opts.json))
    core = Library(s, beets=lib)
    try:
        tracks = core.whole_library(with_items) if whole_library else with_items
        # earlier runs' members the query no longer holds: their tags are cleared
        others = () if opts.pretend else read_clustered(lib, besides=tracks)
        _, run = core.update(tracks, force=opts.force, analysed=print_report, others=others,
                             progress=lambda work: ProgressLine(work, "analysing").tick,
                             rename=opts.rename, pretend=opts.pretend)
        if opts.pretend:
            print_summary(run)
            ui.print_("cluster: --pretend: nothing written (no playlist, tag or run)")
            return
        if opts.json:
            files.write_json(core.entries(run, tracks), Path(opts.json))
            ui.print_(f"cluster: wrote {opts.json}")
        print_summary(run)
        if run.unchanged:
            ui.print_(f"cluster: nothing changed since run {run.run_id} (the tracks, their "
                      "vectors, the options): it stands; no playlist, tag or run written")
    finally:
        core.close()


def labels(lib, query, field: str) -> dict[str, object]:
    """path -> the field's value for the query's tracks (--labels); a field none of them has is
    an error, raised before a run is written rather than after."""
    truth = {item_path(i): field_label(i, field) for i in lib.items(query)}
    if all(v in (None, "") for v in truth.values()):
        raise ClusterError(f"--labels {field}: no track of the query has a value for "
                           f"{field!r}: check the field name (`beet fields` lists them)")
    return truth


def judge_last(lib, query, s: Settings, opts, truth: dict[str, object] | None = None,
               tracks: Sequence[Track] = ()) -> None:
    """--evaluate and --plot on the last run of any backend: the one whose playlists are on
    disk (`truth`: --labels); the map names the `tracks` (the query's) by artist and title."""
    core = Library(s)
    try:
        run = core.last_run()
        if opts.evaluate:
            if opts.labels and truth is None:
                truth = labels(lib, query, opts.labels)
            measures = core.evaluate(run, truth, label_field=opts.labels or "label")
            from .clustering import quality  # scikit-learn: only for --evaluate

            header = f"run {run.id} ({run.backend}, k={run.k})"
            ui.print_(quality.format_table({header: measures}))
        if opts.plot:
            titles = {t.path: t.display_name for t in tracks if t.display_name}
            for f in core.draw(run, Path(opts.plot), opts.projection, opts.html, titles):
                ui.print_(f"cluster: wrote {f}")
    finally:
        core.close()


def place_imported(items, s: Settings, lib=None) -> None:
    """The import stage: analyse new tracks, place them by the last run's clusters."""
    _warning_on_errors(s, lambda core: core.place([track_of(i) for i in items]), lib)


def follow(moves: list[tuple[str, str]], removals: list[str], s: Settings) -> None:
    """beets moved or removed items: one call each on the core."""
    def both(core: Library) -> None:
        core.move(moves)
        core.remove(removals)
        log.debug("followed {} moves and {} removals", len(moves), len(removals))

    _warning_on_errors(s, both)


def _warning_on_errors(s: Settings, work: Callable[[Library], object], lib=None) -> None:
    """Work that follows a beets command (an import, a move): our failure is a warning line,
    never the end of the user's beets command."""
    try:
        core = Library(s, beets=lib)
    except ClusterError as exc:
        log.warning("{}", exc)
        return
    try:
        work(core)
    except ClusterError as exc:
        log.warning("{}", exc)
    finally:
        core.close()


def print_report(r: AnalysisReport) -> None:
    ui.print_(f"cluster: {plural(r.total, 'track')}: {r.analysed} analysed, "
              f"{r.cached} already known, {r.moved} moved, {r.retagged} retagged, "
              f"{len(r.failed) + len(r.known_failures)} failed, {len(r.missing)} missing"
              + (f", {len(r.unreadable)} unreadable" if r.unreadable else ""))
    for path, error in r.failed:
        log.warning("skipped {}: {}", playlists.readable(path), error)
    for path, error in r.unreadable:
        log.warning("skipped {}: {} (tried again next run)", playlists.readable(path), error)
    if r.known_failures:
        log.info("{} failed before and {} unchanged (not retried; --force retries them)",
                 plural(len(r.known_failures), "file"), _are(r.known_failures))
    for path in r.missing:
        log.warning("file not found: {}", playlists.readable(path))


def print_summary(run: ClusterRun) -> None:
    """The run as a table: what each playlist file holds (or would hold, before export)."""
    if run.scan:
        ui.print_(run.scan.render())
        low, high = run.scan.eligible
        ui.print_(f"cluster: k={run.k}, the best silhouette among the useful k ({low}..{high})")
    if run.previous_ari is not None:
        ui.print_(f"cluster: agreement with the previous run (ARI) {run.previous_ari:.3f}")
    if run.noise:
        ui.print_(f"cluster: {plural(len(run.noise), 'track')} {_are(run.noise)} noise and in "
                  "no playlist")
    by_name = {f.stem: f for f in run.files}
    width = max(len(n) for n in run.playlists)
    ui.print_(f"{'cluster':>7}  {'tracks':>6}  {'playlist':<{width}}  file")
    unlisted = 0
    for name, paths in run.playlists.items():
        number = run.assignments[paths[0]].cluster if paths else "-"
        file = by_name.get(name)
        # what the file holds (as written by this run, not read back: another run may have
        # replaced it since): a track whose name no playlist line can spell is not in it
        listed = run.listed.get(file, len(paths)) if file else len(paths)
        unlisted += len(paths) - listed
        ui.print_(f"{number:>7}  {listed:>6}  {name:<{width}}  {file or '-'}")
    if unlisted:
        ui.print_(f"cluster: {plural(unlisted, 'clustered track')} in no playlist file: a "
                  "playlist line can't spell the path (a line break or bytes that are not "
                  "UTF-8 in the name, or outside the library root; named above)")
    if run.unclustered:
        has = "has" if len(run.unclustered) == 1 else "have"
        ui.print_(f"cluster: {plural(len(run.unclustered), 'track')} {has} no vector and "
                  f"{_are(run.unclustered)} in no playlist (see the warnings above)")
    if run.run_id is not None:
        ui.print_(f"cluster: {plural(run.changed, 'track')} changed cluster")


def _are(things: list) -> str:
    return "is" if len(things) == 1 else "are"
