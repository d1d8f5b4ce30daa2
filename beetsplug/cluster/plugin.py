"""beets front end: config -> Settings, the `cluster` command, the optional import stage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from beets import config as beets_config
from beets import ui
from beets.dbcore import types
from beets.plugins import BeetsPlugin

from . import embedders
from .daemon_command import clusterd_command
from .errors import ClusterError
from .settings import AGGREGATES, METHODS, Settings
from .stop_signals import interrupt_on_signals, interrupted_line
from .tags import CLUSTER, MEDIA_FIELDS, PLAYLIST

DEFAULTS = {
    "clusters": 6, "auto_range": "2-12", "backend": "handcrafted", "aggregate": "chunk_average",
    "method": "kmeans",
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
                     help="with --evaluate: judge against this beets field, e.g. genre "
                     "(a list field such as genres: its first value)")
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
        from . import command  # heavy (scikit-learn, librosa): only when clustering runs

        restore_signals = interrupt_on_signals()  # SIGTERM, SIGHUP: as Ctrl-C
        try:
            if not judge_only:
                command.run(lib, items, s, opts, whole_library=not args)
            if opts.evaluate or opts.plot:
                command.judge_last(items, s, opts)
        except ClusterError as exc:
            raise ui.UserError(f"cluster: {exc}") from exc
        except KeyboardInterrupt as exc:
            raise ui.UserError(interrupted_line(exc)) from None
        finally:
            restore_signals()

    def imported(self, session, task) -> None:
        """Import stage (`auto: yes`): analyse new tracks, place them by the last run's clusters."""
        from . import command

        command.place_imported(task.imported_items(), self.settings())


__all__ = ["ClusterPlugin", "settings_from_config"]
