"""The daemon's options from the beets config (`cluster:` section); the only place it is read."""

from __future__ import annotations

from pathlib import Path

import confuse
from beets import config

from beetsplug.cluster.config import DAEMON_KEYS, DEFAULTS, check_ranges
from clusterd.service import Options


def read_config(config_file: Path | None = None) -> None:
    """(Re-)read the beets config files, as `beet` does, plus an optional extra file."""
    config.clear()
    config.read(user=True, defaults=True)
    if config_file is not None:
        config.set_file(config_file)
    add_defaults()


def add_defaults() -> None:
    """Every option's default (the one table), for a config read by someone else."""
    config["cluster"].add(DEFAULTS)


def options_from_config(*, poll: bool | None = None) -> Options:
    """Options from the current beets config. Raises confuse.ConfigError with a clear line."""
    view = config["cluster"]
    try:  # the one table's ranges, before the daemon's own reading of its options
        check_ranges({key: view[key].get() for key in DAEMON_KEYS})
    except ValueError as exc:
        raise confuse.ConfigValueError(f"clusterd: bad configuration: {exc}") from None
    roots = [Path(config["directory"].as_filename())]
    roots += [Path(p).expanduser().absolute() for p in view["watch_dirs"].as_str_seq()]
    quiet = float(view["quiet_seconds"].as_number())
    max_wait = float(view["max_wait_seconds"].as_number())
    recluster_after = view["recluster_after"].get(int)
    if quiet <= 0 or max_wait < quiet:
        raise confuse.ConfigValueError(
            "cluster.quiet_seconds must be > 0 and cluster.max_wait_seconds >= it"
        )
    if recluster_after < 0:
        raise confuse.ConfigValueError("cluster.recluster_after must be >= 0 (0 = never)")
    return Options(
        roots=tuple(dict.fromkeys(roots)),  # de-duplicated, order kept
        poll=view["poll"].get(bool) if poll is None else poll,
        poll_interval=float(view["poll_interval"].as_number()),
        quiet=quiet,
        max_wait=max_wait,
        recluster_after=recluster_after,
    )
