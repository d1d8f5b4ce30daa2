"""What each file's analysis job carries: the backend, its window and the window cap."""

from __future__ import annotations

import os

from .. import embedders
from ..config import Settings
from .audio import window_cap
from .per_file import Job


def make_jobs(files: list[tuple[str, os.stat_result, int | None]], s: Settings,
              emb: embedders.Embedder, options: dict, durations: list[float]) -> list[Job]:
    """One Job per (path, stat, beets id). `durations`: the library's track lengths, for the
    window cap when no fixed `max_windows` is set."""
    cap = s.max_windows or window_cap(durations, emb.window_seconds, s.window_quantile)
    if s.max_windows is None and emb.max_windows is not None:  # a user's cap stands as set
        cap = min(cap, emb.max_windows)
    opts = tuple(sorted(options.items()))
    in_workers = embedders.runs_in_workers(s.backend)
    return [Job(path, st.st_size, st.st_mtime, item_id, emb.name, opts, emb.sample_rate,
                emb.window_seconds, s.padding_threshold, cap, in_workers)
            for path, st, item_id in files]


def kept_seconds(job: Job, duration: float) -> float:
    """The audio a track of `duration` seconds gives its analysis: at most its window cap."""
    return min(duration, job.max_windows * job.window_seconds)
