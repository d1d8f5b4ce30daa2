"""Turn files into stored vectors: decode in worker processes, embed, save in batches.

Cheap backends (hand-crafted) run whole inside each worker; network backends run once in this
process on windows batched across tracks while the workers decode the next files. At most
`2 * workers` files are in flight, so memory stays flat whatever the library size. With a Dask
scheduler (dask_pool.py) its workers decode and embed; this process still writes the store.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from .. import embedders
from ..config import DaskTarget
from ..log import log
from ..store import Analysis, Store
from .dask_pool import decoded_on_dask
from .decoder_output import log_decoder_output
from .jobs import kept_seconds
from .per_file import Batcher, Job, JobResult, analyse_file
from .worker_pool import running_pool

__all__ = ["Job", "JobResult", "analyse_file", "run_jobs"]

SAVE_EVERY_SECONDS = 2.0


@dataclass
class Outcome:
    """What a batch of jobs came to: (path, error or None) for each file saved, and the files
    that could not be read (not saved: tried again on the next run)."""

    saved: list[tuple[str, str | None]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def run_jobs(jobs: list[Job], store: Store, embedder: embedders.Embedder, *, workers: int,
             keep_windows: bool, tick: Callable[[float], None] | None = None,
             dask: DaskTarget | None = None) -> Outcome:
    """Analyse every job, here or on a Dask cluster.

    Only the outcome is kept: vectors go to the store in batches and are dropped here.
    """
    outcome = Outcome()
    saved = outcome.saved
    pending: list[Analysis] = []
    last_save = time.monotonic()
    # on Dask the workers embed too: only vectors come back
    batcher = Batcher(embedder) if jobs and not jobs[0].embed_here and not dask else None

    def finish(results: list[JobResult]) -> None:
        nonlocal last_save
        for r in results:
            if r.unreadable:  # a permission or I/O fault, not the audio's: nothing recorded
                outcome.unreadable.append((r.job.path, r.unreadable))
                if tick:
                    tick(0.0)
                continue
            a = _to_analysis(r, embedder, keep_windows)
            if a.error:  # the front end reports it (the run's summary, the daemon's log)
                log.debug("failed: {}: {}", a.path, a.error)
            pending.append(a)
            if tick:
                tick(kept_seconds(r.job, r.duration or 0.0))
        if pending and (time.monotonic() - last_save > SAVE_EVERY_SECONDS or len(pending) >= 64):
            store.save(pending)
            saved.extend((a.path, a.error) for a in pending)
            pending.clear()
            last_save = time.monotonic()

    decoded_all = (decoded_on_dask(jobs, dask, embedder) if dask
                   else _decode_all(jobs, workers))
    try:
        for decoded in decoded_all:
            # here, not in the worker: only this process has the front end's log handlers
            log_decoder_output(decoded.job.path, decoded.decoder_said)
            finish(batcher.add(decoded) if batcher else [decoded])
        if batcher:
            finish(batcher.flush())
    finally:  # Ctrl-C, SIGTERM, a fault: what finished is kept, so the next run resumes here
        decoded_all.close()  # ends the workers now, not when the generator is collected
        store.save(pending)
        saved.extend((a.path, a.error) for a in pending)
    return outcome


def _decode_all(jobs: list[Job], workers: int) -> Iterator[JobResult]:
    if workers <= 1 or len(jobs) < 4:
        for job in jobs:
            yield analyse_file(job)
        return
    todo = deque(jobs)
    while todo:
        with running_pool(workers) as pool:
            in_flight: deque[tuple[Job, Future]] = deque()
            try:
                while todo or in_flight:
                    while todo and len(in_flight) < 2 * workers:
                        job = todo.popleft()
                        in_flight.append((job, pool.submit(analyse_file, job)))
                    result = in_flight[0][1].result()
                    in_flight.popleft()
                    yield result
            except BrokenProcessPool:
                # A worker died (a decoder crash, the OOM killer): each file it may have held
                # runs alone in a fresh process, so only the one that kills it again is marked
                # failed.
                log.warning("an analysis process died; retrying its {} files one by one",
                            len(in_flight))
                for job, _ in in_flight:
                    yield _alone(job)


def _alone(job: Job) -> JobResult:
    with running_pool(1) as pool:
        try:
            return pool.submit(analyse_file, job).result()
        except BrokenProcessPool:
            return JobResult(job, error="the analysis process died on this file (decoder crash "
                                      "or out of memory)")


def _to_analysis(r: JobResult, embedder: embedders.Embedder, keep_windows: bool) -> Analysis:
    j = r.job
    base = {"path": j.path, "size": j.size, "mtime": j.mtime, "backend": j.backend,
            "version": embedder.version, "item_id": j.item_id, "duration": r.duration}
    if r.error:
        return Analysis(**base, error=r.error)
    vectors = np.asarray(r.windows, dtype=np.float32)
    if not np.isfinite(vectors).all():
        return Analysis(**base, error="analysis gave non-finite values")
    tags = None if r.tags is None else np.asarray(r.tags, dtype=np.float32).mean(axis=0)
    return Analysis(**base, vector=embedder.pool(vectors), tags=tags,
                    windows=vectors if keep_windows else None, fingerprint=r.fingerprint)
