"""Turn files into stored vectors: decode in worker processes, embed, save in batches.

Cheap backends (hand-crafted) run whole inside each worker; network backends run once in this
process on windows batched across tracks while the workers decode the next files. At most
`2 * workers` files are in flight, so memory stays flat whatever the library size.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import embedders
from ..errors import AudioError
from ..log import log
from ..store import Analysis, Store
from .audio import decode_windows
from .decoder_output import decoder_output, log_decoder_output
from .worker_pool import running_pool

SAVE_EVERY_SECONDS = 2.0
EMBED_CHUNK = 32  # windows embedded at once in a worker: a long track's features in small steps


@dataclass(frozen=True)
class Job:
    """Everything a worker needs for one file; plain data so it pickles cheaply."""

    path: str
    size: int
    mtime: float
    item_id: int | None
    backend: str
    options: tuple  # backend constructor keywords, as sorted items
    sample_rate: int
    window_seconds: float
    padding_threshold: float
    max_windows: int
    embed_here: bool


@dataclass(frozen=True)
class Decoded:
    job: Job
    duration: float | None = None
    windows: np.ndarray | None = None  # raw audio windows, or window vectors if embedded here
    tags: np.ndarray | None = None
    error: str | None = None
    fingerprint: str | None = None
    decoder_said: tuple[str, ...] = ()  # what the C decoders printed, for the debug log


def run_jobs(jobs: list[Job], store: Store, embedder: embedders.Embedder, *, workers: int,
             keep_windows: bool,
             progress: Callable[[int], None] | None = None) -> list[tuple[str, str | None]]:
    """Analyse every job; returns (path, error or None) for each one saved.

    Only that is kept: vectors go to the store in batches and are dropped here.
    """
    saved: list[tuple[str, str | None]] = []
    pending: list[Analysis] = []
    last_save = time.monotonic()
    batcher = _Batcher(embedder) if jobs and not jobs[0].embed_here else None

    def finish(results: list[Decoded]) -> None:
        nonlocal last_save
        for r in results:
            a = _to_analysis(r, embedder, keep_windows)
            if a.error:  # the front end reports it (the run's summary, the daemon's log)
                log.debug("failed: {}: {}", a.path, a.error)
            pending.append(a)
            if progress:
                progress(1)
        if pending and (time.monotonic() - last_save > SAVE_EVERY_SECONDS or len(pending) >= 64):
            store.save(pending)
            saved.extend((a.path, a.error) for a in pending)
            pending.clear()
            last_save = time.monotonic()

    decoded_all = _decode_all(jobs, workers)
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
    return saved


def _decode_all(jobs: list[Job], workers: int) -> Iterator[Decoded]:
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


def _alone(job: Job) -> Decoded:
    with running_pool(1) as pool:
        try:
            return pool.submit(analyse_file, job).result()
        except BrokenProcessPool:
            return Decoded(job, error="the analysis process died on this file (decoder crash "
                                      "or out of memory)")


@lru_cache(maxsize=2)
def _worker_embedder(backend: str, options: tuple) -> embedders.Embedder:
    return embedders.create(backend, dict(options))


def analyse_file(job: Job) -> Decoded:
    """Decode (and, for cheap backends, embed) one file; a bad file is an error, not a crash.
    What the C decoders print meanwhile is kept for the log, never left on the terminal."""
    with decoder_output() as said:
        result = _analyse_file(job)
    return dataclasses.replace(result, decoder_said=tuple(said)) if said else result


def _analyse_file(job: Job) -> Decoded:
    try:
        audio = decode_windows(job.path, job.sample_rate, job.window_seconds,
                               job.padding_threshold, job.max_windows)
        fp = audio.fingerprint
        if not job.embed_here:
            return Decoded(job, audio.duration, audio.windows, fingerprint=fp)
        vectors, tags = _embed_in_chunks(_worker_embedder(job.backend, job.options),
                                         audio.windows)
        return Decoded(job, audio.duration, vectors, tags, fingerprint=fp)
    except AudioError as exc:
        return Decoded(job, error=str(exc))
    except (ValueError, RuntimeError, OSError, MemoryError) as exc:  # decoder/library faults
        return Decoded(job, error=f"analysis failed: {type(exc).__name__}: {exc}")


def _embed_in_chunks(embedder: embedders.Embedder,
                     windows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Window by window the same vectors as one call, without one call's memory for many."""
    parts = [embedder.embed(windows[i : i + EMBED_CHUNK])
             for i in range(0, len(windows), EMBED_CHUNK)]
    vectors = np.concatenate([p.vectors for p in parts])
    tags = None if parts[0].tags is None else np.concatenate([p.tags for p in parts])
    return vectors, tags


class _Batcher:
    """Collects decoded windows of several tracks and embeds them in model-sized batches."""

    def __init__(self, embedder: embedders.Embedder):
        self.embedder = embedder
        self.queue: list[Decoded] = []
        self.size = 0

    def add(self, d: Decoded) -> list[Decoded]:
        if d.error:
            return [d]
        self.queue.append(d)
        self.size += len(d.windows)
        return self.flush() if self.size >= self.embedder.batch_windows else []

    def flush(self) -> list[Decoded]:
        if not self.queue:
            return []
        queue, self.queue, self.size = self.queue, [], 0
        try:
            out = self.embedder.embed(np.concatenate([d.windows for d in queue]))
        except (ValueError, RuntimeError) as exc:
            return [Decoded(d.job, error=f"model failed: {exc}") for d in queue]
        bounds = np.cumsum([0] + [len(d.windows) for d in queue])
        return [Decoded(d.job, d.duration, out.vectors[a:b],
                        None if out.tags is None else out.tags[a:b], fingerprint=d.fingerprint)
                for d, a, b in zip(queue, bounds[:-1], bounds[1:])]


def _to_analysis(r: Decoded, embedder: embedders.Embedder, keep_windows: bool) -> Analysis:
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
