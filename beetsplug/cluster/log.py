"""The core's logger: beets' own `beets.cluster` logger, which formats with `{}` (str.format).

Under `beet`, the plugin's logger and `logging.getLogger("beets.cluster")` are one object, a
beets logger; outside beets (the daemon, scripts, tests) a plain logging call would make a
%-style one instead. Taking it from beets here makes `{}` the one style everywhere.
"""

from __future__ import annotations

from beets import logging as beets_logging


def get(name: str = "beets.cluster") -> beets_logging.Logger:
    return beets_logging.getLogger(name)


log = get()
