"""`clusterd` / `python -m clusterd`: run the watcher with the beets config."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import confuse
from beets.ui import UserError

from beetsplug.cluster import log as cluster_log
from clusterd import lock as daemon_lock
from clusterd.config import (
    fresh_config,
    options_from_config,
    places_from_config,
    read_config,
    restore_config,
    swap_config,
)
from clusterd.service import DaemonOptions, Service
from clusterd.worker import CoreBinding, Handler

log = cluster_log.get("clusterd")

Factory = Callable[[DaemonOptions], CoreBinding]
CONFIG_ERRORS = (confuse.ConfigError, UserError)


def core_factory() -> Factory:
    """The real core: the only one the command line runs (tests pass theirs to `main`)."""
    from clusterd.handler import build  # beets and the core load once options parse

    return build


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="clusterd", description=__doc__)
    p.add_argument("-c", "--config", type=Path, help="an extra beets config file")
    p.add_argument("--poll", action="store_true", default=None, help="poll (network shares)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p.parse_args(argv)


# -v is for what the daemon and beets do: other libraries' records below WARNING are dropped
# (numba alone logs every function it compiles, pages of IR). A filter on the one handler, not
# logger levels: the level of a logger another library made first would not hold.
VERBOSE_LOGGERS = ("clusterd", "beets")


def _ours_or_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.split(".")[0] in VERBOSE_LOGGERS


def setup_logging(verbose: bool) -> None:
    cluster_log.outside_beets()
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_ours_or_warning)


def main(
    argv: Sequence[str] | None = None, *, factory: Factory | None = None, config_read: bool = False
) -> int:
    """`config_read`: beets has read the config already (`beet clusterd`): keep it as it is at
    start (command-line overrides included); SIGHUP still re-reads the files."""
    args = parse_args(argv)
    setup_logging(args.verbose)
    try:
        make = factory or core_factory()
        if not config_read:
            read_config(args.config)
        options = options_from_config(poll=args.poll)
        places = places_from_config()
        lock = daemon_lock.hold(places.store)
        core = make(options)
    except CONFIG_ERRORS as exc:
        log.error("{}", exc)
        return 2

    def reload() -> Handler | None:
        """The config read into a fresh root and swapped in only when it is good: a config
        that does not parse, or is gone, leaves the running one whole."""
        try:
            fresh = fresh_config(args.config)
            new = options_from_config(fresh, poll=args.poll)
            moved = places.changes(places_from_config(fresh))
        except CONFIG_ERRORS as exc:
            log.error("reload failed, keeping the old configuration: {}", exc)
            return None
        if moved:
            log.error("reload refused, keeping the old configuration: it would change {} "
                      "(that takes a restart)", " and ".join(moved))
            return None
        if (new.roots, new.poll, new.quiet_seconds, new.max_wait_seconds) != (
            options.roots,
            options.poll,
            options.quiet_seconds,
            options.max_wait_seconds,
        ):
            log.warning("watched folders and timings change only on restart")
        old = swap_config(fresh)
        try:
            handler = make(new).handler
        except CONFIG_ERRORS as exc:
            restore_config(old)
            log.error("reload failed, keeping the old configuration: {}", exc)
            return None
        service.worker.recluster_after = new.recluster_after  # we run in the worker thread
        return handler

    service = Service(options, core.handler, errors=core.errors, reload=reload)
    radio = None
    if options.radio:  # read at start: a reload does not start or stop it
        from clusterd import radio as daemon_radio

        radio = daemon_radio.start(getattr(core.handler, "lib", None), service.stop_event)
    try:
        return service.run()
    finally:
        if radio is not None:
            service.stop_event.set()  # a worker failure ends run() without it
            daemon_radio.stop(radio)
        os.close(lock)


if __name__ == "__main__":
    raise SystemExit(main())
