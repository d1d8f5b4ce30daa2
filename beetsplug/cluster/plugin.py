"""beets front end: config -> Settings, the `cluster` command, the optional import stage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from beets import config as beets_config
from beets import ui
from beets.dbcore import types
from beets.plugins import BeetsPlugin

from . import embedders, evaluation, judge, playlists
from .daemon_command import clusterd_command
from .errors import ClusterError
from .items import apply_assignments, field_label, item_path, track_of
from .pipeline import AnalysisReport, ClusterRun, Pipeline
from .progress import Progress
from .settings import AGGREGATES, METHODS, Settings
from .store import Store
from .tags import CLUSTER, MEDIA_FIELDS, PLAYLIST

DEFAULTS = {
    "clusters": 6, "auto_range": "2-12", "backend": "handcrafted", "aggregate": "chunk_average", "method": "kmeans",
    "window_seconds": None, "padding_threshold": 0.5, "max_windows": None,
    "window_quantile": 0.25, "workers": 0, "model": None, "device": "auto",
    "pca_variance": 0.95, "minibatch_threshold": 20_000, "seed": 0,
    "store": None, "playlist_dir": None, "playlist_template": "{number:02d} {name}",
    "path_mode": "playlist", "path_prefix": "", "url_encode": False, "grouping": False,
    "auto": False,
}


def settings_from_config(view, **overrides) -> Settings:
    """Build Settings from the `cluster:` config view (plus command-line overrides)."""
    c = {key: view[key].get() for key in DEFAULTS}
    c.update({k: v for k, v in overrides.items() if v is not None})
    library_db = Path(beets_config["library"].as_filename())
    library_root = Path(beets_config["directory"].as_filename())
    try:
        s = Settings(
            n_clusters=None if str(c["clusters"]).lower() == "auto" else int(c["clusters"]),
            k_range=tuple(int(x) for x in str(c["auto_range"]).split("-", 1)),
            method=c["method"], aggregate=c["aggregate"],
            pca_variance=float(c["pca_variance"]), seed=int(c["seed"]),
            minibatch_threshold=int(c["minibatch_threshold"]),
            backend=c["backend"], model=c["model"], device=c["device"],
            window_seconds=None if c["window_seconds"] is None else float(c["window_seconds"]),
            padding_threshold=float(c["padding_threshold"]),
            max_windows=None if c["max_windows"] is None else int(c["max_windows"]),
            window_quantile=float(c["window_quantile"]),
            workers=int(c["workers"]) or os.cpu_count() or 1,
            store_path=_path(c["store"]) or library_db.parent / "cluster.db",
            playlist_dir=_path(c["playlist_dir"]) or library_root / "Playlists",
            playlist_template=c["playlist_template"], path_mode=c["path_mode"],
            path_prefix=c["path_prefix"], url_encode=bool(c["url_encode"]),
            library_root=library_root, write_grouping=bool(c["grouping"]),
            cache_dir=user_cache_dir(),
        )
        s.check()
    except (TypeError, ValueError) as exc:
        raise ui.UserError(f"cluster: bad configuration: {exc}") from exc
    if s.backend not in embedders.BACKENDS:
        raise ui.UserError(f"cluster: unknown backend {s.backend!r}; "
                           f"choose one of {', '.join(embedders.BACKENDS)}")
    return s


def user_cache_dir() -> Path:
    """Where converted model weights are kept: $XDG_CACHE_HOME/beets-cluster."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "beets-cluster"


def _path(value) -> Path | None:
    return Path(os.path.expanduser(str(value))) if value else None


