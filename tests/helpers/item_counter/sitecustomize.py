"""Counts the beets Items a `beet` process builds, for tests/front_ends/test_big_library.py: on the
PYTHONPATH of a subprocess, Python imports this at start-up; the count goes to the file
$ITEM_COUNT_FILE at exit."""

import atexit
import os
from pathlib import Path

from beets import library

_built = 0
_init = library.Item.__init__


def _counting_init(self, *args, **kwargs):
    global _built
    _built += 1
    _init(self, *args, **kwargs)


library.Item.__init__ = _counting_init
atexit.register(lambda: Path(os.environ["ITEM_COUNT_FILE"]).write_text(str(_built)))
