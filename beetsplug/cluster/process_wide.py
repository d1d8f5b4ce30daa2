"""What is process-wide, and why: the one place that says so. Everything else lives in objects
the core owns (the Library: its settings, store, embedder and playlist folder; the daemon's
handler: one Library, opened in the worker thread that calls it, since a SQLite connection
belongs to the thread that made it; its recluster uses that same Library).
tests/test_layout.py fails on module-level mutable state (a container, a lock, a cache, a
`global`) that is not named here.

Each entry: "module:name" -> why it cannot belong to an object the core owns.
"""

from __future__ import annotations

PROCESS_WIDE: dict[str, str] = {  # a constant table; the name says what it lists
    # An analysis worker process (the local pool's, or a Dask worker) keeps the model it loaded
    # across the tasks it is sent: the worker process, not a Library, is what lives that long.
    "beetsplug.cluster.analysis.per_file:_embedders":
        "a worker process's loaded models, kept across its tasks",
    "beetsplug.cluster.analysis.per_file:_embedders_lock":
        "a Dask worker runs tasks in threads: one model load per process",
    "beetsplug.cluster.analysis.per_file:_loads":
        "how many models this process made (tests check a model loads once)",
    # libmpg123 (built into soundfile's libsndfile, which never sets its quiet flag) prints
    # straight to file descriptor 2, which belongs to the process: decoder_output swaps it
    # around a decode. In a local pool's worker nothing else runs; where other threads run
    # (the daemon, a Dask worker), what they print meanwhile is passed on after the decode,
    # and Dask tasks take turns. Decoding in a separate single-threaded process instead was
    # tried (no slower, but Dask workers may not start processes): see issue 22's note.
    "beetsplug.cluster.analysis.dask_tasks:_one_at_a_time":
        "fd 2 is swapped for the whole process around a decode: one file at a time",
    # Caches of pure functions: what they hold is a function of the arguments alone.
    "beetsplug.cluster.output.paths:_relative_folder":
        "lru_cache of a pure function (a folder relative to another)",
    "beetsplug.cluster.embedders.feature_plan:spectral_plan":
        "lru_cache of a pure function (a sample rate's filter banks)",
}

# Not a name, so not checked by the test, and process-wide by the library's own design:
# output/file_tags.register_fields adds our fields to mediafile's MediaFile class (beets'
# `add_media_field` does the same inside beets); the daemon's direct writes need them.
