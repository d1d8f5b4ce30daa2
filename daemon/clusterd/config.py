"""The daemon's options from the beets config (`cluster:` section); the only place it is read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import confuse
from beets import IncludeLazyConfig, config

from beetsplug.cluster.beets_config import settings_from_beets
from beetsplug.cluster.config import DAEMON_KEYS, check_ranges, read_view
from clusterd.service import DaemonOptions


def read_config(config_file: Path | None = None) -> None:
    """(Re-)read the beets config files, as `beet` does, plus an optional extra file."""
    config.clear()
    config.read(user=True, defaults=True)
    if config_file is not None:
        config.set_file(config_file)


def fresh_config(config_file: Path | None = None) -> confuse.Configuration:
    """The config files read again into a new root, the running one untouched: a reload swaps
    it in only once it has proved good. Sources that are no file (plugins' defaults, the
    command line's overrides) are carried over, above or below the files as they stood."""
    fresh = IncludeLazyConfig("beets", "beets")
    fresh.read(user=True, defaults=True)  # raises confuse.ConfigReadError on a bad file
    if config_file is not None:
        fresh.set_file(config_file)
    above: list = []
    below: list = []
    files_seen = False
    for source in config.sources:
        if getattr(source, "filename", None):
            files_seen = True
        else:
            (below if files_seen else above).append(source)
    fresh.sources[:0] = above
    fresh.sources += [s for s in below if s not in fresh.sources]  # no pile-up over reloads
    return fresh


def swap_config(fresh: confuse.Configuration) -> list:
    """Make `fresh` beets' one config (every reader holds `beets.config`, so its sources are
    replaced in place); returns the old sources, to put back with `restore_config`."""
    old = list(config.sources)
    config.sources[:] = fresh.sources
    return old


def restore_config(sources: list) -> None:
    config.sources[:] = sources


@dataclass(frozen=True)
class Places:
    """Where a running daemon works. A reload may not move them: the store's lock, the
    playlists already written and the catch-up all belong to these; they change on restart."""

    library_root: Path
    playlist_dir: Path
    store: Path

    def changes(self, new: Places) -> list[str]:
        """What `new` moves, as 'the X (old -> new)'."""
        return [f"the {what} ({a} -> {b})"
                for what, a, b in (("library folder", self.library_root, new.library_root),
                                   ("playlist folder", self.playlist_dir, new.playlist_dir),
                                   ("store", self.store, new.store)) if a != b]


def places_from_config(root: confuse.Configuration = config) -> Places:
    """The folders and store the config names, as the core will compute them. Raises UserError
    with one line for a bad value."""
    s = settings_from_beets(root, who="clusterd")
    return Places(s.library_root, s.playlist_dir.absolute(), s.store.absolute())


def options_from_config(root: confuse.Configuration = config, *,
                        poll: bool | None = None) -> DaemonOptions:
    """The DaemonOptions of a beets config (the running one by default). Raises confuse.ConfigError
    with a clear line."""
    view = root["cluster"]
    try:  # the one table's ranges (read_view adds the defaults), before the daemon's reading
        values = read_view(view)
        check_ranges({key: values[key] for key in DAEMON_KEYS})
    except ValueError as exc:
        raise confuse.ConfigValueError(f"clusterd: bad configuration: {exc}") from None
    roots = [Path(root["directory"].as_filename())]
    roots += [Path(p).expanduser().absolute() for p in view["watch_dirs"].as_str_seq()]
    quiet_seconds = float(view["quiet_seconds"].as_number())
    max_wait_seconds = float(view["max_wait_seconds"].as_number())
    recluster_after = view["recluster_after"].get(int)
    # each is > 0 by the table's ranges; this is how they relate
    if max_wait_seconds < quiet_seconds:
        raise confuse.ConfigValueError(
            "cluster.quiet_seconds must be > 0 and cluster.max_wait_seconds >= it"
        )
    return DaemonOptions(
        roots=tuple(dict.fromkeys(roots)),  # de-duplicated, order kept
        poll=view["poll"].get(bool) if poll is None else poll,
        poll_interval=float(view["poll_interval"].as_number()),
        quiet_seconds=quiet_seconds,
        max_wait_seconds=max_wait_seconds,
        recluster_after=recluster_after,
        radio=view["radio"].get(bool),
    )
