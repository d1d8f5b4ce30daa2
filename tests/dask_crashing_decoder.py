"""`dask worker --preload dask_crashing_decoder` (tests only): a file whose name holds
"kills-workers" ends the worker process as it is decoded, as a decoder crash or the OOM killer
would; every other file is analysed by the real code."""

from __future__ import annotations

import os

from beetsplug.cluster.analysis import per_file

CRASH_MARK = "kills-workers"
_real = per_file._analyse_file


def _crash_on_marked(job: per_file.Job) -> per_file.Decoded:
    if CRASH_MARK in os.path.basename(job.path):
        os._exit(1)  # no exception, no cleanup: the process is simply gone
    return _real(job)


per_file._analyse_file = _crash_on_marked
