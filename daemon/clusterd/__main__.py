"""`clusterd` / `python -m clusterd`: run the watcher with the beets config."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import confuse
from beets.ui import UserError

from beetsplug.cluster import log as cluster_log
from clusterd.config import add_defaults, options_from_config, read_config
from clusterd.service import Options, Service
from clusterd.worker import CoreBinding, Handler

log = cluster_log.get("clusterd")

Factory = Callable[[Options], CoreBinding]
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


def main(
    argv: Sequence[str] | None = None, *, factory: Factory | None = None, config_read: bool = False
) -> int:
    """`config_read`: beets has read the config already (`beet clusterd`): keep it as it is at
    start (command-line overrides included); SIGHUP still re-reads the files."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        make = factory or core_factory()
        if config_read:
            add_defaults()
        else:
            read_config(args.config)
        options = options_from_config(poll=args.poll)
        core = make(options)
    except CONFIG_ERRORS as exc:
        log.error("{}", exc)
        return 2

    def reload() -> Handler | None:
        try:
            read_config(args.config)
            new = options_from_config(poll=args.poll)
            if (new.roots, new.poll, new.quiet, new.max_wait) != (
                options.roots,
                options.poll,
                options.quiet,
                options.max_wait,
            ):
                log.warning("watched folders and timings change only on restart")
            handler = make(new).handler
            service.worker.recluster_after = new.recluster_after  # we run in the worker thread
            return handler
        except CONFIG_ERRORS as exc:
            log.error("reload failed, keeping the old configuration: {}", exc)
            return None

    service = Service(options, core.handler, errors=core.errors, reload=reload)
    return service.run()


if __name__ == "__main__":
    raise SystemExit(main())
