"""What runs on a Dask worker: a task of one or more files, through the same per-file code as
the local pool (per_file.py), with this worker process's model, loaded once and kept."""

from __future__ import annotations

import dataclasses
import threading

from ..config import user_cache_dir
from .per_file import Batcher, Job, JobResult, analyse_file, worker_embedder

# decoder_output swaps file descriptor 2 for the whole process: two files decoded at once in
# one worker's threads would swap it over each other. One file at a time per worker process;
# run workers as `--nworkers N --nthreads 1`, as the local pool runs N single-threaded ones.
_one_at_a_time = threading.Lock()


def analyse_on_worker(jobs: list[Job]) -> tuple[str, list[JobResult]]:
    """(this worker's backend version, each file's result in the order sent). Cheap backends:
    each file decoded and embedded alone. Networks: the files' windows embedded together in
    the model's batches (the local path's Batcher)."""
    here = [_on_this_machine(j) for j in jobs]
    with _one_at_a_time:
        embedder = worker_embedder(here[0].backend, here[0].options)
        if here[0].embed_here:
            done = [analyse_file(j) for j in here]
        else:
            batcher = Batcher(embedder)
            done = [d for j in here for d in batcher.add(analyse_file(j))] + batcher.flush()
    # back in the order sent, each under the job as sent (the Batcher answers failures first)
    order = {j: i for i, j in enumerate(here)}
    done.sort(key=lambda d: order[d.job])
    return embedder.version, [dataclasses.replace(d, job=sent)
                              for d, sent in zip(done, jobs, strict=True)]


def _on_this_machine(job: Job) -> Job:
    """Converted weights go to this machine's cache, not the path the submitting machine's
    user has (musicnn converts its checkpoint once per machine)."""
    options = dict(job.options)
    if "cache_dir" not in options:
        return job
    options["cache_dir"] = user_cache_dir()
    return dataclasses.replace(job, options=tuple(sorted(options.items())))
