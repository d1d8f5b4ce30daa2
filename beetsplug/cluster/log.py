"""The core's logger: beets' own `beets.cluster` logger, which formats with `{}` (str.format).

Under `beet`, the plugin's logger and `logging.getLogger("beets.cluster")` are one object, a
beets logger; outside beets (the daemon, scripts, tests) a plain logging call would make a
%-style one instead. Taking it from beets here makes `{}` the one style everywhere.
"""

from __future__ import annotations

import logging

from beets import logging as beets_logging


def get(name: str = "beets.cluster") -> beets_logging.Logger:
    return beets_logging.getLogger(name)


log = get()


def outside_beets() -> None:
    """In a process that is not `beet` (the daemon, a script), beets' loggers go through the
    process's own root handlers: beets before 2.14 gives its `beets` logger a stderr handler of
    its own and stops it propagating, which would bypass the process's format and filters."""
    beets_logger = logging.getLogger("beets")
    for handler in list(beets_logger.handlers):
        beets_logger.removeHandler(handler)
    beets_logger.propagate = True
