"""Analysis worker processes that never outlive the run that started them.

However the main process ends (Ctrl-C, SIGTERM, an exception, kill -9), its workers go with
it: on an exception they are killed at once (what they hold is not wanted any more), and each
worker dies when its parent does (Linux: PR_SET_PDEATHSIG; elsewhere a thread that watches
the parent's pid). multiprocessing's resource tracker then exits by itself: its pipe closes.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@contextmanager
def running_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool for the block; leaving it by an exception kills the workers at once."""
    ctx = multiprocessing.get_context("spawn")  # fork after BLAS/torch threads start is unsafe
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:  # GeneratorExit and KeyboardInterrupt included
        kill_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def kill_workers(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor.kill_workers() exists from Python 3.14 only.
    kill = getattr(pool, "kill_workers", None)
    if kill is not None:
        kill()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.kill()
        except (OSError, ValueError):  # already gone, or closed
            pass


def _init_worker(parent: int) -> None:
    from threadpoolctl import threadpool_limits

    _die_with(parent)
    # Ctrl-C reaches the whole process group; the parent ends the workers itself, so a worker
    # that is idle prints no traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One BLAS thread per worker: N single-threaded workers beat one N-threaded one.
    threadpool_limits(1)
    os.environ["OMP_NUM_THREADS"] = "1"


def _die_with(parent: int) -> None:
    """End this process when `parent` ends, however it ends."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # it died before the call: no signal will come
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
