"""`clusterd` with the recording fake core, as a process: for tests and the soak script.

    PYTHONPATH=<repo>:<repo>/daemon python tests/helpers/run_fake_clusterd.py [clusterd options]

The installed daemon always runs the real core; this launcher hands `main` the fake one.
"""

from __future__ import annotations

import sys

from clusterd.__main__ import main
from fake_core import build  # this folder is sys.path[0] when run as a script

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:], factory=build))
