"""beets front end: config -> Settings, the `cluster` command, the optional import stage."""

from __future__ import annotations

import os
from typing import ClassVar

from beets import ui
from beets.dbcore import types
from beets.plugins import BeetsPlugin

from . import config, embedders, sound_fields
from .beets_config import settings_from_beets
from .config import AGGREGATES, METHODS, Settings
from .daemon_command import clusterd_command
from .errors import ClusterError
from .item_table import item_paths
from .output.file_tags import CLUSTER, MEDIA_FIELDS, PLAYLIST
from .stop_signals import interrupt_on_signals, interrupted_line


class ClusterPlugin(BeetsPlugin):
    item_types: ClassVar[dict] = {CLUSTER: types.INTEGER, PLAYLIST: types.STRING,
                                  # numbers: `beet ls sound_energy:0.8..` compares as numbers
                                  **{k: types.NullFloat(digits)
                                     for k, digits in sound_fields.DIGITS.items()},
                                  sound_fields.TAGS: types.STRING}

    def __init__(self) -> None:
        super().__init__("cluster")
        for name, field in MEDIA_FIELDS.items():
            self.add_media_field(name, field)
        if config.with_defaults(self.config)["auto"].get(bool):
            self.import_stages = [self.imported]
        # beets' own moves and removals: the store and the playlists follow once, at exit
        self._moves: list[tuple[str, str]] = []
        self._removals: list[str] = []
        self.register_listener("item_moved", self._item_moved)
        self.register_listener("item_removed", self._item_removed)
        self.register_listener("cli_exit", self._follow_beets)

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
        # --json is the name; -o/--output, its old spelling, stays (`similar -o` is M3U8)
        p.add_option("--json", "-o", "--output", dest="json", metavar="FILE.json",
                     help="also write playlists as JSON (old spelling: -o/--output)")
        p.add_option("--rename", action="store_true", default=False,
                     help="name every playlist afresh (continuing playlists keep their names)")
        # the config key's name; --dask, the old spelling, stays
        p.add_option("--dask-scheduler", "--dask", dest="dask_scheduler", metavar="ADDRESS",
                     help="analyse on this Dask scheduler's workers, e.g. tcp://nas:8786 "
                     "(config: dask_scheduler; old spelling: --dask)")
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
        return [cmd, self._similar_command(), self._radio_command(), clusterd_command()]

    def _similar_command(self) -> ui.Subcommand:
        cmd = ui.Subcommand("similar", help="a playlist of the songs that sound closest to a "
                            "song (or between two, or to words with the clap backend)")
        p = cmd.parser
        p.add_option("-n", "--count", type="int", default=25, help="tracks (default 25)")
        p.add_option("--path", action="store_true", default=False,
                     help="QUERY_A QUERY_B: a path stepping from one song to the other")
        p.add_option("--text", metavar="WORDS", help="the songs nearest these words (clap)")
        p.add_option("-o", "--output", metavar="FILE.m3u8", help="the playlist file")
        p.add_option("-p", "--pretend", action="store_true", default=False,
                     help="only print the playlist")
        p.add_option("--mpd", action="store_true", default=False,
                     help="seed with MPD's current song; queue the songs after it")
        p.add_option("--queue", action="store_true", default=False,
                     help="with --mpd: seed with MPD's whole queue")
        p.add_option("--replace", action="store_true", default=False,
                     help="with --mpd: the songs replace the queue (the playing song stays)")
        cmd.func = self.similar
        return cmd

    def _radio_command(self) -> ui.Subcommand:
        cmd = ui.Subcommand("radio", help="keep MPD's queue going with songs like the one "
                            "playing (a query filters them); Ctrl-C ends it")
        cmd.parser.add_option("-n", "--count", type="int", default=None,
                              help="songs kept queued ahead (config: radio_ahead, 10)")
        cmd.func = self.radio
        return cmd

    def radio(self, lib, opts, args) -> None:
        from . import mpd_command  # only when it runs

        restore_signals = interrupt_on_signals()  # SIGTERM, SIGHUP: as Ctrl-C
        try:
            mpd_command.radio(lib, opts, args, self.settings())
        except ClusterError as exc:
            raise ui.UserError(f"radio: {exc}") from exc
        except KeyboardInterrupt:
            ui.print_("radio: stopped")
        finally:
            restore_signals()

    def similar(self, lib, opts, args) -> None:
        from . import similar_command  # only when it runs

        try:
            if opts.mpd:
                from . import mpd_command

                if args:
                    raise ClusterError("--mpd takes its seeds from MPD, not a query")
                mpd_command.similar_mpd(lib, opts, self.settings())
                return
            if opts.queue or opts.replace:
                raise ClusterError("--queue and --replace go with --mpd")
            similar_command.similar(lib, opts, args, self.settings())
        except ClusterError as exc:
            raise ui.UserError(f"similar: {exc}") from exc

    def settings(self, **overrides) -> Settings:
        return settings_from_beets(**overrides)

    def command(self, lib, opts, args) -> None:
        s = self.settings(clusters=clusters_option(opts.clusters), backend=opts.backend,
                          aggregate=opts.aggregate, method=opts.method,
                          dask_scheduler=opts.dask_scheduler)
        judge_only = (opts.evaluate or opts.plot) and opts.clusters is None
        from . import command  # heavy (scikit-learn): only when clustering runs

        tracks = command.query_tracks(lib, args)
        if not tracks:
            raise ui.UserError("cluster: the query matched no tracks")
        restore_signals = interrupt_on_signals()  # SIGTERM, SIGHUP: as Ctrl-C
        try:
            truth = None
            if opts.evaluate and opts.labels:  # a field no track has: found before the run
                truth = command.labels(lib, args, opts.labels)
            if not judge_only:
                command.run(lib, tracks, s, opts, whole_library=not args)
            if opts.evaluate or opts.plot:
                command.judge_last(lib, args, s, opts, truth, tracks)
        except ClusterError as exc:
            raise ui.UserError(f"cluster: {exc}") from exc
        except KeyboardInterrupt as exc:
            raise ui.UserError(interrupted_line(exc)) from None
        finally:
            restore_signals()

    def imported(self, session, task) -> None:
        """Import stage (`auto: yes`): analyse new tracks, place them by the last run's clusters."""
        from . import command

        command.place_imported(task.imported_items(), self.settings(), session.lib)

    def _item_moved(self, item, source, destination) -> None:
        self._moves.append((os.fsdecode(source), os.fsdecode(destination)))

    def _item_removed(self, item) -> None:
        self._removals.append(os.fsdecode(item.path))

    def _follow_beets(self, lib) -> None:
        """`beet move`, `beet rm`, an import that moves: vectors and playlist lines follow."""
        if not (self._moves or self._removals):
            return
        s = self.settings()
        if s.store.exists():  # nothing to follow before a first `beet cluster`
            from . import command

            command.follow(self._moves, gone(lib, self._removals), s)
        self._moves, self._removals = [], []


def clusters_option(value: str | None) -> str | None:
    """-n/--clusters: a whole number or `auto`, said in one line (not int()'s message)."""
    word = (value or "").strip()
    if value is None or word.lower() == "auto" or (word.isascii() and word.isdigit()):
        return value
    raise ui.UserError(f"cluster: -n/--clusters takes a whole number or 'auto', not {value!r}")


def gone(lib, removed: list[str]) -> list[str]:
    """The removed items' paths that are really gone. A re-import replaces each item at the
    same path (item_removed, then a new item), and `beet rm` without -d leaves the file: a
    file that still exists, or is again an item when the command ends, keeps its vector,
    its playlist line and its tags."""
    if not removed:
        return []
    left = [p for p in dict.fromkeys(removed) if not os.path.lexists(p)]
    return [p for p in left if p not in item_paths(lib, left)]


__all__ = ["ClusterPlugin", "clusters_option", "gone"]