class ClusterPlugin(BeetsPlugin):
    item_types: ClassVar[dict] = {CLUSTER: types.INTEGER, PLAYLIST: types.STRING}

    def __init__(self) -> None:
        super().__init__("cluster")
        self.config.add(DEFAULTS)
        for name, field in MEDIA_FIELDS.items():
            self.add_media_field(name, field)
        if self.config["auto"].get(bool):
            self.import_stages = [self.imported]

    def commands(self) -> list[ui.Subcommand]:
        cmd = ui.Subcommand("cluster", help="group tracks by how they sound into playlists")
        p = cmd.parser
        p.add_option("-n", "--clusters", help="number of clusters (playlists), or 'auto'")
        p.add_option("-m", "--method", choices=list(METHODS), help="clustering method")
        p.add_option("-b", "--backend", choices=list(embedders.BACKENDS), help="track vectors")
        p.add_option("-a", "--aggregate", choices=list(AGGREGATES), help="windows -> track")
        p.add_option("-f", "--force", action="store_true", default=False,
                     help="re-analyse every track, even unchanged ones")
        p.add_option("-p", "--pretend", action="store_true", default=False,
                     help="show the clusters; write no playlist, tag or run")
        p.add_option("-o", "--output", metavar="FILE.json", help="also write playlists as JSON")
        p.add_option("-e", "--evaluate", action="store_true", default=False,
                     help="print the measures of the run (the last one, unless -n is given)")
        p.add_option("-l", "--labels", metavar="FIELD",
                     help="with --evaluate: judge against this beets field (e.g. genre)")
        p.add_option("--plot", metavar="FILE.png", help="draw a 2-D map of the run's tracks")
        p.add_option("--projection", choices=["pca", "tsne", "umap"], default="pca",
                     help="projection of the map (default pca)")
        p.add_option("--html", action="store_true", default=False,
                     help="with --plot: also write a self-contained HTML page")
        cmd.func = self.command
        return [cmd, clusterd_command()]

    def settings(self, **overrides) -> Settings:
        return settings_from_config(self.config, **overrides)

    def command(self, lib, opts, args) -> None:
        s = self.settings(clusters=opts.clusters, backend=opts.backend, aggregate=opts.aggregate,
                          method=opts.method)
        judge_only = (opts.evaluate or opts.plot) and opts.clusters is None
        items = list(lib.items(args))
        if not items:
            raise ui.UserError("cluster: the query matched no tracks")
        try:
            if not judge_only:
                self._run(lib, items, s, opts)
            if opts.evaluate or opts.plot:
                self._judge(lib, items, s, opts)
        except ClusterError as exc:
            raise ui.UserError(f"cluster: {exc}") from exc
        except KeyboardInterrupt:
            raise ui.UserError("cluster: interrupted; what was analysed is kept, "
                               "run again to resume") from None

    def _run(self, lib, items, s: Settings, opts) -> None:
        tracks = [track_of(i) for i in items]
        store = Store(s.store_path)
        try:
            pipe = Pipeline(s, store)
            report = pipe.analyse(tracks, force=opts.force,
                                  progress=lambda n: Progress(n, "analysing").tick)
            self._print_report(report)
            run = pipe.cluster(tracks) if not opts.pretend else None
            if opts.pretend:
                ui.print_("cluster: --pretend: analysed only; no playlist, tag or run written")
                return
            files = pipe.export(run, tracks)
            if opts.output:
                self._write_json(pipe, run, tracks, Path(opts.output))
            clustered = lib.items(f"{CLUSTER}:0..")  # earlier runs' members: cleared if stale
            members = {item.id: item for item in list(items) + list(clustered)}
            changed = apply_assignments(members.values(), run.assignments,
                                        write=ui.should_write(), grouping=s.write_grouping,
                                        written=store.restamp)
            self._print_summary(run, files, changed)
        finally:
            store.close()

    def _judge(self, lib, items, s: Settings, opts) -> None:
        store = Store(s.store_path)
        try:
            run = store.last_run(s.backend)
            if run is None:
                raise ClusterError(f"no {s.backend} run to judge yet: run `beet cluster` first")
            if opts.evaluate:
                truth = None
                if opts.labels:
                    truth = {item_path(i): field_label(i, opts.labels) for i in items}
                measures = judge.evaluate(store, run, truth)
                ui.print_(evaluation.format_table({f"run {run['id']} (k={run['k']})": measures}))
            if opts.plot:
                for f in judge.draw(store, run, Path(opts.plot), opts.projection, opts.html):
                    ui.print_(f"cluster: wrote {f}")
        finally:
            store.close()

    def imported(self, session, task) -> None:
        """Import stage (`auto: yes`): analyse new tracks, place them by the last run's clusters."""
        from .incremental import place_new

        items = task.imported_items()
        s = self.settings()
        store = Store(s.store_path)
        try:
            placed = place_new(Pipeline(s, store), [track_of(i) for i in items])
            apply_assignments(items, placed, write=ui.should_write(), grouping=s.write_grouping,
                              written=store.restamp)
        except ClusterError as exc:
            self._log.warning("{}", exc)
        finally:
            store.close()

    def _print_report(self, r: AnalysisReport) -> None:
        ui.print_(f"cluster: {r.total} tracks: {r.analysed} analysed, {r.cached} already known, "
                  f"{r.moved} moved, {len(r.failed) + len(r.known_failures)} failed, "
                  f"{len(r.missing)} missing")
        for path, error in r.failed:
            self._log.warning("skipped {}: {}", path, error)
        if r.known_failures:
            self._log.info("{} files failed before and are unchanged (not retried; "
                           "--force retries them)", len(r.known_failures))
        for path in r.missing:
            self._log.warning("file not found: {}", path)

    def _print_summary(self, run: ClusterRun, files: list[Path], changed: int) -> None:
        if run.scan:
            ui.print_(run.scan.render())
            ui.print_(f"cluster: k={run.k} chosen by silhouette")
        if run.previous_ari is not None:
            ui.print_(f"cluster: agreement with the previous run (ARI) {run.previous_ari:.3f}")
        if run.noise:
            ui.print_(f"cluster: {len(run.noise)} tracks are noise and in no playlist")
        by_name = {f.stem: f for f in files}
        width = max(len(n) for n in run.playlists)
        ui.print_(f"{'cluster':>7}  {'tracks':>6}  {'playlist':<{width}}  file")
        for name, paths in run.playlists.items():
            number = run.assignments[paths[0]][0] if paths else "-"
            ui.print_(f"{number:>7}  {len(paths):>6}  {name:<{width}}  {by_name.get(name, '-')}")
        if run.unclustered:
            ui.print_(f"cluster: {len(run.unclustered)} tracks have no vector and are in no "
                      "playlist (see the warnings above)")
        ui.print_(f"cluster: {changed} tracks changed cluster")

    def _write_json(self, pipe: Pipeline, run: ClusterRun, tracks, out: Path) -> None:
        playlists.write_json(pipe.entries(run, tracks), out)
        ui.print_(f"cluster: wrote {out}")


__all__ = ["ClusterPlugin", "item_path", "settings_from_config"]
