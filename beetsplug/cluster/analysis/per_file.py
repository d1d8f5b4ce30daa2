"""What one file's analysis is, wherever it runs: a local worker process or a Dask worker.

`analyse_file` decodes (and, for cheap backends, embeds) one file; `Batcher` embeds decoded
windows of several files in model-sized batches. Both places call these, so a vector is the
same whichever ran it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .. import embedders
from ..errors import AudioError, UnreadableError
from .audio import decode_windows
from .decoder_output import decoder_output

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
class JobResult:
    job: Job
    duration: float | None = None
    windows: np.ndarray | None = None  # raw audio windows, or window vectors if embedded here
    tags: np.ndarray | None = None
    error: str | None = None  # the audio cannot be analysed: recorded, not retried
    unreadable: str | None = None  # the file cannot be read (permission, I/O): not recorded
    fingerprint: str | None = None
    decoder_said: tuple[str, ...] = ()  # what the C decoders printed, for the debug log


_embedders: dict[tuple[str, tuple], embedders.Embedder] = {}
_embedders_lock = threading.Lock()  # a Dask worker runs tasks in threads: load a model once
_loads: Counter[str] = Counter()  # backend name -> models made in this process


def worker_embedder(backend: str, options: tuple) -> embedders.Embedder:
    """The backend for this process, made on first use and kept: a model loads once per
    worker process, however many files it analyses."""
    key = (backend, options)
    with _embedders_lock:
        if key not in _embedders:
            if len(_embedders) >= 2:  # a run uses one backend; do not hoard old models
                _embedders.clear()
            _embedders[key] = embedders.create(backend, dict(options))
            _loads[backend] += 1
        return _embedders[key]


def models_loaded() -> dict[str, int]:
    """How many times this process has made each backend (the tests ask Dask workers)."""
    return dict(_loads)


def analyse_file(job: Job) -> JobResult:
    """Decode (and, for cheap backends, embed) one file; a bad file is an error, not a crash.
    What the C decoders print meanwhile is kept for the log, never left on the terminal."""
    with decoder_output() as said:
        result = _analyse_file(job)
    return dataclasses.replace(result, decoder_said=tuple(said)) if said else result


def _analyse_file(job: Job) -> JobResult:
    try:
        audio = decode_windows(job.path, job.sample_rate, job.window_seconds,
                               job.padding_threshold, job.max_windows)
        fp = audio.fingerprint
        if not job.embed_here:
            return JobResult(job, audio.duration, audio.windows, fingerprint=fp)
        vectors, tags = _embed_in_chunks(worker_embedder(job.backend, job.options),
                                         audio.windows)
        return JobResult(job, audio.duration, vectors, tags, fingerprint=fp)
    except AudioError as exc:
        return JobResult(job, error=str(exc))
    except (UnreadableError, OSError) as exc:  # the file, not its audio: tried again next run
        return JobResult(job, unreadable=str(exc) if isinstance(exc, UnreadableError)
                       else f"cannot read file: {exc.strerror or exc}")
    except (ValueError, RuntimeError, MemoryError) as exc:  # decoder/library faults
        return JobResult(job, error=f"analysis failed: {type(exc).__name__}: {exc}")


def _embed_in_chunks(embedder: embedders.Embedder,
                     windows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Window by window the same vectors as one call, without one call's memory for many."""
    parts = [embedder.embed(windows[i : i + EMBED_CHUNK])
             for i in range(0, len(windows), EMBED_CHUNK)]
    vectors = np.concatenate([p.vectors for p in parts])
    tags = None if parts[0].tags is None else np.concatenate([p.tags for p in parts])
    return vectors, tags


class Batcher:
    """Collects decoded windows of several tracks and embeds them in model-sized batches."""

    def __init__(self, embedder: embedders.Embedder):
        self.embedder = embedder
        self.queue: list[JobResult] = []
        self.size = 0

    def add(self, d: JobResult) -> list[JobResult]:
        if d.error or d.unreadable:
            return [d]
        self.queue.append(d)
        self.size += len(d.windows)
        return self.flush() if self.size >= self.embedder.batch_windows else []

    def flush(self) -> list[JobResult]:
        if not self.queue:
            return []
        queue, self.queue, self.size = self.queue, [], 0
        try:
            out = self.embedder.embed(np.concatenate([d.windows for d in queue]))
        except (ValueError, RuntimeError) as exc:
            return [JobResult(d.job, error=f"model failed: {exc}") for d in queue]
        bounds = np.cumsum([0] + [len(d.windows) for d in queue])
        return [JobResult(d.job, d.duration, out.vectors[a:b],
                        None if out.tags is None else out.tags[a:b], fingerprint=d.fingerprint)
                for d, a, b in zip(queue, bounds[:-1], bounds[1:])]
