"""A real Dask cluster on 127.0.0.1 for the tests: `dask scheduler` and `dask worker`
processes (each worker under its nanny, as `dask worker` runs by default), on free ports the
scheduler picks itself (`--port 0`, the address read back from its scheduler file).

Each process leads its own process group, so teardown ends the nannies' worker processes too,
however the test ended; should the test process itself be killed, the scheduler ends after
two idle minutes and the workers once it is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def dask_cluster(folder: Path, workers: list[list[str]], *, allowed_failures: int = 1,
                 timeout: float = 60.0):
    """Yields (address, worker processes); `workers`: extra arguments for each `dask worker`
    (e.g. ["--resources", "GPU=1"]). `allowed_failures`: how many dying workers a task
    survives before the scheduler gives it up as KilledWorker."""
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    helpers = REPO / "tests" / "helpers"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(helpers)]),
           "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(allowed_failures),
           # one task per worker thread, none waiting there: a worker that dies takes down
           # only the file it was running, so an innocent file never shares a killer's fate
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
    started: list[subprocess.Popen] = []

    def start(module: str, *args: str, log: str) -> subprocess.Popen:
        with open(folder / log, "wb") as out:
            proc = subprocess.Popen([*_cli(module), *args], env=env, cwd=folder,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        started.append(proc)
        return proc

    try:
        # --idle-timeout: should pytest itself be killed, the scheduler goes after 2 idle
        # minutes, and its workers 20 s after it (--death-timeout)
        start("dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--idle-timeout", "120", "--scheduler-file", str(scheduler_file),
              log="scheduler.log")
        address = _wait_for_address(scheduler_file, started[0], timeout)
        procs = [start("dask_worker", address, "--host", "127.0.0.1", "--nworkers", "1",
                       "--nthreads", "1", "--no-dashboard", "--death-timeout", "20",
                       "--local-directory", str(folder / f"w{i}"), *extra, log=f"worker{i}.log")
                 for i, extra in enumerate(workers)]
        _wait_for_workers(address, len(workers), timeout, folder)
        yield address, procs
    finally:
        for proc in reversed(started):
            _end_group(proc)


def worker_pids(client) -> dict[str, int]:
    """Worker address -> the pid of its worker process (the nanny's child)."""
    return client.run(os.getpid)


def our_tasks(dask_scheduler) -> list[str]:
    """The analysis tasks the scheduler holds. It runs in the scheduler (`run_on_scheduler`),
    which imports it by module name: hence here, on the processes' PYTHONPATH, not in a test."""
    return [k for k in dask_scheduler.tasks if str(k).startswith("beets-cluster-analyse")]


def _cli(module: str) -> list[str]:
    return [sys.executable, "-m", f"distributed.cli.{module}"]


def _wait_for_address(scheduler_file: Path, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {proc.returncode}")
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (FileNotFoundError, ValueError, KeyError):  # not written yet, or half written
            time.sleep(0.1)
    raise RuntimeError("dask scheduler did not start")


def _wait_for_workers(address: str, n: int, timeout: float, folder: Path) -> None:
    from distributed import Client

    with Client(address, timeout=10, set_as_default=False) as client:
        try:
            client.wait_for_workers(n, timeout=timeout)
        except TimeoutError:
            logs = "\n".join(p.read_text()[-2000:] for p in sorted(folder.glob("worker*.log")))
            raise RuntimeError(f"{n} dask workers did not start:\n{logs}") from None


def _end_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass  # the whole group is gone
        try:
            proc.wait(timeout=wait)
            if sig == signal.SIGTERM:
                _kill_stragglers(proc.pid)
            return
        except subprocess.TimeoutExpired:
            continue


def _kill_stragglers(pgid: int) -> None:
    """A nanny that exited may leave its worker process behind for a moment."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
