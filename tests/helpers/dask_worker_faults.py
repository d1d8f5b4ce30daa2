"""`dask worker --preload dask_worker_faults` (tests only): faults a real worker can have.

- A file whose name holds "kills-workers" ends the worker process as it is decoded, as a
  decoder crash or the OOM killer would; every other file is analysed by the real code.
- `other_code(True)`, sent with `client.run`, makes this worker compute vectors under another
  backend version, as a worker with another beets-cluster installed would.
"""

from __future__ import annotations

import copy
import os

from beetsplug.cluster.analysis import dask_tasks, per_file

CRASH_MARK = "kills-workers"
_real = per_file._analyse_file


def _crash_on_marked(job: per_file.Job) -> per_file.JobResult:
    if CRASH_MARK in os.path.basename(job.path):
        os._exit(1)  # no exception, no cleanup: the process is simply gone
    return _real(job)


def other_code(on: bool) -> None:
    def other_version(backend: str, options: tuple):
        embedder = copy.copy(per_file.worker_embedder(backend, options))
        embedder.version = f"{embedder.version}-other"
        return embedder

    dask_tasks.worker_embedder = other_version if on else per_file.worker_embedder


per_file._analyse_file = _crash_on_marked
