"""The files' analysis on an existing Dask cluster: tasks out, JobResult results back here.

This process submits a bounded window of tasks and takes results as they complete; the store
is written here only (run_jobs). A worker that dies takes nothing with it: the scheduler runs
its tasks again on another worker. A task that has been on `allowed-failures` + 1 dying
workers (3 + 1 by default) comes back as KilledWorker: a file that kills workers is recorded
as failed, not retried forever.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import CancelledError

from ..config import DaskTarget
from ..embedders import Embedder
from ..errors import DaskError
from ..log import log
from .dask_client import connect, gpu_slots, worker_threads
from .dask_tasks import analyse_on_worker
from .per_file import Job, JobResult

TASKS_PER_THREAD = 2  # in flight: each worker thread has its next task waiting
MAX_FILES_PER_TASK = 16
RECOUNT_SECONDS = 10.0  # workers that join mid-run get work too
KILLED = ("every Dask worker that ran this file died (a decoder crash or out of memory; the "
          "scheduler's allowed-failures are used up); not retried until it changes")


def decoded_on_dask(jobs: list[Job], target: DaskTarget,
                    embedder: Embedder) -> Iterator[JobResult]:
    """Each job's result, in the order they finish. Network backends go to GPU workers where
    there are any, several files per task so that the model sees full batches. A worker whose
    backend version is not this machine's stops the run: vectors of two versions never mix."""
    if not jobs:
        return
    client = connect(target)
    try:
        network = not jobs[0].embed_here
        resources = {"GPU": 1} if network and gpu_slots(client) else None
        per_task = _files_per_task(jobs[0], embedder.batch_windows) if network else 1
        log.info("analysing {} files on the Dask scheduler {} ({} worker threads{})",
                 len(jobs), target.address, worker_threads(client),
                 f", {gpu_slots(client)} on GPUs" if resources else "")
        yield from _run(client, jobs, target, per_task, resources, embedder.version)
    finally:
        client.close()  # its futures go with it: an interrupted run leaves no work behind


def _run(client, jobs: list[Job], target: DaskTarget, per_task: int, resources: dict | None,
         version: str) -> Iterator[JobResult]:
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    todo = deque(jobs[i : i + per_task] for i in range(0, len(jobs), per_task))
    owners: dict = {}  # future -> the local jobs it holds
    running = as_completed(loop=client.loop)  # not the default client: we set none
    limit, counted = _in_flight(client, resources), time.monotonic()

    def submit(batch: list[Job]) -> None:
        remote = [dataclasses.replace(j, path=target.path_map.to_worker(j.path)) for j in batch]
        future = client.submit(analyse_on_worker, remote, pure=False, resources=resources,
                               key=f"beets-cluster-analyse-{uuid.uuid4().hex}")
        owners[future] = batch
        running.add(future)

    def top_up() -> None:
        nonlocal limit, counted
        if time.monotonic() - counted > RECOUNT_SECONDS:
            limit, counted = _in_flight(client, resources), time.monotonic()
        while todo and len(owners) < max(limit, 1):
            submit(todo.popleft())

    top_up()
    for future in running:
        batch = owners.pop(future)
        try:
            # a result lost with its worker after it finished runs again: result() waits
            theirs, results = future.result()
        except KilledWorker:
            if len(batch) > 1:  # which of them kills workers? each alone tells
                todo.extendleft([j] for j in reversed(batch))
            else:
                yield JobResult(batch[0], error=KILLED)
        except CancelledError as exc:
            raise DaskError(f"the Dask scheduler {target.address} cancelled the analysis "
                            "(was it restarted?); what finished is kept") from exc
        except Exception as exc:  # the task's own exception comes back as whatever it was
            if future.status != "error":  # not the task's: the connection's, or ours
                raise
            for job in batch:
                yield JobResult(job, error=f"analysis failed on a Dask worker: "
                                         f"{type(exc).__name__}: {exc}")
        else:
            if theirs != version:
                raise DaskError(f"a Dask worker computes {batch[0].backend} vectors as version "
                                f"{theirs}, this machine as {version}: install the same "
                                "beets-cluster on the workers")
            yield from _as_local(results, batch)
        top_up()


def _in_flight(client, resources: dict | None) -> int:
    """Tasks to have out at once. GPU tasks: one per GPU slot. The scheduler holds back
    unrestricted tasks until a worker is free, but hands tasks that need a resource to the
    workers at once, where a file that kills its worker would take the waiting ones down with
    it (and, after allowed-failures deaths, make them failures too)."""
    if resources:
        return gpu_slots(client)
    return TASKS_PER_THREAD * worker_threads(client)


def _files_per_task(job: Job, batch_windows: int) -> int:
    """Enough files that their windows (at most max_windows each) fill about one batch."""
    return max(1, min(MAX_FILES_PER_TASK, batch_windows // max(job.max_windows, 1)))


def _as_local(results: list[JobResult], batch: list[Job]) -> Iterator[JobResult]:
    """The worker's results (in the order sent) under the local jobs: the store's paths."""
    for r, local in zip(results, batch, strict=True):
        yield dataclasses.replace(r, job=local)
